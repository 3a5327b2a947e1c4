import { useTranslation } from "react-i18next";
import { Dialog } from "../../ui/Dialog";

export interface ConfirmDialogProps {
  title: string;
  body: string;
  confirm: string;
  onConfirm(): void;
  onClose(): void;
}

export function ConfirmDialog({ title, body, confirm, onConfirm, onClose }: ConfirmDialogProps) {
  const { t } = useTranslation();
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="button" className="primary" onClick={onConfirm}>
            {confirm}
          </button>
        </>
      }
    >
      <p>{body}</p>
    </Dialog>
  );
}
