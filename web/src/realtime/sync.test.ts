import { describe, expect, it } from "vitest";
import type { Message, RoomSummary } from "../lib/model";
import { message, room } from "../test/factories";
import { parseFrame, type EventFrame, type UserFrame } from "./frames";
import { SyncEngine, type SyncTargets } from "./sync";

function fakeTimers() {
  const queue: { fn: () => void; at: number }[] = [];
  return {
    setTimeout: (fn: () => void, ms: number) => {
      const t = { fn, at: ms };
      queue.push(t);
      return t;
    },
    clearTimeout: (h: unknown) => {
      const i = queue.indexOf(h as { fn: () => void; at: number });
      if (i >= 0) queue.splice(i, 1);
    },
    runAll: () => {
      while (queue.length) queue.shift()?.fn();
    },
    pending: () => queue.length,
  };
}

function setup(online = true) {
  const applied: Message[] = [];
  const incoming: Message[] = [];
  const resumes: Record<string, number>[] = [];
  const timers = fakeTimers();
  const reloaded: number[] = [];
  const refetched: [number, number][] = [];
  const blocked: Extract<UserFrame, { type: "file.blocked" }>[] = [];
  const targets: SyncTargets = {
    rooms: {
      applyEvent: () => undefined,
      applyUserFrame: () => undefined,
      reloadRoom: async (id) => {
        reloaded.push(id);
        return room({ id, last_event_seq: 20 });
      },
    },
    timelines: {
      applyMessage: (m) => applied.push(m),
      applyReads: () => undefined,
      applyReactions: () => undefined,
      refresh: async () => undefined,
      forget: () => undefined,
      reloadReads: async () => undefined,
    },
    typing: { typing: () => undefined, stopped: () => undefined },
    presence: { set: () => undefined },
    onProfileUpdated: () => undefined,
    onFileBlocked: (frame) => blocked.push(frame),
    refetchMessage: (roomId, messageId) => refetched.push([roomId, messageId]),
    onIncoming: (m) => incoming.push(m),
    fetchEvents: async (roomId, after) => {
      resumes.push({ [String(roomId)]: after });
      if (!online) throw new Error("offline");
      // The server has 6..8; 9 and later were delivered live.
      const events = [6, 7, 8].filter((s) => s > after).map((s) => created(s));
      return { events, next_event_seq: 8, has_more: false, too_far_behind: false };
    },
    timers,
  };
  const engine = new SyncEngine(targets);
  engine.trackRooms([room({ id: 1, last_event_seq: 5 }) as RoomSummary]);
  return { engine, applied, incoming, resumes, timers, reloaded, refetched, blocked };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

const created = (seq: number): EventFrame => ({
  type: "event",
  room_id: 1,
  event_seq: seq,
  event: { kind: "message.created", message: message({ seq, event_seq: seq }) },
});

describe("SyncEngine", () => {
  it("applies each event once even when delivered twice", () => {
    const { engine, applied, incoming } = setup();
    engine.handleFrame(created(6));
    engine.handleFrame(created(6));
    expect(applied.map((m) => m.seq)).toEqual([6]);
    expect(incoming).toHaveLength(1);
    expect(engine.stats.duplicates).toBe(1);
  });

  it("reordered frames are applied in seq order without a resync when the hole fills in time", () => {
    const { engine, applied, resumes, timers } = setup();
    engine.handleFrame(created(7));
    engine.handleFrame(created(6));
    expect(applied.map((m) => m.seq)).toEqual([6, 7]);
    timers.runAll();
    expect(resumes).toEqual([]);
  });

  it("a gap that stays open is filled from the room's event log over REST, in order", async () => {
    const { engine, applied, resumes, timers } = setup();
    engine.handleFrame(created(9));
    timers.runAll();
    await flush();
    expect(resumes).toEqual([{ "1": 5 }]);
    expect(applied.map((m) => m.seq)).toEqual([6, 7, 8, 9]);
    expect(engine.sequencer.hasGap(1)).toBe(false);
  });

  it("offline, the held events wait for the reconnect's resume, then apply in order", async () => {
    const { engine, applied, timers } = setup(false);
    engine.handleFrame(created(9));
    timers.runAll();
    await flush();
    expect(applied).toEqual([]);
    engine.synced();
    expect(applied.map((m) => m.seq)).toEqual([9]);
  });

  it("refetches the room over REST when told resync_required", async () => {
    const { engine, reloaded } = setup();
    engine.handleFrame({ type: "resync_required", room_id: 1 });
    await flush();
    expect(reloaded).toEqual([1]);
  });

  it("the restricted form (no content) refetches the message and still advances the cursor", () => {
    const { engine, refetched, applied } = setup();
    engine.handleFrame({ type: "event", room_id: 1, event_seq: 6, event: { kind: "message.updated", message_id: 77, change: "edited", restricted: true } });
    engine.handleFrame({ type: "event", room_id: 1, event_seq: 7, event: { kind: "reaction.updated", message_id: 78, restricted: true } });
    expect(refetched).toEqual([
      [1, 77],
      [1, 78],
    ]);
    expect(applied).toEqual([]);
    expect(engine.sequencer.cursor(1)).toBe(7);
  });

  it("file.blocked from the wire reaches onFileBlocked with its fields, and touches no room", () => {
    const { engine, blocked, applied, reloaded } = setup();
    const wire = JSON.stringify({
      type: "file.blocked",
      attachment_id: 42,
      room_id: 7,
      message_id: 500,
      file_name: "견적서.pdf.exe",
      signature: "Eicar-Test-Signature",
    });
    const frame = parseFrame(wire);
    expect(frame).not.toBeNull();
    engine.handleFrame(frame!);
    expect(blocked).toEqual([
      { type: "file.blocked", attachment_id: 42, room_id: 7, message_id: 500, file_name: "견적서.pdf.exe", signature: "Eicar-Test-Signature" },
    ]);
    expect(applied).toEqual([]);
    expect(reloaded).toEqual([]);
    expect(engine.sequencer.cursor(1)).toBe(5);
  });
});
