import { describe, expect, it } from "vitest";
import type { EventFrame } from "../../realtime/frames";
import { SyncEngine } from "../../realtime/sync";
import { attachment, fileMessage, room } from "../../test/factories";
import { attachmentsOf } from "../files/types";
import { RoomsStore } from "../rooms/roomsStore";
import { TimelinesStore } from "./timelineStore";

/** message.updated (change "attachment") carries the message as it is now: its attachments replace ours. */
describe("attachment state changes (message.updated, change: attachment)", () => {
  function setup() {
    const sent = fileMessage([attachment({ id: 42, scan_state: "pending", thumbnail: "pending", kind: "image", downloadable: false })], {
      id: 500,
      seq: 3,
      event_seq: 3,
      room_id: 7,
    });
    const timelines = new TimelinesStore({
      api: { messages: async () => ({ messages: [sent], has_more_before: false, has_more_after: false }), reads: async () => ({ reads: [] }) },
    });
    const rooms = new RoomsStore({
      api: {
        listRooms: async () => ({ rooms: [room({ id: 7, last_seq: 3, last_event_seq: 3, last_message: sent })], total_unread: 0 }),
        getRoom: async () => room({ id: 7 }),
        updateSettings: async () => ({}),
        markRead: async () => ({}),
      },
      myUserId: 1,
      isReading: () => false,
    });
    const sync = new SyncEngine({
      rooms,
      timelines,
      typing: { typing: () => undefined, stopped: () => undefined },
      presence: { set: () => undefined },
      onProfileUpdated: () => undefined,
      onFileBlocked: () => undefined,
      refetchMessage: () => undefined,
      onIncoming: () => undefined,
      fetchEvents: async () => ({ events: [], next_event_seq: 0, has_more: false, too_far_behind: false }),
      timers: { setTimeout: () => 0, clearTimeout: () => undefined },
    });
    return { sent, timelines, rooms, sync };
  }

  const update = (eventSeq: number, a: ReturnType<typeof attachment>): EventFrame => ({
    type: "event",
    room_id: 7,
    event_seq: eventSeq,
    // The message keeps its own event_seq (that of its creation); only the event's is new.
    event: { kind: "message.updated", change: "attachment", message: fileMessage([a], { id: 500, seq: 3, event_seq: 3, room_id: 7 }) },
  });

  it("replaces the attachments of the message in the timeline and the room preview, in event order", async () => {
    const { timelines, rooms, sync } = setup();
    await timelines.open(7);
    const loaded = await rooms.load();
    sync.trackRooms(loaded);

    sync.handleFrame(update(4, attachment({ id: 42, kind: "image", scan_state: "clean", thumbnail: "pending", downloadable: true })));
    sync.handleFrame(update(5, attachment({ id: 42, kind: "image", scan_state: "clean", thumbnail: "ready", downloadable: true, width: 640, height: 480 })));

    const shown = timelines.room(7).messages.find((m) => m.id === 500)!;
    expect(attachmentsOf(shown)).toEqual([
      expect.objectContaining({ id: 42, scan_state: "clean", thumbnail: "ready", downloadable: true, width: 640, height: 480 }),
    ]);
    expect(timelines.room(7).messages).toHaveLength(1);
    expect(attachmentsOf(rooms.get(7)!.last_message!)).toEqual([expect.objectContaining({ scan_state: "clean", thumbnail: "ready" })]);
  });

  it("a late duplicate of an older state does not undo a newer one", async () => {
    const { timelines, rooms, sync } = setup();
    await timelines.open(7);
    sync.trackRooms(await rooms.load());
    sync.handleFrame(update(4, attachment({ id: 42, kind: "image", scan_state: "infected", thumbnail: "pending" })));
    // The same event delivered again (resume after a reconnect) is a duplicate by event_seq.
    sync.handleFrame(update(4, attachment({ id: 42, kind: "image", scan_state: "infected", thumbnail: "pending" })));
    sync.handleFrame(update(3, attachment({ id: 42, kind: "image", scan_state: "pending", thumbnail: "pending" })));
    expect(attachmentsOf(timelines.room(7).messages[0]!)[0]?.scan_state).toBe("infected");
  });
});

describe("copies of a file message arriving out of order", () => {
  it("the send's answer arriving after the scan result does not bring 'scanning' back", async () => {
    const timelines = new TimelinesStore({
      api: { messages: async () => ({ messages: [], has_more_before: false, has_more_after: false }), reads: async () => ({ reads: [] }) },
    });
    await timelines.open(7);
    const at = (a: ReturnType<typeof attachment>) => fileMessage([a], { id: 500, seq: 1, event_seq: 1, room_id: 7, body: "캡션" });
    timelines.applyMessage(at(attachment({ id: 42, scan_state: "clean", thumbnail: "none", downloadable: true })));
    timelines.applyMessage(at(attachment({ id: 42, scan_state: "pending", thumbnail: "pending" })));
    expect(attachmentsOf(timelines.room(7).messages[0]!)[0]).toMatchObject({ scan_state: "clean", downloadable: true });
    // An edit of the caption (same event_seq rules) still comes through, with the newest attachment state.
    timelines.applyMessage({ ...at(attachment({ id: 42, scan_state: "pending", thumbnail: "pending" })), body: "고친 캡션" });
    const shown = timelines.room(7).messages[0]!;
    expect(shown.body).toBe("고친 캡션");
    expect(attachmentsOf(shown)[0]?.scan_state).toBe("clean");
  });
});
