import { describe, expect, it } from "vitest";
import type { EventFrame } from "./frames";
import { EventSequencer } from "./sequencer";
import { message } from "../test/factories";

const frame = (eventSeq: number, roomId = 1): EventFrame => ({
  type: "event",
  room_id: roomId,
  event_seq: eventSeq,
  event: { kind: "message.created", message: message({ seq: eventSeq, event_seq: eventSeq, room_id: roomId }) },
});

describe("EventSequencer", () => {
  it("applies contiguous events at once", () => {
    const s = new EventSequencer();
    s.setCursor(1, 5);
    expect(s.accept(frame(6)).ready.map((f) => f.event_seq)).toEqual([6]);
    expect(s.accept(frame(7)).ready.map((f) => f.event_seq)).toEqual([7]);
    expect(s.cursor(1)).toBe(7);
  });

  it("drops an event delivered twice", () => {
    const s = new EventSequencer();
    s.setCursor(1, 5);
    s.accept(frame(6));
    expect(s.accept(frame(6))).toEqual({ ready: [], gap: false });
    expect(s.accept(frame(3))).toEqual({ ready: [], gap: false });
  });

  it("holds reordered frames and releases them in order when the hole fills", () => {
    const s = new EventSequencer();
    s.setCursor(1, 5);
    expect(s.accept(frame(8))).toEqual({ ready: [], gap: true });
    expect(s.accept(frame(7)).gap).toBe(true);
    expect(s.accept(frame(6)).ready.map((f) => f.event_seq)).toEqual([6, 7, 8]);
    expect(s.hasGap(1)).toBe(false);
  });

  it("after a resync, releases what is held in order and accepts the hole", () => {
    const s = new EventSequencer();
    s.setCursor(1, 5);
    s.accept(frame(9));
    s.accept(frame(8));
    expect(s.release(1).map((f) => f.event_seq)).toEqual([8, 9]);
    expect(s.cursor(1)).toBe(9);
  });

  it("never moves a cursor backwards and drains what a fetch made contiguous", () => {
    const s = new EventSequencer();
    s.setCursor(1, 5);
    s.accept(frame(8));
    expect(s.setCursor(1, 7).map((f) => f.event_seq)).toEqual([8]);
    s.setCursor(1, 2);
    expect(s.cursor(1)).toBe(8);
  });

  it("keeps rooms apart", () => {
    const s = new EventSequencer();
    s.setCursor(1, 1);
    s.setCursor(2, 10);
    expect(s.accept(frame(2, 1)).ready).toHaveLength(1);
    expect(s.accept(frame(12, 2)).gap).toBe(true);
    expect(s.cursors()).toEqual({ "1": 2, "2": 10 });
  });
});
