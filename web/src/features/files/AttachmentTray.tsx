import { useTranslation } from "react-i18next";
import { UploadChip } from "./UploadChip";
import { type ArmedSend, type UploadItem, blockingUploads } from "./uploads";

export interface AttachmentTrayProps {
  items: readonly UploadItem[];
  armed: ArmedSend | null;
  onPause(localId: string): void;
  onResume(localId: string): void;
  onCancel(localId: string): void;
  onPickAgain(): void;
  onDisarm(): void;
}

/** The files waiting above the message box, and the send that waits for them. */
export function AttachmentTray({ items, armed, onPause, onResume, onCancel, onPickAgain, onDisarm }: AttachmentTrayProps) {
  const { t } = useTranslation();
  if (items.length === 0 && !armed) return null;
  return (
    <div className="attachment-tray">
      <ul className="upload-list" aria-label={t("files.tray")}>
        {items.map((item) => (
          <UploadChip
            key={item.localId}
            item={item}
            onPause={() => onPause(item.localId)}
            onResume={() => onResume(item.localId)}
            onCancel={() => onCancel(item.localId)}
            onPickAgain={onPickAgain}
          />
        ))}
      </ul>
      {blockingUploads(items).length > 0 ? (
        <p className="form-error tray-blocked" role="alert">
          {t("files.removeToSend")}
        </p>
      ) : null}
      {armed ? (
        <div className="armed-send" role="status">
          <span className="armed-text">
            {t("files.waitingToSend")}
            {armed.draft ? <span className="armed-caption">“{armed.draft}”</span> : null}
          </span>
          <button type="button" className="link-button" onClick={onDisarm}>
            {t("files.dontSend")}
          </button>
        </div>
      ) : null}
    </div>
  );
}
