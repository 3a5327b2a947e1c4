import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Dialog } from "../../ui/Dialog";

export interface EditDialogProps {
  initial: string;
  onSave(body: string): void;
  onClose(): void;
}

export function EditDialog({ initial, onSave, onClose }: EditDialogProps) {
  const { t } = useTranslation();
  const [text, setText] = useState(initial);
  return (
    <Dialog
      title={t("chat.editTitle")}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="button" className="primary" disabled={!text.trim() || text === initial} onClick={() => onSave(text)}>
            {t("common.save")}
          </button>
        </>
      }
    >
      <textarea className="edit-textarea" value={text} onChange={(e) => setText(e.target.value)} rows={4} aria-label={t("chat.editTitle")} />
    </Dialog>
  );
}
