import type { Message, ReadPosition, RoomSummary } from "../lib/model";
import type { RoomEvent, ServerFrame, EventFrame, UserFrame } from "./frames";
import { EventSequencer } from "./sequencer";
import type { Timers } from "./connection";

export interface SyncTargets {
  rooms: {
    applyEvent(roomId: number, event: RoomEvent): void;
    applyUserFrame(frame: UserFrame): void;
    reloadRoom(roomId: number): Promise<RoomSummary | null>;
  };
  timelines: {
    applyMessage(message: Message): void;
    applyReads(roomId: number, reads: readonly ReadPosition[]): void;
    applyReactions(roomId: number, messageId: number, reactions: Message["reactions"]): void;
    refresh(roomId: number): Promise<void>;
    forget(roomId: number): void;
    reloadReads(roomId: number): Promise<void>;
  };
  typing: { typing(roomId: number, userId: number): void; stopped(roomId: number, userId: number): void };
  presence: { set(userId: number, status: string, lastSeenAt?: string | null): void };
  /** A profile changed (name, work status, status message). */
  onProfileUpdated(frame: Extract<UserFrame, { type: "profile.updated" }>): void;
  /** A file this user sent was blocked by the virus scanner: the sender is told. */
  onFileBlocked(frame: Extract<UserFrame, { type: "file.blocked" }>): void;
  /** The restricted form of an update carries no content: refetch the message if it is shown. */
  refetchMessage(roomId: number, messageId: number): void;
  /** A message that someone else created, for notifications. */
  onIncoming(message: Message): void;
  /** Any message created or updated with its content (the room drawer follows files this way). */
  onMessage?(message: Message): void;
  /** GET /api/rooms/{room_id}/events?after=: the REST form of the room's event log. */
  fetchEvents(roomId: number, after: number): Promise<{ events: unknown[]; next_event_seq: number; has_more: boolean; too_far_behind: boolean }>;
  timers: Timers;
}

/** How long a hole may stay open before we ask for a resync (frames can arrive out of order). */
const GAP_GRACE_MS = 400;

/**
 * Applies server frames to the stores: room events in event_seq order and exactly once, read
 * positions, typing and presence; detects gaps and asks for the missing events.
 */
export class SyncEngine {
  readonly sequencer = new EventSequencer();
  private readonly targets: SyncTargets;
  private readonly gapTimers = new Map<number, unknown>();
  /** Counts for the diagnostics page and tests. */
  readonly stats = { gaps: 0, resyncs: 0, duplicates: 0 };

  constructor(targets: SyncTargets) {
    this.targets = targets;
  }

  trackRooms(rooms: readonly RoomSummary[]): void {
    for (const room of rooms) this.apply(this.sequencer.setCursor(room.id, room.last_event_seq));
  }

  handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "event":
        this.onEvent(frame);
        return;
      case "resync_required":
        void this.resync(frame.room_id);
        return;
      case "read":
        this.targets.timelines.applyReads(frame.room_id, frame.reads);
        return;
      case "typing":
        this.targets.typing.typing(frame.room_id, frame.user_id);
        return;
      case "presence":
        this.targets.presence.set(frame.user_id, frame.status, frame.last_seen_at ?? null);
        return;
      case "room.added":
        void this.targets.rooms.reloadRoom(frame.room_id).then((room) => {
          // Joined while we were away: the room's events start after what the fetch saw.
          if (room) this.apply(this.sequencer.setCursor(room.id, room.last_event_seq));
        });
        return;
      case "room.removed":
        this.targets.rooms.applyUserFrame(frame);
        this.sequencer.forget(frame.room_id);
        this.targets.timelines.forget(frame.room_id);
        return;
      case "room.settings":
      case "read.self":
        this.targets.rooms.applyUserFrame(frame);
        return;
      case "profile.updated":
        this.targets.onProfileUpdated(frame);
        return;
      case "file.blocked":
        this.targets.onFileBlocked(frame);
        return;
      default:
        return;
    }
  }

  /** After a (re)connection's resume: whatever is still held back is applied, holes accepted. */
  synced(): void {
    for (const [roomId, timer] of this.gapTimers) {
      this.targets.timers.clearTimeout(timer);
      this.gapTimers.delete(roomId);
    }
    for (const roomId of this.sequencer.roomsWithGaps()) this.apply(this.sequencer.release(roomId));
  }

  private onEvent(frame: EventFrame): void {
    const before = this.sequencer.cursor(frame.room_id);
    const { ready, gap } = this.sequencer.accept(frame);
    if (!gap && ready.length === 0 && before !== undefined) this.stats.duplicates += 1;
    this.apply(ready);
    if (gap && !this.gapTimers.has(frame.room_id)) {
      this.stats.gaps += 1;
      const roomId = frame.room_id;
      this.gapTimers.set(
        roomId,
        this.targets.timers.setTimeout(() => {
          if (!this.sequencer.hasGap(roomId)) {
            this.gapTimers.delete(roomId);
            return;
          }
          void this.fillGap(roomId).finally(() => this.gapTimers.delete(roomId));
        }, GAP_GRACE_MS),
      );
    } else if (!gap && this.gapTimers.has(frame.room_id) && !this.sequencer.hasGap(frame.room_id)) {
      this.targets.timers.clearTimeout(this.gapTimers.get(frame.room_id));
      this.gapTimers.delete(frame.room_id);
    }
  }

  /**
   * Fetches what is missing after the room's cursor over REST (docs/protocol.md section 8), applies
   * it in order with what was held, and falls back to a full refetch when too far behind.
   */
  private async fillGap(roomId: number): Promise<void> {
    let after = this.sequencer.cursor(roomId);
    if (after === undefined) return;
    try {
      for (let pages = 0; pages < 20; pages++) {
        const page = await this.targets.fetchEvents(roomId, after);
        if (page.too_far_behind) {
          await this.resync(roomId);
          return;
        }
        for (const f of page.events) {
          const frame = f as EventFrame;
          if (frame && frame.type === "event") this.apply(this.sequencer.accept(frame).ready);
        }
        if (!page.has_more || !this.sequencer.hasGap(roomId)) break;
        after = page.next_event_seq;
      }
    } catch {
      // Offline: the reconnect's resume fills the hole instead.
      return;
    }
    this.apply(this.sequencer.release(roomId));
  }

  /** Too far behind for a replay: fetch the room and its newest messages from REST. */
  private async resync(roomId: number): Promise<void> {
    this.stats.resyncs += 1;
    const room = await this.targets.rooms.reloadRoom(roomId);
    if (room) {
      this.apply(this.sequencer.setCursor(roomId, room.last_event_seq));
      this.apply(this.sequencer.release(roomId));
      await this.targets.timelines.refresh(roomId);
    }
  }

  private apply(frames: readonly EventFrame[]): void {
    for (const frame of frames) {
      const event = frame.event;
      this.targets.rooms.applyEvent(frame.room_id, event);
      const restricted = "restricted" in event && event.restricted === true;
      const messageId = "message_id" in event && typeof event.message_id === "number" ? event.message_id : null;
      if (restricted || (event.kind === "message.updated" && !("message" in event && event.message))) {
        if (messageId !== null) this.targets.refetchMessage(frame.room_id, messageId);
        continue;
      }
      if ((event.kind === "message.created" || event.kind === "message.updated") && "message" in event && event.message) {
        const message = event.message as Message;
        this.targets.timelines.applyMessage(message);
        this.targets.onMessage?.(message);
        if (event.kind === "message.created") {
          if (message.sender_id !== null) this.targets.typing.stopped(frame.room_id, message.sender_id);
          this.targets.onIncoming(message);
        }
      } else if (event.kind === "member.joined" || event.kind === "member.left") {
        void this.targets.timelines.reloadReads(frame.room_id);
      } else if (event.kind === "reaction.updated" && "reactions" in event && Array.isArray(event.reactions)) {
        const e = event as { message_id: number; reactions: Message["reactions"] };
        this.targets.timelines.applyReactions(frame.room_id, e.message_id, e.reactions);
      }
    }
  }
}
