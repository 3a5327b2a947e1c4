import { describe, expect, it } from "vitest";
import type { Message, MessagePage } from "../../lib/model";
import { attachment, fileMessage, message } from "../../test/factories";
import { attachmentsOf } from "../files/types";
import type { PageQuery } from "../rooms/roomsApi";
import { TimelinesStore } from "./timelineStore";
import { TypingStore } from "./typingStore";

/** A fake server holding seqs 1..n of room 1. */
function fakeApi(n: number) {
  const all: Message[] = Array.from({ length: n }, (_, i) => message({ seq: i + 1 }));
  const calls: PageQuery[] = [];
  return {
    calls,
    all,
    api: {
      messages: async (_room: number, q: PageQuery): Promise<MessagePage> => {
        calls.push(q);
        const limit = q.limit ?? 50;
        let page: Message[];
        if (q.before !== undefined) page = all.filter((m) => m.seq < q.before!).slice(-limit);
        else if (q.after !== undefined) page = all.filter((m) => m.seq > q.after!).slice(0, limit);
        else if (q.around !== undefined) {
          const i = all.findIndex((m) => m.seq === q.around);
          page = all.slice(Math.max(0, i - limit / 2), i + limit / 2);
        } else page = all.slice(-limit);
        const first = page[0]?.seq ?? 0;
        const last = page[page.length - 1]?.seq ?? 0;
        return { messages: page, has_more_before: first > 1, has_more_after: last < all.length };
      },
      reads: async () => ({ reads: [{ user_id: 2, last_read_seq: 3 }] }),
    },
  };
}

describe("TimelinesStore", () => {
  it("opens at the newest page with the members' read positions", async () => {
    const { api } = fakeApi(120);
    const s = new TimelinesStore({ api, pageSize: 50 });
    await s.open(1);
    const t = s.room(1);
    expect(t.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
    expect(t).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false, loaded: true, reads: [{ user_id: 2, last_read_seq: 3 }] });
  });

  it("keeps changes that arrive while the first page is on its way (the page may predate them)", async () => {
    const pending = fileMessage([attachment({ id: 42, kind: "image", scan_state: "pending", thumbnail: "pending" })], { seq: 1, event_seq: 1 });
    let answer: (page: MessagePage) => void = () => undefined;
    const s = new TimelinesStore({
      api: {
        messages: () => new Promise<MessagePage>((ok) => (answer = ok)),
        reads: async () => ({ reads: [] }),
      },
    });
    const opened = s.open(1);
    // The server read the page, then the thumbnail job and the scan finished: their events come
    // in before the page does. The message keeps its own event_seq.
    s.applyMessage({ ...pending, attachments: [attachment({ id: 42, kind: "image", scan_state: "pending", thumbnail: "ready" })] });
    s.applyMessage({ ...pending, attachments: [attachment({ id: 42, kind: "image", scan_state: "clean", thumbnail: "ready", downloadable: true })] });
    s.applyReactions(1, pending.id, [{ reaction: "heart", count: 1, user_ids: [3] }]);
    answer({ messages: [pending], has_more_before: false, has_more_after: false });
    await opened;
    const [shown] = s.room(1).messages;
    expect(attachmentsOf(shown!)).toMatchObject([{ scan_state: "clean", thumbnail: "ready", downloadable: true }]);
    expect(shown!.reactions).toHaveLength(1);
    // Afterwards changes apply directly, nothing is replayed twice.
    s.applyMessage({ ...pending, body: "캡션", event_seq: 5 });
    expect(s.room(1).messages.map((m) => m.body)).toEqual(["캡션"]);
  });

  it("loads older pages until the beginning, each page once", async () => {
    const { api, calls } = fakeApi(120);
    const s = new TimelinesStore({ api, pageSize: 50 });
    await s.open(1);
    await Promise.all([s.loadOlder(1), s.loadOlder(1)]);
    await s.loadOlder(1);
    await s.loadOlder(1);
    expect(s.room(1).messages.map((m) => m.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(s.room(1).hasMoreBefore).toBe(false);
    expect(calls.filter((c) => c.before !== undefined).map((c) => c.before)).toEqual([71, 21]);
  });

  it("appends live messages once, and ignores them while an old window is shown", async () => {
    const { api } = fakeApi(120);
    const s = new TimelinesStore({ api, pageSize: 50 });
    await s.open(1);
    const live = message({ seq: 121 });
    s.applyMessage(live);
    s.applyMessage(live);
    expect(s.room(1).messages.filter((m) => m.seq === 121)).toHaveLength(1);
    await s.open(1, 10); // jump to an old message
    expect(s.room(1).hasMoreAfter).toBe(true);
    s.applyMessage(message({ seq: 122 }));
    expect(s.room(1).messages.some((m) => m.seq === 122)).toBe(false);
    await s.loadNewer(1);
    expect(s.room(1).messages.length).toBeGreaterThan(50);
  });

  it("applies reactions by message id and reads monotonically", async () => {
    const { api } = fakeApi(10);
    const s = new TimelinesStore({ api });
    await s.open(1);
    const target = s.room(1).messages[4]!;
    s.applyReactions(1, target.id, [{ reaction: "heart", count: 2, user_ids: [1, 2] }]);
    expect(s.room(1).messages[4]?.reactions).toEqual([{ reaction: "heart", count: 2, user_ids: [1, 2] }]);
    s.applyReads(1, [{ user_id: 2, last_read_seq: 1 }]);
    expect(s.room(1).reads).toEqual([{ user_id: 2, last_read_seq: 3 }]);
    s.applyReads(1, [{ user_id: 2, last_read_seq: 9 }]);
    expect(s.room(1).reads).toEqual([{ user_id: 2, last_read_seq: 9 }]);
  });

  it("after a membership change, members who left stop counting; positions never go back", async () => {
    const fake = fakeApi(10);
    let reads = [
      { user_id: 2, last_read_seq: 3 },
      { user_id: 3, last_read_seq: 1 },
    ];
    const s = new TimelinesStore({ api: { ...fake.api, reads: async () => ({ reads }) } });
    await s.open(1);
    s.applyReads(1, [{ user_id: 2, last_read_seq: 8 }]);
    reads = [{ user_id: 2, last_read_seq: 5 }]; // user 3 left; the fetch is older than our frame
    await s.reloadReads(1);
    expect(s.room(1).reads).toEqual([{ user_id: 2, last_read_seq: 8 }]);
  });

  it("an offline snapshot is shown until the server answers, then merged when contiguous", async () => {
    const { api } = fakeApi(60);
    const s = new TimelinesStore({ api, pageSize: 50 });
    s.hydrate(1, [message({ seq: 5 }), message({ seq: 6 })]);
    expect(s.room(1).loaded).toBe(false);
    expect(s.room(1).messages.map((m) => m.seq)).toEqual([5, 6]);
    await s.open(1);
    // 5 and 6 do not join the fresh page (11..60) without a hole: only the page is kept.
    expect(s.room(1).messages[0]?.seq).toBe(11);
  });
});

describe("TypingStore", () => {
  it("expires typing after a few seconds and clears it when their message arrives", () => {
    let now = 0;
    const t = new TypingStore(() => now);
    t.typing(1, 2);
    t.typing(1, 3);
    expect(t.typingIn(1, 3)).toEqual([2]);
    t.stopped(1, 2);
    expect(t.typingIn(1, 9)).toEqual([3]);
    now = 10_000;
    t.sweep();
    expect(t.typingIn(1, 9)).toEqual([]);
  });
});
