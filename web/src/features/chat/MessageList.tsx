import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { attachmentsHeight, screenLayout } from "../files/layout";
import { attachmentsOf } from "../files/types";
import type { TimelineRow } from "./rows";

export interface ScrollRequest {
  seq: number;
  nonce: number;
}

export interface MessageListProps {
  rows: TimelineRow[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
  loadingOlder: boolean;
  /** Messages from others that arrived since the user scrolled up. */
  newestSeq: number;
  countNewerThan(seq: number): number;
  scrollRequest: ScrollRequest | null;
  /** Changes when the user sends: the view goes to the bottom wherever it was. */
  stickNonce: number;
  renderRow(row: TimelineRow): ReactNode;
  onLoadOlder(): void;
  onLoadNewer(): void;
  onAtBottom(atBottom: boolean): void;
  onJumpToLatest(): void;
}

const NEAR_TOP_PX = 600;

/**
 * Close estimates of the rendered heights (styles.css): a measured size equal to its estimate
 * costs nothing, while every difference makes the virtualiser recompute the offsets of all the
 * rows after it, which is what would make 100,000 rows sluggish.
 */
function estimateRowHeight(row: TimelineRow | undefined): number {
  if (!row) return 40;
  switch (row.type) {
    case "date":
      return 44;
    case "unread":
      return 33;
    case "system":
      return 34;
    case "pending":
      return 44 + lineBreaks(row.pending.body) * 21 + (row.pending.files?.length ?? 0) * 46 + (row.pending.reply_to_id ? 50 : 0);
    case "message": {
      const m = row.message;
      let h = row.first ? (row.mine ? 44 : 62) : 38;
      if (row.first && m.deleted_at) h = 44;
      h += lineBreaks(m.body ?? "") * 21;
      if (m.reply_to) h += 50;
      if (m.reactions.length > 0) h += 28;
      const files = m.deleted_at || m.hidden ? [] : attachmentsOf(m);
      // The attachments take the place of the text line when there is no caption.
      if (files.length > 0) h += attachmentsHeight(files, screenLayout()) + (m.body ? 8 : -21);
      return h;
    }
  }
}

function lineBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
const BOTTOM_SLACK_PX = 48;

/**
 * The virtualised history: only the rows in view (plus overscan) are in the DOM, so a room with
 * 100,000 loaded messages scrolls like one with fifty. Keeps the view pinned to the bottom while
 * the user is there, keeps it still when older pages are prepended, and loads pages near the ends.
 */
export function MessageList(props: MessageListProps) {
  const { t } = useTranslation();
  const { rows } = props;
  const parentRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [pinned, setPinned] = useState(true);
  const [leftAtSeq, setLeftAtSeq] = useState<number | null>(null);
  const prevFirstKey = useRef<string | null>(null);
  const prevRowCount = useRef(0);
  const [flashSeq, setFlashSeq] = useState<number | null>(null);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parentRef.current,
    estimateSize: (i) => estimateRowHeight(rows[i]),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 12,
    onChange: (instance) => {
      // Items measured after a render may grow the list: stay at the bottom while pinned.
      const el = parentRef.current;
      if (el && atBottom.current && !instance.isScrolling) el.scrollTop = el.scrollHeight;
    },
  });

  const scrollToBottom = useCallback(() => {
    const el = parentRef.current;
    if (!el) return;
    atBottom.current = true;
    setPinned(true);
    el.scrollTop = el.scrollHeight;
    if (rows.length > 0) virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
  }, [rows.length, virtualizer]);

  useLayoutEffect(() => {
    const el = parentRef.current;
    // The first message row (a date separator keeps its key when older messages of that day come).
    const firstKey = rows.find((r) => r.type !== "date" && r.type !== "unread")?.key ?? null;
    const wasEmpty = prevRowCount.current === 0;
    if (el && !wasEmpty && prevFirstKey.current && firstKey !== prevFirstKey.current) {
      // Older messages were prepended: shift by their height so the reader's view stays still.
      const oldIndex = rows.findIndex((r) => r.key === prevFirstKey.current);
      if (oldIndex > 0) {
        const start = virtualizer.measurementsCache[oldIndex]?.start ?? 0;
        el.scrollTop += start;
      }
    } else if (el && atBottom.current) {
      el.scrollTop = el.scrollHeight;
      if (rows.length > 0) virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
    }
    prevFirstKey.current = firstKey;
    prevRowCount.current = rows.length;
    // Still near the top after a page (or the first page does not fill the view): load more now,
    // since no scroll event will come.
    if (el && el.scrollTop < NEAR_TOP_PX && props.hasMoreBefore && !props.loadingOlder && rows.length > 0 && !atBottom.current) {
      props.onLoadOlder();
    }
  }, [rows, virtualizer]);

  useEffect(() => {
    if (props.stickNonce > 0) scrollToBottom();
    // Only a new send moves the view.
  }, [props.stickNonce]);

  useEffect(() => {
    const req = props.scrollRequest;
    if (!req) return;
    const index = rows.findIndex((r) => (r.type === "message" || r.type === "system") && r.message.seq === req.seq);
    if (index < 0) return;
    atBottom.current = false;
    setPinned(false);
    virtualizer.scrollToIndex(index, { align: "center" });
    setFlashSeq(req.seq);
    const timer = window.setTimeout(() => setFlashSeq(null), 1600);
    return () => window.clearTimeout(timer);
    // Only a new request moves the view.
  }, [props.scrollRequest]);

  function onScroll() {
    const el = parentRef.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
    if (bottom !== atBottom.current) {
      atBottom.current = bottom;
      setPinned(bottom);
      setLeftAtSeq(bottom ? null : props.newestSeq);
      props.onAtBottom(bottom && !props.hasMoreAfter);
    }
    if (el.scrollTop < NEAR_TOP_PX && props.hasMoreBefore && !props.loadingOlder) props.onLoadOlder();
    if (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_TOP_PX && props.hasMoreAfter) props.onLoadNewer();
  }

  const newCount = leftAtSeq !== null ? props.countNewerThan(leftAtSeq) : 0;
  const items = virtualizer.getVirtualItems();
  return (
    <div className="message-list-wrap">
      <div
        ref={parentRef}
        className="message-list"
        onScroll={onScroll}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label={t("chat.history")}
        tabIndex={0}
      >
        {props.loadingOlder ? (
          <div className="loading-older" role="status">
            {t("common.loading")}
          </div>
        ) : null}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative", width: "100%" }}>
          {items.map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            const seq = row.type === "message" || row.type === "system" ? row.message.seq : null;
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className={`row-wrap${seq !== null && seq === flashSeq ? " flash" : ""}`}
                style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${item.start}px)` }}
              >
                {props.renderRow(row)}
              </div>
            );
          })}
        </div>
      </div>
      {!pinned && (newCount > 0 || props.hasMoreAfter) ? (
        <button
          type="button"
          className="new-messages-pill"
          onClick={() => {
            if (props.hasMoreAfter) props.onJumpToLatest();
            scrollToBottom();
          }}
        >
          {newCount > 0 ? t("chat.newMessages", { count: newCount }) : t("chat.toLatest")}
        </button>
      ) : !pinned ? (
        <button type="button" className="to-bottom" onClick={scrollToBottom} aria-label={t("chat.toLatest")}>
          ↓
        </button>
      ) : null}
    </div>
  );
}
