import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Icon } from "../../ui/Icon";
import { DownloadLink } from "./DownloadLink";
import { FileIcon } from "./FileIcon";
import { FileName } from "./FileName";
import { downloadPermission, showScanBadge } from "./scan";
import { useVirusScanning } from "./useMedia";
import { ScanBadge } from "./ScanBadge";
import { type Attachment, fileUrl, stateKey, thumbnailUrl } from "./types";

export interface LightboxItem {
  attachment: Attachment;
  mine: boolean;
  /** "이영희 · 오후 3:20" */
  caption?: string;
}

export interface LightboxProps {
  items: readonly LightboxItem[];
  index: number;
  onIndex(index: number): void;
  onClose(): void;
}

const SWIPE_PX = 50;

/** Originals a browser shows itself (the server serves exactly these inline). */
const RENDERABLE = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

/**
 * The viewer (loaded on first use): the large thumbnail at once, the original on request, videos
 * played from the file itself; ←/→ between the room's pictures, Esc to close, focus kept inside.
 */
export function Lightbox({ items, index, onIndex, onClose }: LightboxProps) {
  const { t } = useTranslation();
  const [original, setOriginal] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const scanning = useVirusScanning();
  // Where a one-finger touch began: a sideways swipe of 50 px moves to the next or previous picture.
  const swipe = useRef<{ x: number; y: number } | null>(null);
  const item = items[index];

  // A sideways swipe is for the pictures, not the browser's back/forward gesture.
  useEffect(() => {
    const root = document.documentElement.style;
    const before = root.overscrollBehaviorX;
    root.overscrollBehaviorX = "none";
    return () => {
      root.overscrollBehaviorX = before;
    };
  }, []);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>(".lightbox-close")?.focus();
    return () => previous?.focus();
  }, []);
  useEffect(() => setOriginal(false), [index]);

  if (!item) return null;
  const a = item.attachment;
  const allowed = downloadPermission(a, item.mine).allowed;
  const go = (step: number) => onIndex(Math.min(items.length - 1, Math.max(0, index + step)));

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
    } else if (e.key === "ArrowLeft") {
      e.preventDefault();
      go(-1);
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      go(1);
    } else if (e.key === "Tab" && ref.current) {
      const focusable = [...ref.current.querySelectorAll<HTMLElement>("button:not([disabled]), a[href], video[controls]")];
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last?.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first?.focus();
      }
    }
  }

  return (
    <div className="lightbox" role="dialog" aria-modal="true" aria-label={t("files.viewer")} ref={ref} onKeyDown={onKeyDown}>
      <header className="lightbox-bar">
        <div className="lightbox-title">
          <FileName name={a.file_name} className="lightbox-name" />
          {item.caption ? <span className="lightbox-caption">{item.caption}</span> : null}
        </div>
        {items.length > 1 ? (
          <span className="lightbox-position" aria-live="polite">
            {t("files.position", { index: index + 1, total: items.length })}
          </span>
        ) : null}
        {a.kind === "image" && allowed && RENDERABLE.has(a.content_type) && !original ? (
          <button type="button" className="lightbox-button" onClick={() => setOriginal(true)}>
            {t("files.original")}
          </button>
        ) : null}
        <DownloadLink attachment={a} mine={item.mine} withLabel />
        <button type="button" className="icon-button lightbox-close" onClick={onClose} aria-label={t("common.close")}>
          <Icon name="close" />
        </button>
      </header>
      <div
        className="lightbox-stage"
        onMouseDown={(e) => e.target === e.currentTarget && onClose()}
        onTouchStart={(e) => {
          // One finger, not on a video (its seek bar drags sideways), not while zoomed in (then a
          // sideways drag pans the picture): only then is a sideways swipe a move to the next.
          const zoomed = (window.visualViewport?.scale ?? 1) > 1.01;
          const onVideo = (e.target as Element).closest("video") !== null;
          const touch = e.touches[0];
          swipe.current = e.touches.length === 1 && touch && !zoomed && !onVideo ? { x: touch.clientX, y: touch.clientY } : null;
        }}
        onTouchEnd={(e) => {
          const start = swipe.current;
          swipe.current = null;
          const touch = e.changedTouches[0];
          if (!start || !touch || e.touches.length > 0) return;
          const dx = touch.clientX - start.x;
          if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > Math.abs(touch.clientY - start.y)) go(dx < 0 ? 1 : -1);
        }}
        onTouchCancel={() => {
          swipe.current = null;
        }}
      >
        <LightboxMedia key={stateKey(a)} attachment={a} allowed={allowed} original={original} />
        {a.scan_state !== "clean" && showScanBadge(a, scanning) ? (
          <span className="lightbox-scan">
            <ScanBadge attachment={a} />
          </span>
        ) : null}
      </div>
      {index > 0 ? (
        <button type="button" className="lightbox-nav prev" onClick={() => go(-1)} aria-label={t("files.previous")}>
          <Icon name="prev" size={32} />
        </button>
      ) : null}
      {index < items.length - 1 ? (
        <button type="button" className="lightbox-nav next" onClick={() => go(1)} aria-label={t("files.next")}>
          <Icon name="next" size={32} />
        </button>
      ) : null}
    </div>
  );
}

function LightboxMedia({ attachment: a, allowed, original }: { attachment: Attachment; allowed: boolean; original: boolean }) {
  const { t } = useTranslation();
  const [largeLoaded, setLargeLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  if (a.kind === "video" && allowed && !failed) {
    return (
      <video
        className="lightbox-video"
        src={fileUrl(a.id)}
        poster={a.thumbnail === "ready" ? thumbnailUrl(a.id, "large") : undefined}
        controls
        preload="metadata"
        onError={() => setFailed(true)}
      />
    );
  }
  if (a.kind === "video" && failed) {
    return (
      <div className="lightbox-empty">
        <FileIcon kind="video" size={72} />
        <p>{t("files.notPlayable")}</p>
      </div>
    );
  }
  if (a.thumbnail !== "ready" || failed) {
    return (
      <div className="lightbox-empty">
        <FileIcon kind={a.kind} size={72} />
        <p>{a.thumbnail === "pending" ? t("files.thumbnailPending") : t("files.thumbnailFailed")}</p>
      </div>
    );
  }
  // The small thumbnail (already cached from the bubble) shows until the large one has loaded.
  return (
    <div className="lightbox-picture">
      {!largeLoaded ? <img className="lightbox-img placeholder" src={thumbnailUrl(a.id, "small")} alt="" /> : null}
      <img
        className={`lightbox-img${largeLoaded ? "" : " loading"}`}
        src={original ? fileUrl(a.id) : thumbnailUrl(a.id, "large")}
        alt={a.file_name}
        onLoad={() => setLargeLoaded(true)}
        onError={() => setFailed(true)}
      />
    </div>
  );
}
