import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { errorText } from "../../lib/i18n";
import { FileIcon } from "../files/FileIcon";
import { FileName } from "../files/FileName";
import { formatBytes } from "../files/format";
import { kindOfType } from "../files/types";
import type { ReplyPreview } from "../../lib/model";
import { MessageText } from "./MessageText";
import { ReplyQuote } from "./ReplyQuote";
import type { PendingMessage } from "./outbox";

export interface PendingRowProps {
  pending: PendingMessage;
  onRetry(): void;
  onDiscard(): void;
  /** Puts the files back in the tray to upload again; given when the page still holds them. */
  onReattach?: () => void;
  /** For mentions in the text, shown as "@이름" like a sent message's (not the <@id> tokens). */
  myUserId?: number;
  nameOf?: (userId: number) => string | null;
  /** The message it answers, when loaded: quoted as the sent message will be. */
  reply?: ReplyPreview | null;
}

const noName = () => null;

/**
 * Refusals that the same message can never get past: its files are gone from the server (an
 * upload expired before the message was sent), so they have to be attached again.
 */
const NOT_RETRYABLE = new Set(["upload_not_found"]);

/** The refusal, naming the file the server could not find when there are several. */
function failureText(pending: PendingMessage, t: TFunction): string {
  const index = pending.failed_upload_id ? (pending.upload_ids ?? []).indexOf(pending.failed_upload_id) : -1;
  const file = index >= 0 ? pending.files?.[index] : undefined;
  if (pending.error_code === "upload_not_found" && file && (pending.files?.length ?? 0) > 1) {
    return t("chat.uploadGone", { name: file.name });
  }
  return errorText(t, pending.error_code);
}

export function canRetry(pending: PendingMessage): boolean {
  return pending.state === "failed" && !NOT_RETRYABLE.has(pending.error_code ?? "");
}

/** My message not yet acknowledged: a clock while queued, retry/delete when refused. */
export function PendingRow({ pending, onRetry, onDiscard, onReattach, myUserId = 0, nameOf = noName, reply = null }: PendingRowProps) {
  const { t, i18n } = useTranslation();
  const failed = pending.state === "failed";
  return (
    <div className="msg-row mine first last pending" data-client-msg-id={pending.client_msg_id} data-state={pending.state}>
      <div className="msg-column">
        <div className="msg-line">
          <span className="bubble-meta">
            {failed ? (
              <span className="pending-actions">
                {canRetry(pending) ? (
                  <button type="button" onClick={onRetry}>
                    {t("chat.retry")}
                  </button>
                ) : onReattach ? (
                  <button type="button" onClick={onReattach}>
                    {t("chat.reattach")}
                  </button>
                ) : null}
                <button type="button" onClick={onDiscard}>
                  {t("common.delete")}
                </button>
              </span>
            ) : (
              <span className="pending-clock" role="status" aria-label={t("chat.sending")}>
                ⏱
              </span>
            )}
          </span>
          <div className={`bubble${failed ? " bubble-failed" : ""}`}>
            {reply ? <ReplyQuote reply={reply} nameOf={nameOf} /> : null}
            {pending.files && pending.files.length > 0 ? (
              <ul className="pending-files">
                {pending.files.map((f, i) => (
                  <li key={i} className="file-card">
                    <FileIcon kind={kindOfType(f.type)} size={28} />
                    <span className="file-card-main">
                      <FileName name={f.name} />
                      <span className="file-meta">{formatBytes(f.size, i18n.language)}</span>
                    </span>
                  </li>
                ))}
              </ul>
            ) : null}
            {pending.body ? (
              <span className="bubble-text">
                <MessageText body={pending.body} myUserId={myUserId} nameOf={nameOf} />
              </span>
            ) : null}
            {failed ? <span className="form-error">{failureText(pending, t)}</span> : null}
          </div>
        </div>
      </div>
    </div>
  );
}

