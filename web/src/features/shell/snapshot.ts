import type { Message, PersonSummary, RoomSummary } from "../../lib/model";
import type { KeyValueStorage } from "../auth/authStore";

const TIMELINE_KEEP = 50;
const TIMELINE_ROOMS = 10;

/**
 * The last known room list, people and the newest messages of recently opened rooms, so a reload
 * without network (the service worker serves the app shell) still shows the user's chats.
 */
export class SnapshotCache {
  private readonly storage: KeyValueStorage;
  private readonly prefix: string;

  constructor(storage: KeyValueStorage, userId: number) {
    this.storage = storage;
    this.prefix = `sodam.cache.${userId}.`;
  }

  saveRooms(rooms: readonly RoomSummary[]): void {
    this.write("rooms", rooms);
  }

  loadRooms(): RoomSummary[] | null {
    return this.read<RoomSummary[]>("rooms");
  }

  savePeople(people: readonly PersonSummary[]): void {
    this.write("people", people);
  }

  loadPeople(): PersonSummary[] | null {
    return this.read<PersonSummary[]>("people");
  }

  saveTimeline(roomId: number, messages: readonly Message[]): void {
    this.write(`timeline.${roomId}`, messages.slice(-TIMELINE_KEEP));
    const order = (this.read<number[]>("timelines") ?? []).filter((id) => id !== roomId);
    order.unshift(roomId);
    for (const old of order.splice(TIMELINE_ROOMS)) this.storage.removeItem(`${this.prefix}timeline.${old}`);
    this.write("timelines", order);
  }

  loadTimeline(roomId: number): Message[] | null {
    return this.read<Message[]>(`timeline.${roomId}`);
  }

  private write(key: string, value: unknown): void {
    try {
      this.storage.setItem(this.prefix + key, JSON.stringify(value));
    } catch {
      // Quota exceeded: the cache is a convenience, never a requirement.
    }
  }

  private read<T>(key: string): T | null {
    try {
      const raw = this.storage.getItem(this.prefix + key);
      return raw ? (JSON.parse(raw) as T) : null;
    } catch {
      return null;
    }
  }
}

/**
 * Runs `save` once, `delayMs` after the first of a burst of changes; `flush()` runs a pending save
 * at once. The session flushes when the page is hidden or unloaded, so a reload or a closed tab
 * right after a change (the room list just loaded, a message just queued offline) does not lose it.
 */
export class DebouncedSave {
  private readonly save: () => void;
  private readonly delayMs: number;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(save: () => void, delayMs: number) {
    this.save = save;
    this.delayMs = delayMs;
  }

  schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.save();
  }
}
