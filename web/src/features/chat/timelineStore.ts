import type { Message, ReadPosition } from "../../lib/model";
import { Store } from "../../lib/store";
import type { MessagingApi } from "../rooms/roomsApi";
import { mergeMessages, mergeReads } from "./timeline";

export interface RoomTimeline {
  messages: Message[];
  reads: ReadPosition[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
  loading: "initial" | "older" | "newer" | null;
  loaded: boolean;
  error: string | null;
}

export interface TimelinesState {
  rooms: Record<number, RoomTimeline>;
}

export interface TimelineDeps {
  api: Pick<MessagingApi, "messages" | "reads">;
  pageSize?: number;
}

const EMPTY: RoomTimeline = {
  messages: [],
  reads: [],
  hasMoreBefore: true,
  hasMoreAfter: false,
  loading: null,
  loaded: false,
  error: null,
};

/**
 * The loaded part of each room's history. Pages come from REST, live messages from events; both go
 * through mergeMessages, so duplicates collapse by id and the order is always by seq.
 */
export class TimelinesStore extends Store<TimelinesState> {
  private readonly deps: TimelineDeps;
  private readonly inflight = new Map<string, Promise<void>>();
  /**
   * Per room, one list per page request in flight: the live changes that arrived meanwhile. The
   * page may have been read before them (a scan result, a thumbnail, an edit), so they are applied
   * again on top of it; merging by id and event_seq makes a second application harmless.
   */
  private readonly arrivals = new Map<number, Set<(() => void)[]>>();

  constructor(deps: TimelineDeps) {
    super({ rooms: {} });
    this.deps = deps;
  }

  room(roomId: number): RoomTimeline {
    return this.getState().rooms[roomId] ?? EMPTY;
  }

  /** Loads the newest page (or the page around `aroundSeq`) and the members' read positions. */
  open(roomId: number, aroundSeq?: number): Promise<void> {
    const current = this.getState().rooms[roomId];
    if (current?.loaded && aroundSeq === undefined) return Promise.resolve();
    return this.once(`open:${roomId}:${aroundSeq ?? ""}`, async () => {
      this.update(roomId, (t) => ({ ...t, loading: "initial", error: null }));
      const arrived = this.watchArrivals(roomId);
      try {
        const limit = this.deps.pageSize ?? 50;
        const [page, reads] = await Promise.all([
          this.deps.api.messages(roomId, aroundSeq !== undefined ? { around: aroundSeq, limit } : { limit }),
          this.deps.api.reads(roomId).catch(() => ({ reads: [] as ReadPosition[] })),
        ]);
        this.update(roomId, (t) => ({
          ...t,
          messages: aroundSeq !== undefined ? page.messages : keepContiguous(t.messages, page),
          reads: mergeReads(t.reads, reads.reads),
          hasMoreBefore: page.has_more_before,
          hasMoreAfter: page.has_more_after,
          loading: null,
          loaded: true,
        }));
        this.replayArrivals(roomId, arrived);
      } catch (error) {
        this.unwatchArrivals(roomId, arrived);
        this.update(roomId, (t) => ({ ...t, loading: null, error: errorCode(error) }));
      }
    });
  }

  /** Messages from the offline cache, shown until the server answers (not marked loaded). */
  hydrate(roomId: number, messages: readonly Message[]): void {
    if (this.getState().rooms[roomId]?.loaded) return;
    this.update(roomId, (t) => ({ ...t, messages: mergeMessages(t.messages, messages) }));
  }

  /** Reloads the newest page after a resync; keeps what is loaded, merging by id. */
  async refresh(roomId: number): Promise<void> {
    const t = this.getState().rooms[roomId];
    if (!t?.loaded) return;
    if (t.hasMoreAfter) {
      // We were reading an old window; drop it and start from the newest page.
      this.update(roomId, () => ({ ...EMPTY }));
      await this.open(roomId);
      return;
    }
    const page = await this.deps.api.messages(roomId, { limit: this.deps.pageSize ?? 50 });
    const reads = await this.deps.api.reads(roomId).catch(() => ({ reads: [] as ReadPosition[] }));
    this.update(roomId, (cur) => {
      const oldest = page.messages[0];
      const newestLoaded = cur.messages[cur.messages.length - 1];
      // A hole between what we had and the fresh page: keep only the fresh page.
      const contiguous = !page.has_more_before || !oldest || !newestLoaded || oldest.seq <= newestLoaded.seq + 1;
      return {
        ...cur,
        messages: contiguous ? mergeMessages(cur.messages, page.messages) : page.messages,
        hasMoreBefore: contiguous ? cur.hasMoreBefore : page.has_more_before,
        reads: mergeReads(cur.reads, reads.reads),
      };
    });
  }

  loadOlder(roomId: number): Promise<void> {
    const t = this.room(roomId);
    if (!t.loaded || !t.hasMoreBefore || t.loading) return Promise.resolve();
    const first = t.messages[0];
    if (!first) return Promise.resolve();
    // The loading flag (set synchronously) is the guard: a caller reacting to this very update
    // must be able to ask for the next page at once.
    return (async () => {
      this.update(roomId, (cur) => ({ ...cur, loading: "older" }));
      try {
        const page = await this.deps.api.messages(roomId, { before: first.seq, limit: this.deps.pageSize ?? 50 });
        this.update(roomId, (cur) => ({
          ...cur,
          messages: mergeMessages(cur.messages, page.messages),
          hasMoreBefore: page.has_more_before,
          loading: null,
        }));
      } catch (error) {
        this.update(roomId, (cur) => ({ ...cur, loading: null, error: errorCode(error) }));
      }
    })();
  }

