import type { FocusEvent } from "react";
import { useTranslation } from "react-i18next";
import { Icon } from "../../ui/Icon";
import type { BlockedNotice, HoldReason } from "./blockedNotices";

export interface BlockedFileNoticesProps {
  notices: readonly BlockedNotice[];
  /** Whether the notice may offer to open the room (the room is known and not already open). */
  canOpen(roomId: number): boolean;
  onOpen(notice: BlockedNotice): void;
  onDismiss(id: number): void;
  onHold(reason: HoldReason, held: boolean): void;
}

/**
 * "The file you sent was blocked": one alert per `file.blocked` frame, newest last, each with a
 * close button and, when the room is known, a button that opens it.
 */
export function BlockedFileNotices({ notices, canOpen, onOpen, onDismiss, onHold }: BlockedFileNoticesProps) {
  const { t } = useTranslation();
  if (notices.length === 0) return null;
  // The button pressed goes away with its notice, and a removed element may never report a blur.
  const release = () => onHold("focus", false);
  const onBlur = (e: FocusEvent<HTMLDivElement>) => {
    if (!(e.relatedTarget instanceof Node && e.currentTarget.contains(e.relatedTarget))) release();
  };
  return (
    <div
      className="toast-stack"
      onMouseEnter={() => onHold("pointer", true)}
      onMouseLeave={() => onHold("pointer", false)}
      onFocus={() => onHold("focus", true)}
      onBlur={onBlur}
    >
      {notices.map((n) => {
        const text = t("fileBlocked.notice", { name: n.fileName });
        return (
          <div key={n.id} className="toast danger" data-attachment-id={n.attachmentId}>
            <Icon name="warning" size={18} />
            {/* The alert is the text alone: screen readers announce it without the buttons. */}
            <p className="toast-text" role="alert" title={text}>
              {text}
            </p>
            {canOpen(n.roomId) ? (
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  release();
                  onOpen(n);
                }}
              >
                {t("fileBlocked.view")}
              </button>
            ) : null}
            <button
              type="button"
              className="icon-button toast-close"
              aria-label={t("fileBlocked.dismiss")}
              onClick={() => {
                release();
                onDismiss(n.id);
              }}
            >
              <Icon name="close" size={16} />
            </button>
          </div>
        );
      })}
    </div>
  );
}
