import { describe, expect, it } from "vitest";
import type { RoomSummary } from "../../lib/model";
import { attachment, fileMessage, message, room } from "../../test/factories";
import { filterRooms, sortRooms, totalUnread } from "./roomList";
import { RoomsStore } from "./roomsStore";

function store(rooms: RoomSummary[], reading: number | null = null) {
  const s = new RoomsStore({
    myUserId: 1,
    isReading: (id) => id === reading,
    api: {
      listRooms: async () => ({ rooms, total_unread: 0 }),
      getRoom: async (id) => rooms.find((r) => r.id === id) ?? room({ id }),
      updateSettings: async () => ({}),
      markRead: async () => ({}),
    },
  });
  return s;
}

describe("room list", () => {
  it("puts favourites on top, then the most recent activity", () => {
    const rooms = [
      room({ id: 1, last_message_at: "2025-01-06T01:00:00Z" }),
      room({ id: 2, last_message_at: "2025-01-06T03:00:00Z" }),
      room({ id: 3, last_message_at: "2025-01-01T00:00:00Z", favourite: true }),
    ];
    expect(sortRooms(rooms).map((r) => r.id)).toEqual([3, 2, 1]);
  });

  it("filters by the shown name, case-insensitively", () => {
    const rooms = [room({ id: 1, name: "Design 팀" }), room({ id: 2, name: "영업" })];
    expect(filterRooms(rooms, "design", (r) => r.name ?? "").map((r) => r.id)).toEqual([1]);
    expect(filterRooms(rooms, "  ", (r) => r.name ?? "")).toHaveLength(2);
  });

  it("the total leaves out muted rooms", () => {
    expect(totalUnread([room({ unread_count: 3 }), room({ id: 2, unread_count: 4, muted: true })])).toBe(3);
  });
});

describe("RoomsStore unread arithmetic", () => {
  it("a message from someone else adds one unread and a mention badge when it mentions me", async () => {
    const s = store([room({ id: 1, last_seq: 4, last_read_seq: 4 })]);
    await s.load();
    s.applyMessage(message({ room_id: 1, seq: 5, sender_id: 2 }));
    s.applyMessage(message({ room_id: 1, seq: 6, sender_id: 2, mentions: [1] }));
    expect(s.get(1)).toMatchObject({ unread_count: 2, unread_mentions: 1, last_seq: 6 });
  });

  it("my own message, or one in the room I am reading, is read at once", async () => {
    const s = store([room({ id: 1, last_seq: 4, unread_count: 2 }), room({ id: 2 })], 2);
    await s.load();
    s.applyMessage(message({ room_id: 1, seq: 5, sender_id: 1 }));
    s.applyMessage(message({ room_id: 2, seq: 1, sender_id: 3 }));
    expect(s.get(1)).toMatchObject({ unread_count: 0, last_read_seq: 5 });
    expect(s.get(2)).toMatchObject({ unread_count: 0, last_read_seq: 1 });
  });

  it("reading on another device clears the badge here; a stale read changes nothing", async () => {
    const s = store([room({ id: 1, last_seq: 10, last_read_seq: 4, unread_count: 6, unread_mentions: 1 })]);
    await s.load();
    s.applyUserFrame({ type: "read.self", room_id: 1, last_read_seq: 8 });
    expect(s.get(1)).toMatchObject({ unread_count: 2, unread_mentions: 1 });
    s.applyUserFrame({ type: "read.self", room_id: 1, last_read_seq: 10, unread_count: 0 });
    expect(s.get(1)).toMatchObject({ unread_count: 0, unread_mentions: 0 });
    const before = s.get(1);
    s.applyRead(1, 3);
    expect(s.get(1)).toBe(before);
  });

  it("an edit of the last message changes the preview but not the count", async () => {
    const last = message({ room_id: 1, seq: 5, body: "원래" });
    const s = store([room({ id: 1, last_seq: 5, last_message: last, unread_count: 1 })]);
    await s.load();
    s.applyMessage({ ...last, body: "수정", event_seq: 8 });
    expect(s.get(1)).toMatchObject({ unread_count: 1, last_message: { body: "수정" } });
  });

  it("a room list whose last_message leaves the attachments out keeps the ones already known", async () => {
    const photo = fileMessage([attachment({ kind: "image" })], { room_id: 1, seq: 5 });
    const { attachments: _left, ...bare } = photo;
    const rooms = [room({ id: 1, last_seq: 5, last_message: photo })];
    const s = store(rooms);
    await s.load();
    rooms[0] = room({ id: 1, last_seq: 5, last_message: bare });
    await s.load();
    expect(s.get(1)?.last_message?.attachments).toEqual(photo.attachments);
    rooms[0] = room({ id: 1, last_seq: 5, last_message: { ...bare, attachments: [] } });
    await s.load();
    expect(s.get(1)?.last_message?.attachments).toEqual(photo.attachments);
    await s.reloadRoom(1);
    expect(s.get(1)?.last_message?.attachments).toEqual(photo.attachments);
    s.applyMessage({ ...bare, body: "캡션", event_seq: 9 });
    expect(s.get(1)?.last_message).toMatchObject({ body: "캡션", attachments: photo.attachments });
    // Unsent: the files are gone with it.
    s.applyMessage({ ...photo, deleted_at: "2026-01-05T00:00:00Z", attachments: [], event_seq: 10 });
    expect(s.get(1)?.last_message?.attachments).toEqual([]);
  });

  it("muting and favourites apply at once and reorder the list", async () => {
    const s = store([room({ id: 1, last_message_at: "2025-01-02T00:00:00Z" }), room({ id: 2, last_message_at: "2025-01-01T00:00:00Z" })]);
    await s.load();
    await s.setFavourite(2, true);
    expect(s.getState().ordered.map((r) => r.id)).toEqual([2, 1]);
    s.applyUserFrame({ type: "room.settings", room_id: 1, muted: true });
    expect(s.get(1)?.muted).toBe(true);
  });
});
