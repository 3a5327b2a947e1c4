import type { Message } from "../../lib/model";
import type { PendingMessage } from "./outbox";

export type TimelineRow =
  | { type: "date"; key: string; date: string }
  | { type: "unread"; key: string }
  | { type: "system"; key: string; message: Message }
  | {
      type: "message";
      key: string;
      message: Message;
      mine: boolean;
      /** First of a group from the same sender within a minute: shows avatar and name. */
      first: boolean;
      /** Last of such a group: shows the time. */
      last: boolean;
    }
  | { type: "pending"; key: string; pending: PendingMessage; last: boolean };

export interface RowOptions {
  myUserId: number;
  /** The first seq the user had not read when the room was opened (a "new messages" line). */
  firstUnreadSeq: number | null;
  /** Calendar day of an ISO time, in the user's time zone. */
  dayOf(iso: string): string;
  /** Minute of an ISO time, for grouping. */
  minuteOf(iso: string): string;
}

/**
 * Turns messages into rows: date separators, the unread line, and KakaoTalk grouping (consecutive
 * messages of one sender within the same minute share one avatar and one time).
 */
export function buildRows(
  messages: readonly Message[],
  pending: readonly PendingMessage[],
  opts: RowOptions,
): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let prevDay: string | null = null;
  const confirmedIds = new Set<string>();
  for (const m of messages) if (m.client_msg_id) confirmedIds.add(m.client_msg_id);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    const day = opts.dayOf(m.created_at);
    if (day !== prevDay) {
      rows.push({ type: "date", key: `d:${day}`, date: m.created_at });
      prevDay = day;
    }
    if (opts.firstUnreadSeq !== null && m.seq === opts.firstUnreadSeq && i > 0) {
      rows.push({ type: "unread", key: "unread" });
    }
    // Unsent messages are anonymous tombstones: a centred line like a system notice, never a
    // bubble that would sit in someone's group and say who unsent it.
    if (m.kind === "system" || m.deleted_at) {
      rows.push({ type: "system", key: `m:${m.id}`, message: m });
      continue;
    }
    const prev = messages[i - 1];
    const next = messages[i + 1];
    rows.push({
      type: "message",
      key: `m:${m.id}`,
      message: m,
      mine: m.sender_id === opts.myUserId,
      first: !prev || !sameGroup(prev, m, opts),
      last: !next || !sameGroup(m, next, opts),
    });
  }
  const visiblePending = pending.filter((p) => !confirmedIds.has(p.client_msg_id));
  visiblePending.forEach((p, i) => {
    const day = opts.dayOf(p.created_at);
    if (day !== prevDay) {
      rows.push({ type: "date", key: `d:${day}`, date: p.created_at });
      prevDay = day;
    }
    rows.push({ type: "pending", key: `p:${p.client_msg_id}`, pending: p, last: i === visiblePending.length - 1 });
  });
  return rows;
}

function sameGroup(a: Message, b: Message, opts: RowOptions): boolean {
  return (
    a.kind !== "system" &&
    b.kind !== "system" &&
    a.sender_id !== null &&
    a.sender_id === b.sender_id &&
    !a.deleted_at &&
    !b.deleted_at &&
    opts.minuteOf(a.created_at) === opts.minuteOf(b.created_at)
  );
}
