import { useState, useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { errorText } from "../../lib/i18n";
import { Icon } from "../../ui/Icon";
import { FileIcon } from "./FileIcon";
import { FileName } from "./FileName";
import { formatBytes, formatProgress } from "./format";
import { kindOfType } from "./types";
import type { UploadItem } from "./uploads";

export interface UploadChipProps {
  item: UploadItem;
  onPause(): void;
  onResume(): void;
  onCancel(): void;
  onPickAgain(): void;
  /** Whether the browser is offline (defaults to following `navigator.onLine`); tests pass it. */
  offline?: boolean;
}

function subscribeOnline(onChange: () => void): () => void {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
}

/** Follows the browser's online state (re-renders when it changes). */
function useBrowserOffline(): boolean {
  return useSyncExternalStore(
    subscribeOnline,
    () => navigator.onLine === false,
    () => false,
  );
}


/** One file on its way: name, size, a progress bar, and pause / resume / remove. */
export function UploadChip({ item, onPause, onResume, onCancel, onPickAgain, offline: given }: UploadChipProps) {
  const followed = useBrowserOffline();
  const offline = given ?? followed;
  const { t, i18n } = useTranslation();
  const [previewFailed, setPreviewFailed] = useState(false);
  const percent = item.size > 0 ? Math.floor((item.sent / item.size) * 100) : item.state === "done" ? 100 : 0;
  const waitingForNetwork = item.state === "failed" && item.errorCode === "network_error" && offline;
  const failed = item.state === "failed" && !waitingForNetwork;
  let status: string;
  switch (item.state) {
    case "queued":
      status = t("files.queued");
      break;
    case "uploading":
      status = t("files.uploading", { percent });
      break;
    case "paused":
      status = t("files.paused");
      break;
    case "done":
      status = t("files.done");
      break;
    case "failed":
      // Offline, the upload goes on by itself once the browser is back online (UploadManager
      // .networkOnline): nothing failed that the user must act on.
      status = waitingForNetwork ? t("files.waitingForNetwork") : `${t("files.failed")}: ${errorText(t, item.errorCode)}`;
      break;
    case "interrupted":
      status = t("files.interrupted");
      break;
  }
  return (
    <li className={`upload-chip state-${waitingForNetwork ? "paused" : item.state}`} data-local-id={item.localId} data-state={item.state}>
      {item.previewUrl && !previewFailed ? (
        <img className="upload-preview" src={item.previewUrl} alt="" width={40} height={40} onError={() => setPreviewFailed(true)} />
      ) : (
        <FileIcon kind={kindOfType(item.type)} size={40} />
      )}
      <div className="upload-main">
        <FileName name={item.name} className="upload-name" />
        <span className="upload-meta">
          {item.state === "done" ? formatBytes(item.size, i18n.language) : formatProgress(item.sent, item.size, i18n.language)}
        </span>
        <progress className="upload-progress" max={100} value={percent} aria-label={t("files.progressLabel", { name: item.name })} />
        <span className={`upload-status${failed ? " form-error" : ""}`} role={failed ? "alert" : undefined}>
          {status}
        </span>
      </div>
      <div className="upload-actions">
        {item.state === "uploading" || item.state === "queued" ? (
          <button type="button" className="icon-button" onClick={onPause} aria-label={t("files.pause")} title={t("files.pause")}>
            <Icon name="pause" size={18} />
          </button>
        ) : null}
        {item.state === "paused" || (item.state === "failed" && !item.permanent) ? (
          <button type="button" className="icon-button" onClick={onResume} aria-label={t(item.state === "failed" ? "files.retry" : "files.resume")} title={t(item.state === "failed" ? "files.retry" : "files.resume")}>
            <Icon name={item.state === "failed" ? "retry" : "play"} size={18} />
          </button>
        ) : null}
        {item.state === "interrupted" ? (
          <button type="button" className="link-button" onClick={onPickAgain}>
            {t("files.pickAgain")}
          </button>
        ) : null}
        <button type="button" className="icon-button" onClick={onCancel} aria-label={t("files.removeName", { name: item.name })} title={t("files.remove")}>
          <Icon name="close" size={18} />
        </button>
      </div>
    </li>
  );
}
