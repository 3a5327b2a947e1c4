import { describe, expect, it } from "vitest";
import { message } from "../../test/factories";
import { buildRows } from "./rows";

const opts = {
  myUserId: 1,
  firstUnreadSeq: null,
  dayOf: (iso: string) => iso.slice(0, 10),
  minuteOf: (iso: string) => iso.slice(0, 16),
};

describe("timeline rows", () => {
  it("groups consecutive messages of one sender within a minute; time on the last", () => {
    const rows = buildRows(
      [
        message({ seq: 1, sender_id: 2, created_at: "2025-01-06T01:00:01Z" }),
        message({ seq: 2, sender_id: 2, created_at: "2025-01-06T01:00:30Z" }),
        message({ seq: 3, sender_id: 1, created_at: "2025-01-06T01:00:40Z" }),
        message({ seq: 4, sender_id: 2, created_at: "2025-01-06T01:02:00Z" }),
      ],
      [],
      opts,
    );
    const msgs = rows.filter((r) => r.type === "message");
    expect(msgs.map((r) => [r.first, r.last, r.mine])).toEqual([
      [true, false, false],
      [false, true, false],
      [true, true, true],
      [true, true, false],
    ]);
  });

  it("shows an unsent message as an anonymous line, outside any sender's group", () => {
    const rows = buildRows(
      [
        message({ seq: 1, sender_id: 2, created_at: "2025-01-06T01:00:01Z" }),
        message({
          seq: 2,
          sender_id: null,
          body: null,
          deleted_at: "2025-01-06T01:00:20Z",
          created_at: "2025-01-06T01:00:10Z",
        }),
        message({ seq: 3, sender_id: 2, created_at: "2025-01-06T01:00:30Z" }),
      ],
      [],
      opts,
    );
    expect(rows.map((r) => r.type)).toEqual(["date", "message", "system", "message"]);
    const msgs = rows.filter((r) => r.type === "message");
    expect(msgs.map((r) => [r.first, r.last])).toEqual([
      [true, true],
      [true, true],
    ]);
  });

  it("inserts date separators and the first-unread line", () => {
    const rows = buildRows(
      [
        message({ seq: 1, created_at: "2025-01-05T01:00:00Z" }),
        message({ seq: 2, created_at: "2025-01-06T01:00:00Z" }),
        message({ seq: 3, created_at: "2025-01-06T01:05:00Z" }),
      ],
      [],
      { ...opts, firstUnreadSeq: 3 },
    );
    expect(rows.map((r) => r.type)).toEqual(["date", "message", "date", "message", "unread", "message"]);
  });

  it("hides a pending message once its confirmed copy is in the timeline", () => {
    const pending = {
      client_msg_id: "abc12345",
      room_id: 1,
      body: "x",
      reply_to_id: null,
      created_at: "2025-01-06T01:00:00Z",
      state: "pending" as const,
      error_code: null,
    };
    expect(buildRows([message({ seq: 1, client_msg_id: "abc12345" })], [pending], opts).filter((r) => r.type === "pending")).toHaveLength(0);
    expect(buildRows([], [pending], opts).filter((r) => r.type === "pending")).toHaveLength(1);
  });
});
