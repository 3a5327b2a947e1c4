import type { Message, ReadPosition } from "../../lib/model";
import { withNewestAttachments } from "../files/types";

/**
 * Merges messages into a timeline: one entry per id (the copy with the higher event_seq wins, so a
 * late duplicate of the original never undoes an edit), ordered by seq.
 */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return existing as Message[];
  const last = existing[existing.length - 1];
  // Fast path: live messages append at the end.
  if (
    last &&
    incoming.every((m, i) => m.seq > last.seq && (i === 0 || m.seq > (incoming[i - 1]?.seq ?? 0)))
  ) {
    return [...existing, ...incoming];
  }
  const byId = new Map<number, Message>();
  for (const m of existing) byId.set(m.id, m);
  let changed = false;
  for (const m of incoming) {
    const current = byId.get(m.id);
    if (!current) {
      byId.set(m.id, m);
      changed = true;
    } else if (m.event_seq > current.event_seq) {
      byId.set(m.id, m);
      changed = true;
    } else if (m.event_seq === current.event_seq && !sameContent(current, m)) {
      // Equal event_seq with other content: an update that did not bump the message's own seq.
      const next = withNewestAttachments(current, m);
      if (!sameContent(current, next)) {
        byId.set(m.id, next);
        changed = true;
      }
    }
  }
  if (!changed) return existing as Message[];
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

function sameContent(a: Message, b: Message): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Read positions merged monotonically (a stale frame never moves a member backwards). */
export function mergeReads(existing: readonly ReadPosition[], incoming: readonly ReadPosition[]): ReadPosition[] {
  const byUser = new Map<number, number>();
  for (const r of existing) byUser.set(r.user_id, r.last_read_seq);
  let changed = false;
  for (const r of incoming) {
    const current = byUser.get(r.user_id);
    if (current === undefined || r.last_read_seq > current) {
      byUser.set(r.user_id, r.last_read_seq);
      changed = true;
    }
  }
  if (!changed) return existing as ReadPosition[];
  return [...byUser.entries()].map(([user_id, last_read_seq]) => ({ user_id, last_read_seq }));
}

/** Sorted read positions for counting members behind a message in O(log n). */
export interface ReadIndex {
  positions: number[];
  byUser: Map<number, number>;
}

export function buildReadIndex(reads: readonly ReadPosition[]): ReadIndex {
  const positions = reads.map((r) => r.last_read_seq).sort((a, b) => a - b);
  const byUser = new Map(reads.map((r) => [r.user_id, r.last_read_seq] as const));
  return { positions, byUser };
}

/**
 * KakaoTalk's number beside a message: members whose last read position is below its seq, not
 * counting the sender (the same rule as sodam.domain.unread on the server).
 */
export function unreadCount(index: ReadIndex, seq: number, senderId: number | null): number {
  let lo = 0;
  let hi = index.positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((index.positions[mid] ?? 0) < seq) lo = mid + 1;
    else hi = mid;
  }
  let behind = lo;
  if (senderId !== null) {
    const senderPos = index.byUser.get(senderId);
    if (senderPos !== undefined && senderPos < seq) behind -= 1;
  }
  return Math.max(0, behind);
}

/** A room's badge: messages after the member's read position. */
export function roomUnread(lastSeq: number, lastReadSeq: number): number {
  return Math.max(0, lastSeq - lastReadSeq);
}

/** True when a message mentions the user (by id or @all) and is not their own. */
export function mentionsUser(message: Message, userId: number): boolean {
  if (message.sender_id === userId || message.deleted_at) return false;
  return message.mentions_all || message.mentions.includes(userId);
}
