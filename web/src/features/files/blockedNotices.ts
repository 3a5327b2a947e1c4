import { Store } from "../../lib/store";
import type { Timers } from "../../realtime/connection";
import type { UserFrame } from "../../realtime/frames";

export type FileBlockedFrame = Extract<UserFrame, { type: "file.blocked" }>;

/** One "your file was blocked" notice on screen. */
export interface BlockedNotice {
  /** Local id of the notice (the same attachment is never shown twice at once). */
  id: number;
  attachmentId: number;
  roomId: number;
  messageId: number | null;
  fileName: string;
}

/** How long a notice stays (it stays longer while the pointer or the focus is on the notices). */
export const BLOCKED_NOTICE_MS = 8000;
/** At most this many at once, newest last: an older one gives way to a new one. */
export const BLOCKED_NOTICES_MAX = 3;

export type HoldReason = "pointer" | "focus";

/**
 * The notices telling the sender that a file they sent was blocked (a `file.blocked` frame):
 * each goes by itself after BLOCKED_NOTICE_MS, or when closed. While the user points at or
 * focuses the notices none goes; each gets its full time again afterwards.
 */
export class BlockedNotices extends Store<readonly BlockedNotice[]> {
  private readonly timers: Timers;
  private readonly ttlMs: number;
  private readonly pending = new Map<number, unknown>();
  private readonly holds = new Set<HoldReason>();
  private nextId = 1;

  constructor(timers: Timers, ttlMs = BLOCKED_NOTICE_MS) {
    super([]);
    this.timers = timers;
    this.ttlMs = ttlMs;
  }

  add(frame: FileBlockedFrame): void {
    // Another copy of the same frame (the server tells every device once; be safe anyway).
    if (this.getState().some((n) => n.attachmentId === frame.attachment_id)) return;
    const notice: BlockedNotice = {
      id: this.nextId++,
      attachmentId: frame.attachment_id,
      roomId: frame.room_id,
      messageId: frame.message_id ?? null,
      fileName: frame.file_name,
    };
    const next = [...this.getState(), notice];
    const pushedOut = next.slice(0, Math.max(0, next.length - BLOCKED_NOTICES_MAX));
    for (const gone of pushedOut) this.disarm(gone.id);
    this.setState(next.slice(-BLOCKED_NOTICES_MAX));
    // The focus may have been in a notice that just went: a removed element may never report
    // its blur, so the focus hold ends here (focusing a remaining notice takes it again).
    if (pushedOut.length > 0 && this.holds.has("focus")) this.hold("focus", false);
    if (this.holds.size === 0) this.arm(notice.id);
  }

  dismiss(id: number): void {
    this.disarm(id);
    const next = this.getState().filter((n) => n.id !== id);
    if (next.length === 0) this.holds.clear();
    this.setState(next);
  }

  /** The pointer is over the notices, or the focus in them: none goes meanwhile. */
  hold(reason: HoldReason, held: boolean): void {
    const before = this.holds.size;
    if (held) this.holds.add(reason);
    else this.holds.delete(reason);
    if (before === 0 && this.holds.size > 0) {
      for (const id of [...this.pending.keys()]) this.disarm(id);
    } else if (before > 0 && this.holds.size === 0) {
      for (const n of this.getState()) this.arm(n.id);
    }
  }

  /** Signing out: every notice and timer goes. */
  clear(): void {
    for (const id of [...this.pending.keys()]) this.disarm(id);
    this.holds.clear();
    this.setState([]);
  }

  private arm(id: number): void {
    this.disarm(id);
    this.pending.set(
      id,
      this.timers.setTimeout(() => {
        this.pending.delete(id);
        this.dismiss(id);
      }, this.ttlMs),
    );
  }

  private disarm(id: number): void {
    if (!this.pending.has(id)) return;
    this.timers.clearTimeout(this.pending.get(id));
    this.pending.delete(id);
  }
}
