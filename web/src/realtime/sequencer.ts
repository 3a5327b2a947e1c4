import type { EventFrame } from "./frames";

export interface SequenceResult {
  /** Frames to apply now, in event_seq order. */
  ready: EventFrame[];
  /** A frame arrived ahead of the cursor: some events are missing and the room needs a resync. */
  gap: boolean;
}

interface RoomSequence {
  cursor: number;
  buffer: Map<number, EventFrame>;
}

/**
 * Orders each room's events by event_seq, drops duplicates, and holds back frames that arrive
 * ahead of a hole until the hole is filled (or a resync gives up on it).
 */
export class EventSequencer {
  private readonly rooms = new Map<number, RoomSequence>();

  cursor(roomId: number): number | undefined {
    return this.rooms.get(roomId)?.cursor;
  }

  cursors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [roomId, room] of this.rooms) out[String(roomId)] = room.cursor;
    return out;
  }

  /** Sets the cursor from an authoritative fetch; never moves it backwards. */
  setCursor(roomId: number, eventSeq: number): EventFrame[] {
    const room = this.rooms.get(roomId);
    if (!room) {
      this.rooms.set(roomId, { cursor: eventSeq, buffer: new Map() });
      return [];
    }
    if (eventSeq > room.cursor) room.cursor = eventSeq;
    for (const seq of [...room.buffer.keys()]) if (seq <= room.cursor) room.buffer.delete(seq);
    return this.drain(room);
  }

  forget(roomId: number): void {
    this.rooms.delete(roomId);
  }

  accept(frame: EventFrame): SequenceResult {
    const seq = frame.event_seq;
    if (seq === undefined || seq === null) return { ready: [frame], gap: false };
    const room = this.rooms.get(frame.room_id);
    if (!room) {
      // First event of a room we had no cursor for (a room just added): it starts the sequence.
      this.rooms.set(frame.room_id, { cursor: seq, buffer: new Map() });
      return { ready: [frame], gap: false };
    }
    if (seq <= room.cursor || room.buffer.has(seq)) return { ready: [], gap: false };
    if (seq === room.cursor + 1) {
      room.cursor = seq;
      return { ready: [frame, ...this.drain(room)], gap: false };
    }
    room.buffer.set(seq, frame);
    return { ready: [], gap: true };
  }

  /** After a resync: apply whatever is still held, in order, accepting the holes. */
  release(roomId: number): EventFrame[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    const held = [...room.buffer.entries()].sort((a, b) => a[0] - b[0]);
    room.buffer.clear();
    const out: EventFrame[] = [];
    for (const [seq, frame] of held) {
      if (seq > room.cursor) {
        room.cursor = seq;
        out.push(frame);
      }
    }
    return out;
  }

  roomsWithGaps(): number[] {
    return [...this.rooms.entries()].filter(([, r]) => r.buffer.size > 0).map(([id]) => id);
  }

  hasGap(roomId: number): boolean {
    return (this.rooms.get(roomId)?.buffer.size ?? 0) > 0;
  }

  private drain(room: RoomSequence): EventFrame[] {
    const out: EventFrame[] = [];
    for (;;) {
      const next = room.buffer.get(room.cursor + 1);
      if (!next) return out;
      room.buffer.delete(room.cursor + 1);
      room.cursor += 1;
      out.push(next);
    }
  }
}