  loadNewer(roomId: number): Promise<void> {
    const t = this.room(roomId);
    if (!t.loaded || !t.hasMoreAfter || t.loading) return Promise.resolve();
    const last = t.messages[t.messages.length - 1];
    if (!last) return Promise.resolve();
    return (async () => {
      this.update(roomId, (cur) => ({ ...cur, loading: "newer" }));
      try {
        const page = await this.deps.api.messages(roomId, { after: last.seq, limit: this.deps.pageSize ?? 50 });
        this.update(roomId, (cur) => ({
          ...cur,
          messages: mergeMessages(cur.messages, page.messages),
          hasMoreAfter: page.has_more_after,
          loading: null,
        }));
      } catch (error) {
        this.update(roomId, (cur) => ({ ...cur, loading: null, error: errorCode(error) }));
      }
    })();
  }

  /** A created or updated message, live or from our own acknowledged send. */
  applyMessage(message: Message): void {
    this.noteArrival(message.room_id, () => this.applyMessage(message));
    const t = this.getState().rooms[message.room_id];
    if (!t?.loaded) return;
    const newest = t.messages[t.messages.length - 1];
    // While an old window is shown, new messages come with paging, not appended after a hole.
    if (t.hasMoreAfter && newest && message.seq > newest.seq) return;
    this.update(message.room_id, (cur) => ({ ...cur, messages: mergeMessages(cur.messages, [message]) }));
  }

  /** reaction.updated carries only the message id and its new reactions. */
  applyReactions(roomId: number, messageId: number, reactions: Message["reactions"]): void {
    this.noteArrival(roomId, () => this.applyReactions(roomId, messageId, reactions));
    const t = this.getState().rooms[roomId];
    if (!t?.loaded) return;
    const index = t.messages.findIndex((m) => m.id === messageId);
    if (index < 0) return;
    this.update(roomId, (cur) => {
      const messages = cur.messages.slice();
      const current = messages[index];
      if (!current || current.id !== messageId) return cur;
      messages[index] = { ...current, reactions };
      return { ...cur, messages };
    });
  }

  applyReads(roomId: number, reads: readonly ReadPosition[]): void {
    if (!this.getState().rooms[roomId]) return;
    this.update(roomId, (cur) => {
      const merged = mergeReads(cur.reads, reads);
      return merged === cur.reads ? cur : { ...cur, reads: merged };
    });
  }

  /** Membership changed: positions of members who left must stop counting (a merge keeps them). */
  async reloadReads(roomId: number): Promise<void> {
    if (!this.getState().rooms[roomId]?.loaded) return;
    let fresh: ReadPosition[];
    try {
      fresh = (await this.deps.api.reads(roomId)).reads;
    } catch {
      return;
    }
    this.update(roomId, (cur) => {
      const known = new Map(cur.reads.map((r) => [r.user_id, r.last_read_seq] as const));
      const reads = fresh.map((r) => ({ user_id: r.user_id, last_read_seq: Math.max(r.last_read_seq, known.get(r.user_id) ?? 0) }));
      return { ...cur, reads };
    });
  }

  forget(roomId: number): void {
    this.setState((s) => {
      const rooms = { ...s.rooms };
      delete rooms[roomId];
      return { rooms };
    });
  }

  private watchArrivals(roomId: number): (() => void)[] {
    const arrived: (() => void)[] = [];
    const lists = this.arrivals.get(roomId) ?? new Set();
    lists.add(arrived);
    this.arrivals.set(roomId, lists);
    return arrived;
  }

  private unwatchArrivals(roomId: number, arrived: (() => void)[]): void {
    const lists = this.arrivals.get(roomId);
    lists?.delete(arrived);
    if (lists?.size === 0) this.arrivals.delete(roomId);
  }

  /** Applies again what arrived while the page was on its way (no longer recorded for it). */
  private replayArrivals(roomId: number, arrived: (() => void)[]): void {
    this.unwatchArrivals(roomId, arrived);
    for (const change of arrived) change();
  }

  private noteArrival(roomId: number, change: () => void): void {
    for (const arrived of this.arrivals.get(roomId) ?? []) arrived.push(change);
  }

  private update(roomId: number, fn: (t: RoomTimeline) => RoomTimeline): void {
    this.setState((s) => {
      const current = s.rooms[roomId] ?? EMPTY;
      const next = fn(current);
      if (next === current) return s;
      return { rooms: { ...s.rooms, [roomId]: next } };
    });
  }

  private once(key: string, fn: () => Promise<void>): Promise<void> {
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

/** Cached messages are kept only when they join the fresh page without a hole. */
function keepContiguous(cached: readonly Message[], page: { messages: Message[]; has_more_before: boolean }): Message[] {
  const oldest = page.messages[0];
  if (!oldest || !page.has_more_before) return mergeMessages(cached, page.messages);
  const joins = cached.some((m) => m.seq >= oldest.seq - 1);
  return joins ? mergeMessages(cached.filter((m) => m.seq >= (cached[0]?.seq ?? 0)), page.messages) : page.messages;
}

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "network_error";
}
