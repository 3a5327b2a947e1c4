import type { Message } from "../../lib/model";
import { Store } from "../../lib/store";
import type { FilesApi } from "./filesApi";
import { type Attachment, type DrawerFile, type DrawerKind, attachmentProgress, attachmentsOf } from "./types";

/** The drawer's tabs: 사진·동영상, and every other file (documents, archives, audio). */
export type DrawerTab = "media" | "files";

const TAB_SOURCES: Record<DrawerTab, DrawerKind[]> = {
  media: ["media"],
  files: ["file", "audio"],
};

const SOURCE_KINDS: Record<DrawerKind, Attachment["kind"][]> = {
  media: ["image", "video"],
  image: ["image"],
  video: ["video"],
  audio: ["audio"],
  file: ["file"],
};

/** One `kind` query of the endpoint: its pages so far, newest first. */
export interface DrawerSource {
  kind: DrawerKind;
  items: DrawerFile[];
  hasMore: boolean;
}

export interface DrawerList {
  sources: DrawerSource[];
  loaded: boolean;
  loading: boolean;
  error: string | null;
}

export interface DrawerState {
  lists: Record<string, DrawerList>;
}

export interface DrawerDeps {
  api: Pick<FilesApi, "drawer">;
  pageSize?: number;
}

const EMPTY: DrawerList = { sources: [], loaded: false, loading: false, error: null };

/**
 * The room drawer (서랍): files and media of a room, newest first, paged with `before`. A tab may
 * merge several `kind` queries; it then shows only what is certain to be in order (nothing older
 * than the oldest item of a query that has more to give). Kept current by message events: scan and
 * thumbnail states change in place, new files come in on top, unsent messages take theirs away.
 */
export class DrawerStore extends Store<DrawerState> {
  private readonly deps: DrawerDeps;
  /** Per room, one list per first load in flight: messages that changed meanwhile (see open). */
  private readonly arrivals = new Map<number, Set<Message[]>>();

  constructor(deps: DrawerDeps) {
    super({ lists: {} });
    this.deps = deps;
  }

  list(roomId: number, tab: DrawerTab): DrawerList {
    return this.getState().lists[key(roomId, tab)] ?? EMPTY;
  }

  /** Loads the newest page of every query of the tab (again, if it was loaded before). */
  async open(roomId: number, tab: DrawerTab): Promise<void> {
    if (this.list(roomId, tab).loading) return;
    this.update(roomId, tab, (l) => ({ ...l, loading: true, error: null }));
    // A scan or thumbnail may finish after the server read a page and before the page is here:
    // those messages are applied again on top of it (applyMessage only moves states forward).
    const arrived: Message[] = [];
    const watching = this.arrivals.get(roomId) ?? new Set();
    watching.add(arrived);
    this.arrivals.set(roomId, watching);
    try {
      const sources = await Promise.all(
        TAB_SOURCES[tab].map(async (kind) => {
          const page = await this.deps.api.drawer(roomId, { kind, limit: this.deps.pageSize ?? 50 });
          return { kind, items: page.files, hasMore: page.has_more };
        }),
      );
      this.update(roomId, tab, () => ({ sources, loaded: true, loading: false, error: null }));
    } catch (error) {
      this.update(roomId, tab, (l) => ({ ...l, loading: false, error: errorCode(error) }));
    } finally {
      watching.delete(arrived);
      if (watching.size === 0) this.arrivals.delete(roomId);
    }
    for (const message of arrived) this.applyMessage(message);
  }

