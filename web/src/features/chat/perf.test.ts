import { describe, expect, it } from "vitest";
import type { Message } from "../../lib/model";
import { message } from "../../test/factories";
import { dayKey, minuteKey } from "../../lib/time";
import { buildRows } from "./rows";
import { buildReadIndex, mergeMessages, unreadCount } from "./timeline";

// The virtualised list renders only what is on screen; what must stay cheap with 100,000 loaded
// messages is the work done on every change: merging a page, building rows, counting unread.
describe("100,000 messages", () => {
  const many: Message[] = Array.from({ length: 100_000 }, (_, i) =>
    message({ seq: i + 1, id: i + 1, event_seq: i + 1, sender_id: (i % 7) + 1, created_at: new Date(Date.UTC(2025, 0, 1) + i * 20_000).toISOString() }),
  );

  it("merges a live message and an older page quickly", () => {
    const t0 = performance.now();
    const appended = mergeMessages(many, [message({ seq: 100_001, id: 100_001, event_seq: 100_001 })]);
    const older = mergeMessages(appended.slice(50), appended.slice(0, 50));
    expect(older).toHaveLength(100_001);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it("builds rows and unread counts for all of them well under a second", () => {
    const index = buildReadIndex(Array.from({ length: 500 }, (_, i) => ({ user_id: i + 1, last_read_seq: i * 200 })));
    const t0 = performance.now();
    const rows = buildRows(many, [], { myUserId: 1, firstUnreadSeq: 99_990, dayOf: dayKey, minuteOf: minuteKey });
    let total = 0;
    for (const m of many) total += unreadCount(index, m.seq, m.sender_id);
    expect(rows.length).toBeGreaterThan(100_000);
    expect(total).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeLessThan(3_000);
  });
});
