import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Icon } from "../../ui/Icon";
import { FileIcon } from "./FileIcon";
import { ScanBadge } from "./ScanBadge";
import { showScanBadge } from "./scan";
import { type Attachment, thumbnailUrl } from "./types";
import { useMedia, useVirusScanning } from "./useMedia";

export interface MediaThumbProps {
  attachment: Attachment;
  width: number;
  height: number;
  /** Crop to fill the box (grids) instead of the picture's own shape. */
  cover?: boolean;
  onOpen(): void;
}

/**
 * A picture or video preview with its box reserved (no layout shift when it loads), a placeholder
 * while the server makes the thumbnail, and the scan state until the file is known to be clean.
 */
export function MediaThumb({ attachment: a, width, height, cover = false, onOpen }: MediaThumbProps) {
  const { t } = useTranslation();
  const scanning = useVirusScanning();
  const media = useMedia();
  // 0: first try; 1: retried after refreshing the media cookie; 2: gave up.
  const [attempt, setAttempt] = useState(0);
  const ready = a.thumbnail === "ready" && attempt < 2;
  const src = thumbnailUrl(a.id, "small") + (attempt > 0 ? `&r=${attempt}` : "");
  return (
    <button
      type="button"
      className={`media-thumb${cover ? " cover" : ""}`}
      style={{ width, aspectRatio: `${width} / ${height}` }}
      onClick={onOpen}
      aria-label={t("files.open", { name: a.file_name })}
      data-attachment-id={a.id}
      data-thumbnail={a.thumbnail}
    >
      {ready ? (
        <img
          src={src}
          width={width}
          height={height}
          alt=""
          decoding="async"
          loading="lazy"
          draggable={false}
          onError={() => {
            if (attempt === 0) void media.freshen(true).then(() => setAttempt(1));
            else setAttempt(2);
          }}
        />
      ) : a.thumbnail === "pending" ? (
        <span className="thumb-placeholder">
          <span className="spinner" aria-hidden="true" />
          <span className="sr-only">{t("files.thumbnailPending")}</span>
        </span>
      ) : (
        <span className="thumb-placeholder">
          <FileIcon kind={a.kind} />
        </span>
      )}
      {a.kind === "video" ? (
        <span className="play-badge" aria-hidden="true">
          <Icon name="play" size={cover ? 20 : 28} />
        </span>
      ) : null}
      {a.scan_state !== "clean" && showScanBadge(a, scanning) ? (
        <span className="thumb-scan">
          <ScanBadge attachment={a} compact />
        </span>
      ) : null}
    </button>
  );
}
