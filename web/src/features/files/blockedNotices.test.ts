import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BLOCKED_NOTICE_MS, BlockedNotices, type FileBlockedFrame } from "./blockedNotices";

const frame = (attachmentId: number, fileName = `file-${attachmentId}.zip`): FileBlockedFrame => ({
  type: "file.blocked",
  attachment_id: attachmentId,
  room_id: 7,
  message_id: attachmentId * 10,
  file_name: fileName,
  signature: "Eicar-Test-Signature",
});

// The same timers the session hands its stores (window.setTimeout), faked by Vitest.
const timers = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

describe("BlockedNotices (file.blocked notices)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps the frame's fields and goes by itself after 8 s", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(42, "견적서.zip"));
    expect(store.getState()).toEqual([{ id: expect.any(Number), attachmentId: 42, roomId: 7, messageId: 420, fileName: "견적서.zip" }]);
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS - 1);
    expect(store.getState()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(store.getState()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("dismiss removes it at once and cancels its timer", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1));
    store.add(frame(2));
    store.dismiss(store.getState()[0]!.id);
    expect(store.getState().map((n) => n.attachmentId)).toEqual([2]);
    expect(vi.getTimerCount()).toBe(1);
  });

  it("several in a row: each shown, newest last, at most 3 (the oldest gives way), each with its own time", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1));
    vi.advanceTimersByTime(3000);
    store.add(frame(2));
    store.add(frame(3));
    store.add(frame(4));
    expect(store.getState().map((n) => n.attachmentId)).toEqual([2, 3, 4]);
    expect(vi.getTimerCount()).toBe(3);
    store.add(frame(3)); // the same attachment again: not shown twice
    expect(store.getState().map((n) => n.attachmentId)).toEqual([2, 3, 4]);
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS);
    expect(store.getState()).toEqual([]);
  });

  it("none goes while pointed at or focused; each gets its full time again afterwards", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1));
    vi.advanceTimersByTime(5000);
    store.hold("pointer", true);
    store.hold("focus", true);
    vi.advanceTimersByTime(60_000);
    expect(store.getState()).toHaveLength(1);
    store.hold("pointer", false);
    vi.advanceTimersByTime(60_000);
    expect(store.getState()).toHaveLength(1);
    store.hold("focus", false);
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS - 1);
    expect(store.getState()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(store.getState()).toEqual([]);
  });

  it("a notice pushed out while the focus was in the notices does not hold the others forever", () => {
    const store = new BlockedNotices(timers);
    for (const id of [1, 2, 3]) store.add(frame(id));
    store.hold("focus", true); // e.g. on notice 1's close button, which then goes without a blur
    store.add(frame(4));
    expect(store.getState().map((n) => n.attachmentId)).toEqual([2, 3, 4]);
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS);
    expect(store.getState()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("clear (signing out) drops every notice and timer", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1));
    store.add(frame(2));
    store.clear();
    expect(store.getState()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
