import { describe, expect, it } from "vitest";
import { message } from "../../test/factories";
import { buildReadIndex, mergeMessages, mergeReads, mentionsUser, roomUnread, unreadCount } from "./timeline";

describe("unread arithmetic", () => {
  const reads = [
    { user_id: 1, last_read_seq: 10 },
    { user_id: 2, last_read_seq: 5 },
    { user_id: 3, last_read_seq: 7 },
  ];
  const index = buildReadIndex(reads);

  it("counts members whose read position is below the message", () => {
    expect(unreadCount(index, 6, 1)).toBe(1); // user 2
    expect(unreadCount(index, 8, 1)).toBe(2); // users 2 and 3
  });

  it("never counts the sender", () => {
    expect(unreadCount(index, 8, 2)).toBe(1); // user 3 only
    expect(unreadCount(index, 11, 1)).toBe(2); // 2 and 3; sender 1 at 10 < 11 is excluded
  });

  it("reaches zero when everyone has read", () => {
    expect(unreadCount(index, 5, 9)).toBe(0);
  });

  it("a member's badge is messages after the read position, never negative", () => {
    expect(roomUnread(12, 9)).toBe(3);
    expect(roomUnread(5, 9)).toBe(0);
  });

  it("read positions only move forward", () => {
    const merged = mergeReads(reads, [
      { user_id: 2, last_read_seq: 3 },
      { user_id: 3, last_read_seq: 9 },
    ]);
    expect(Object.fromEntries(merged.map((r) => [r.user_id, r.last_read_seq]))).toEqual({ 1: 10, 2: 5, 3: 9 });
    expect(mergeReads(reads, [{ user_id: 1, last_read_seq: 4 }])).toBe(reads);
  });

  it("detects mentions of the user but not their own messages", () => {
    expect(mentionsUser(message({ mentions: [5] }), 5)).toBe(true);
    expect(mentionsUser(message({ mentions_all: true }), 5)).toBe(true);
    expect(mentionsUser(message({ mentions_all: true, sender_id: 5 }), 5)).toBe(false);
  });
});

describe("ordering and dedupe of messages", () => {
  it("orders by seq whatever the arrival order", () => {
    const merged = mergeMessages([message({ seq: 3 })], [message({ seq: 1 }), message({ seq: 2 })]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("keeps one copy per id", () => {
    const a = message({ seq: 1 });
    const merged = mergeMessages([a], [message({ seq: 1 }), message({ seq: 1 })]);
    expect(merged).toHaveLength(1);
  });

  it("a late duplicate of the original never undoes an edit", () => {
    const original = message({ seq: 4, event_seq: 4, body: "원본" });
    const edited = message({ seq: 4, event_seq: 9, body: "수정본", edited_at: "2025-01-06T02:00:00Z" });
    const merged = mergeMessages(mergeMessages([], [original]), [edited]);
    expect(mergeMessages(merged, [original])[0]?.body).toBe("수정본");
  });

  it("appends live messages without re-sorting and returns the same array when nothing changes", () => {
    const list = [message({ seq: 1 }), message({ seq: 2 })];
    expect(mergeMessages(list, [])).toBe(list);
    expect(mergeMessages(list, [message({ seq: 1 })])).toBe(list);
  });
});
