import { afterEach, describe, expect, it, vi } from "vitest";
import { message, room } from "../../test/factories";
import { Drafts } from "../chat/drafts";
import { DebouncedSave, SnapshotCache } from "./snapshot";

class MemoryStorage {
  map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

describe("offline snapshot and drafts", () => {
  it("keeps rooms and the newest 50 messages of the 10 most recent rooms, per user", () => {
    const storage = new MemoryStorage();
    const cache = new SnapshotCache(storage, 7);
    cache.saveRooms([room({ id: 1 })]);
    expect(cache.loadRooms()?.map((r) => r.id)).toEqual([1]);
    cache.saveTimeline(1, Array.from({ length: 80 }, (_, i) => message({ seq: i + 1 })));
    expect(cache.loadTimeline(1)?.map((m) => m.seq)[0]).toBe(31);
    for (let id = 2; id <= 12; id++) cache.saveTimeline(id, [message({ seq: 1 })]);
    expect(cache.loadTimeline(1)).toBeNull(); // evicted: 11 rooms were saved after it
    expect(new SnapshotCache(storage, 8).loadRooms()).toBeNull();
  });

  it("a draft per room and per user; clearing removes it", () => {
    const storage = new MemoryStorage();
    const d = new Drafts(storage, 1);
    d.set(5, "쓰던 글");
    expect(d.get(5)).toBe("쓰던 글");
    expect(new Drafts(storage, 2).get(5)).toBe("");
    d.set(5, "");
    expect(storage.map.size).toBe(0);
  });
});

describe("the snapshot's debounced save", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("saves once per burst of changes, a second after the first", () => {
    vi.useFakeTimers();
    const save = vi.fn();
    const saver = new DebouncedSave(save, 1000);
    saver.schedule();
    vi.advanceTimersByTime(600);
    saver.schedule();
    expect(save).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(save).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(save).toHaveBeenCalledTimes(1);
  });

  it("flush (the page hidden or unloading) saves a pending change at once, and only then", () => {
    vi.useFakeTimers();
    const save = vi.fn();
    const saver = new DebouncedSave(save, 1000);
    saver.flush();
    expect(save).not.toHaveBeenCalled(); // nothing pending
    saver.schedule();
    saver.flush();
    expect(save).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(save).toHaveBeenCalledTimes(1); // the timer went with the flush
  });
});