  /** The next page of each query whose oldest item is where the merged list stops. */
  async loadMore(roomId: number, tab: DrawerTab): Promise<void> {
    const current = this.list(roomId, tab);
    if (!current.loaded || current.loading) return;
    const edge = frontier(current.sources);
    const due = current.sources.filter((s) => s.hasMore && (s.items.length === 0 || lastId(s) === edge));
    if (due.length === 0) return;
    this.update(roomId, tab, (l) => ({ ...l, loading: true, error: null }));
    try {
      const pages = await Promise.all(
        due.map(async (s) => {
          const before = s.items[s.items.length - 1]?.id;
          const page = await this.deps.api.drawer(roomId, {
            kind: s.kind,
            limit: this.deps.pageSize ?? 50,
            ...(before !== undefined ? { before } : {}),
          });
          return [s.kind, page] as const;
        }),
      );
      this.update(roomId, tab, (l) => ({
        ...l,
        loading: false,
        sources: l.sources.map((s) => {
          const page = pages.find(([kind]) => kind === s.kind)?.[1];
          if (!page) return s;
          const known = new Set(s.items.map((i) => i.id));
          return { ...s, items: [...s.items, ...page.files.filter((f) => !known.has(f.id))], hasMore: page.has_more };
        }),
      }));
    } catch (error) {
      this.update(roomId, tab, (l) => ({ ...l, loading: false, error: errorCode(error) }));
    }
  }

  /** A message was created or changed (live event, or our own send acknowledged). */
  applyMessage(message: Message): void {
    for (const arrived of this.arrivals.get(message.room_id) ?? []) arrived.push(message);
    const prefix = `${message.room_id}:`;
    const gone = message.deleted_at !== null || message.hidden;
    const attachments = gone ? [] : attachmentsOf(message);
    this.setState((state) => {
      let changed = false;
      const lists = { ...state.lists };
      for (const [k, list] of Object.entries(state.lists)) {
        if (!k.startsWith(prefix) || !list.loaded) continue;
        const sources = list.sources.map((source) => {
          let items = gone ? source.items.filter((i) => i.message_id !== message.id) : source.items;
          const fresh: DrawerFile[] = [];
          for (const a of attachments) {
            const index = items.findIndex((i) => i.id === a.id);
            if (index >= 0) {
              const existing = items[index] as DrawerFile;
              if (attachmentProgress(existing) > attachmentProgress(a)) continue;
              items = items.slice();
              items[index] = { ...existing, ...a };
            } else if (SOURCE_KINDS[source.kind].includes(a.kind) && a.id > (items[0]?.id ?? 0)) {
              fresh.push({ ...a, message_id: message.id, sender_id: message.sender_id, created_at: message.created_at });
            }
          }
          if (fresh.length > 0) items = [...fresh.sort((x, y) => y.id - x.id), ...items];
          if (items === source.items) return source;
          changed = true;
          return { ...source, items };
        });
        lists[k] = { ...list, sources };
      }
      return changed ? { lists } : state;
    });
  }

  private update(roomId: number, tab: DrawerTab, fn: (l: DrawerList) => DrawerList): void {
    const k = key(roomId, tab);
    this.setState((s) => ({ lists: { ...s.lists, [k]: fn(s.lists[k] ?? EMPTY) } }));
  }
}

/** What the tab shows: every query's items merged newest first, down to the frontier. */
export function visibleFiles(list: DrawerList): DrawerFile[] {
  const edge = frontier(list.sources);
  // Once each: an attachment that two queries answered (a server whose kinds overlap) is one file.
  const byId = new Map(list.sources.flatMap((s) => s.items).filter((i) => i.id >= edge).map((i) => [i.id, i]));
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

export function hasMoreFiles(list: DrawerList): boolean {
  return list.sources.some((s) => s.hasMore);
}

/** The oldest id every query is known to have reached (0 when all are complete). */
function frontier(sources: readonly DrawerSource[]): number {
  let edge = 0;
  for (const s of sources) if (s.hasMore) edge = Math.max(edge, lastId(s));
  return edge;
}

function lastId(s: DrawerSource): number {
  return s.items[s.items.length - 1]?.id ?? Number.MAX_SAFE_INTEGER;
}

function key(roomId: number, tab: DrawerTab): string {
  return `${roomId}:${tab}`;
}

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "network_error";
}
