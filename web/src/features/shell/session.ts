import { authedFetch, createApiClient, type ApiClient, type FetchLike } from "../../lib/http";
import type { Message } from "../../lib/model";
import { ValueStore } from "../../lib/store";
import { RealtimeConnection, type SocketLike } from "../../realtime/connection";
import { SyncEngine } from "../../realtime/sync";
import type { AuthStore } from "../auth/authStore";
import { Drafts } from "../chat/drafts";
import { IdbPendingStorage } from "../chat/idbPendingStorage";
import { Outbox, MemoryPendingStorage, type PendingStorage } from "../chat/outbox";
import { SentFiles } from "../chat/sentFiles";
import { TimelinesStore } from "../chat/timelineStore";
import { TypingStore } from "../chat/typingStore";
import { PeopleStore } from "../people/peopleStore";
import { PresenceStore } from "../presence/presenceStore";
import { createMessagingApi, type MessagingApi } from "../rooms/roomsApi";
import { RoomsStore } from "../rooms/roomsStore";
import { unwrap } from "../../lib/http";
import { BlockedNotices } from "../files/blockedNotices";
import { DrawerStore } from "../files/drawerStore";
import { type FilesApi, UPLOADS_ENDPOINT, createFilesApi } from "../files/filesApi";
import { DEFAULT_ATTACHMENT_MAX_BYTES } from "../files/types";
import type { MediaAccess } from "../files/useMedia";
import { type ArmedSend, type Rejection, UploadManager } from "../files/uploads";
import { DebouncedSave, SnapshotCache } from "./snapshot";

/** The media cookie lives as long as the access token: refresh it this long before. */
const MEDIA_MARGIN_MS = 60_000;

export interface ViewState {
  /** The room on screen, and whether its newest message is in view with the tab visible. */
  roomId: number | null;
  atBottom: boolean;
  visible: boolean;
}

export interface SessionDeps {
  auth: AuthStore;
  userId: number;
  fetch: FetchLike;
  createSocket(url: string): SocketLike;
  wsUrl: string;
  storage: Storage;
  now(): number;
  isNetworkOnline(): boolean;
  notify(message: Message): void;
  pendingStorage?: PendingStorage;
}

/**
 * Everything a logged-in user's screens need, wired together once: the generated API client, the
 * stores, the outbox, and the real-time connection feeding them.
 */
export class Session {
  readonly userId: number;
  readonly client: ApiClient;
  readonly api: MessagingApi;
  readonly rooms: RoomsStore;
  readonly timelines: TimelinesStore;
  readonly outbox: Outbox;
  readonly typing: TypingStore;
  readonly presence: PresenceStore;
  readonly people: PeopleStore;
  readonly drafts: Drafts;
  readonly files: FilesApi;
  readonly uploads: UploadManager;
  readonly drawer: DrawerStore;
  /** "The file you sent was blocked" notices (`file.blocked` frames). */
  readonly blockedFiles: BlockedNotices;
  readonly media: MediaAccess;
  /** Bumped when a caption is handed back to a composer (it then re-reads its draft). */
  readonly composerEpoch = new ValueStore<number>(0);
  /** Whether the server scans files for viruses (server-info); null until it has answered. */
  readonly virusScanning = new ValueStore<boolean | null>(null);
  readonly connection: RealtimeConnection;
  readonly sync: SyncEngine;
  readonly view = new ValueStore<ViewState>({ roomId: null, atBottom: true, visible: true });
  private readonly readSent = new Map<number, number>();
  private readonly sentFiles = new SentFiles();
  private readonly snapshot: SnapshotCache;
  private fresh = { rooms: false, people: false };
  private readonly saver = new DebouncedSave(() => this.saveSnapshot(), 1000);
  private readonly unsubscribe: (() => void)[] = [];
  private runs = 0; // start() and stop() calls: a start that was stopped meanwhile ends early
  private flushTimer: number | null = null;
  private attachmentMaxBytes = DEFAULT_ATTACHMENT_MAX_BYTES;
  private lastMediaRefresh = 0;

  constructor(deps: SessionDeps) {
    this.userId = deps.userId;
    const fetchImpl = authedFetch(deps.auth, deps.fetch);
    this.client = createApiClient(fetchImpl);
    this.api = createMessagingApi(this.client);
    this.files = createFilesApi(this.client, fetchImpl);
    this.drawer = new DrawerStore({ api: this.files });
    this.media = {
      stale: () => {
        const tokens = deps.auth.getState().tokens;
        return !tokens || tokens.expiresAt - MEDIA_MARGIN_MS <= deps.now();
      },
      freshen: async (force = false) => {
        if (force && deps.now() - this.lastMediaRefresh > MEDIA_MARGIN_MS) {
          this.lastMediaRefresh = deps.now();
          await deps.auth.refresh().catch(() => null);
        } else {
          await deps.auth.accessToken().catch(() => null);
        }
      },
    };
    const client = this.client;
    this.people = new PeopleStore({
      listUsers: (afterId, limit) => unwrap(client.GET("/api/users", { params: { query: { after_id: afterId, limit } } })),
      profile: (userId) => unwrap(client.GET("/api/users/{user_id}/profile", { params: { path: { user_id: userId } } })),
    });
    this.rooms = new RoomsStore({
      api: this.api,
      myUserId: deps.userId,
      isReading: (roomId) => this.isReading(roomId),
    });
    this.timelines = new TimelinesStore({ api: this.api });
    this.typing = new TypingStore(deps.now);
    this.presence = new PresenceStore();
    this.drafts = new Drafts(deps.storage, deps.userId);
    this.snapshot = new SnapshotCache(deps.storage, deps.userId);
    let pendingStorage = deps.pendingStorage;
    if (!pendingStorage) {
      try {
        pendingStorage = new IdbPendingStorage(deps.userId);
      } catch {
        pendingStorage = new MemoryPendingStorage();
      }
    }
    this.outbox = new Outbox({
      storage: pendingStorage,
      send: async (p) => {
        if (p.upload_ids && p.upload_ids.length > 0) {
          const answer = await this.files.sendWithUploads(p.room_id, {
            client_msg_id: p.client_msg_id,
            upload_ids: p.upload_ids,
            ...(p.body ? { body: p.body } : {}),
            ...(p.reply_to_id ? { reply_to_id: p.reply_to_id } : {}),
          });
          return answer.message;
        }
        const answer = await this.api.send(p.room_id, {
          client_msg_id: p.client_msg_id,
          body: p.body,
          ...(p.reply_to_id ? { reply_to_id: p.reply_to_id } : {}),
        });
        return answer.message;
      },
      onSent: (message) => {
        this.timelines.applyMessage(message);
        this.rooms.applyMessage(message);
        this.drawer.applyMessage(message);
      },
      newId: () => crypto.randomUUID(),
      now: () => new Date(deps.now()),
    });
    this.outbox.subscribe(() =>
      this.sentFiles.keepOnly(new Set(this.outbox.getState().items.map((i) => i.client_msg_id))),
    );
    this.uploads = new UploadManager({
      userId: deps.userId,
      tokens: deps.auth,
      api: this.files,
      storage: deps.storage,
      loadTus: () => import("tus-js-client"),
      endpoint: UPLOADS_ENDPOINT,
      maxBytes: () => this.attachmentMaxBytes,
      newId: () => crypto.randomUUID(),
      isOnline: deps.isNetworkOnline,
      onReady: (roomId, send, items, files) => {
        void this.outbox
          .enqueue(roomId, send.body, send.replyToId, {
            uploadIds: items.map((i) => i.uploadId ?? "").filter(Boolean),
            files: items.map((i) => ({ name: i.name, size: i.size, type: i.type })),
          })
          .then((pending) => {
            // Held only while the message waits (it may already be sent by now).
            const waiting = this.outbox.getState().items.some((i) => i.client_msg_id === pending.client_msg_id);
            if (files && waiting) {
              this.sentFiles.hold(pending.client_msg_id, { files, draft: send.draft, replyToId: send.replyToId });
            }
          });
      },
      onAbandoned: (roomId, send) => this.restoreDraft(roomId, send.draft),
      createPreview: (file) => URL.createObjectURL(file),
      revokePreview: (url) => URL.revokeObjectURL(url),
    });
    const timers = {
      setTimeout: (fn: () => void, ms: number) => window.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => window.clearTimeout(h as number),
    };
    this.blockedFiles = new BlockedNotices(timers);
    this.sync = new SyncEngine({
      rooms: this.rooms,
      timelines: this.timelines,
      typing: this.typing,
      presence: this.presence,
      onIncoming: (message) => {
        if (message.sender_id !== deps.userId) deps.notify(message);
        if (this.isReading(message.room_id)) this.markRead(message.room_id);
      },
      onMessage: (message) => this.drawer.applyMessage(message),
      fetchEvents: (roomId, after) => this.api.events(roomId, after),
      onProfileUpdated: (frame) => {
        if (typeof frame.user_id === "number") this.people.applyProfileUpdate(frame.user_id, frame);
      },
      onFileBlocked: (frame) => this.blockedFiles.add(frame),
      refetchMessage: (roomId, messageId) => {
        if (!this.timelines.room(roomId).messages.some((m) => m.id === messageId)) return;
        this.api.getMessage(roomId, messageId).then(
          (m) => {
            this.timelines.applyMessage(m);
            this.rooms.applyMessage(m);
            this.drawer.applyMessage(m);
          },
          () => undefined,
        );
      },
      timers,
    });
    this.connection = new RealtimeConnection({
      url: deps.wsUrl,
      createSocket: deps.createSocket,
      accessToken: () => deps.auth.accessToken(),
      refreshToken: () => deps.auth.refresh(),
      cursors: () => this.sync.sequencer.cursors(),
      onFrame: (frame) => this.sync.handleFrame(frame),
      onSynced: () => {
        this.sync.synced();
        // Started offline: the limits and the scanner flag come once the server is reachable.
        if (this.virusScanning.getState() === null) void this.loadServerInfo();
        void this.outbox.flush();
        void this.catchUp();
        this.watchPresence();
        this.connection.send({ type: "presence", status: this.view.getState().visible ? "online" : "away" });
      },
      onSessionEnded: () => deps.auth.end("session_ended"),
      isNetworkOnline: deps.isNetworkOnline,
      timers,
      random: Math.random,
    });
  }

  async start(): Promise<void> {
    // Show the last known state at once (works offline), then ask the server.
    const rooms = this.snapshot.loadRooms();
    if (rooms) {
      this.rooms.hydrate(rooms);
      this.sync.trackRooms(rooms);
    }
    const people = this.snapshot.loadPeople();
    if (people) this.people.hydrate(people);
    const run = ++this.runs;
    this.unsubscribe.push(
      this.rooms.subscribe(() => this.scheduleSave()),
      this.timelines.subscribe(() => this.scheduleSave()),
      this.people.subscribe(() => this.scheduleSave()),
    );
    window.addEventListener("pagehide", this.flushSave);
    document.addEventListener("visibilitychange", this.onVisibility);
    void this.uploads.load().catch(() => undefined);
    void this.loadServerInfo();
    await Promise.all([this.outbox.load().catch(() => undefined), this.loadFresh()]);
    if (run !== this.runs) return; // stopped (or started again) while loading
    this.connection.start();
    void this.outbox.flush();
    // Sends go over REST, so they need no WebSocket: retry now and then even if it stays down.
    this.flushTimer = window.setInterval(() => {
      if (this.outbox.getState().items.some((i) => i.state === "pending")) void this.outbox.flush();
    }, 15_000);
  }

  /** After each (re)connection: whatever the offline start could not fetch, and the open room. */
  private async catchUp(): Promise<void> {
    await this.loadFresh();
    const roomId = this.view.getState().roomId;
    if (roomId === null) return;
    if (this.timelines.room(roomId).loaded) await this.timelines.refresh(roomId);
    else await this.timelines.open(roomId);
  }

  private async loadFresh(): Promise<void> {
    await Promise.all([
      this.fresh.people
        ? undefined
        : this.people.load().then(
            () => {
              this.fresh.people = true;
              if (this.connection.isOnline) this.watchPresence();
            },
            () => undefined,
          ),
      this.fresh.rooms
        ? undefined
        : this.rooms.load().then(
            (rooms) => {
              this.fresh.rooms = true;
              this.sync.trackRooms(rooms);
            },
            () => undefined,
          ),
    ]);
  }

  openRoom(roomId: number): void {
    const cached = this.snapshot.loadTimeline(roomId);
    if (cached) this.timelines.hydrate(roomId, cached);
    void this.timelines.open(roomId);
  }

  private scheduleSave(): void {
    this.saver.schedule();
  }

  private saveSnapshot(): void {
    if (this.fresh.rooms) this.snapshot.saveRooms(this.rooms.getState().ordered);
    if (this.fresh.people) this.snapshot.savePeople(Object.values(this.people.getState().byId));
    const roomId = this.view.getState().roomId;
    const t = roomId !== null ? this.timelines.room(roomId) : null;
    if (roomId !== null && t?.loaded && !t.hasMoreAfter) this.snapshot.saveTimeline(roomId, t.messages);
  }

  /** A reload or a closed tab must not lose a change the debounce still holds. */
  private readonly flushSave = (): void => {
    this.saver.flush();
  };

  private readonly onVisibility = (): void => {
    if (document.visibilityState === "hidden") this.saver.flush();
  };

  stop(): void {
    this.runs++;
    for (const off of this.unsubscribe.splice(0)) off();
    window.removeEventListener("pagehide", this.flushSave);
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.saver.flush(); // what changed last is kept, as a reload would keep it
    this.connection.stop();
    this.uploads.stopAll();
    this.blockedFiles.clear();
    if (this.flushTimer !== null) window.clearInterval(this.flushTimer);
  }

  isReading(roomId: number): boolean {
    const v = this.view.getState();
    return v.roomId === roomId && v.atBottom && v.visible;
  }

  /**
   * Presence comes only for watched users, and a watch replaces the previous one: the peers of
   * 1:1 rooms first, then the open room's members, then the directory, up to the server's limit.
   */
  watchPresence(extra: readonly number[] = []): void {
    const ids = new Set<number>();
    for (const r of this.rooms.getState().ordered) if (r.kind === "direct" && r.peer_user_id !== null) ids.add(r.peer_user_id);
    for (const id of extra) ids.add(id);
    for (const id of Object.keys(this.people.getState().byId)) ids.add(Number(id));
    ids.delete(this.userId);
    const list = [...ids].slice(0, this.connection.presenceWatchMax);
    if (list.length > 0) this.connection.send({ type: "presence.watch", user_ids: list });
  }

  setView(patch: Partial<ViewState>): void {
    const before = this.view.getState();
    const next = { ...before, ...patch };
    if (next.visible !== before.visible) {
      this.connection.send({ type: "presence", status: next.visible ? "online" : "away" });
    }
    this.view.set(next);
    if (next.roomId !== null && this.isReading(next.roomId)) this.markRead(next.roomId);
  }

  /** Marks the room read up to its newest message (once per seq), here and on the server. */
  markRead(roomId: number): void {
    const room = this.rooms.get(roomId);
    const timeline = this.timelines.room(roomId);
    const newest = timeline.messages[timeline.messages.length - 1]?.seq ?? 0;
    const seq = Math.max(room?.last_seq ?? 0, newest);
    // Deduplicated by what was sent, not by the room's local position: the room store already
    // counts a message as read the moment it arrives in the room on screen.
    if (seq <= 0 || (this.readSent.get(roomId) ?? 0) >= seq) return;
    this.readSent.set(roomId, seq);
    this.rooms.applyRead(roomId, seq);
    this.timelines.applyReads(roomId, [{ user_id: this.userId, last_read_seq: seq }]);
    if (!this.connection.send({ type: "read", room_id: roomId, seq })) {
      void this.api.markRead(roomId, seq).catch(() => this.readSent.delete(roomId));
    }
  }

  async send(roomId: number, body: string, replyToId: number | null): Promise<void> {
    await this.outbox.enqueue(roomId, body, replyToId);
  }

  /**
   * Sends the room's files with this caption: now if they are all uploaded, else as soon as they
   * are (the tray says so, and the user can take it back).
   */
  sendFiles(roomId: number, send: ArmedSend): boolean {
    return this.uploads.send(roomId, send);
  }

  private async loadServerInfo(): Promise<void> {
    try {
      const info = await unwrap(this.client.GET("/api/server-info"));
      this.attachmentMaxBytes = info.attachment_max_bytes;
      this.virusScanning.set(info.virus_scanning);
    } catch {
      // unreachable now: asked again after the next sync
    }
  }

  /** Whether a failed file message can go back to the tray (the page still holds its files). */
  canReattach(clientMsgId: string): boolean {
    return this.sentFiles.get(clientMsgId) !== null;
  }

  /**
   * A file message refused because its uploads are gone: its files go back to the room's tray
   * and upload again, its caption back to the composer, and the failed message is deleted. If
   * the tray cannot take every file now (it filled up meanwhile, or the size limit was lowered),
   * nothing changes and the refusals are returned, so no file is lost; null when the page no
   * longer holds the files. `replyToId` is the message it answered, for the composer's reply bar.
   */
  reattach(clientMsgId: string): { refused: Rejection[]; replyToId: number | null } | null {
    const pending = this.outbox.getState().items.find((i) => i.client_msg_id === clientMsgId);
    const held = this.sentFiles.get(clientMsgId);
    if (!pending || !held) return null;
    const refused = this.uploads.wouldRefuse(pending.room_id, held.files);
    if (refused.length > 0) return { refused, replyToId: null };
    this.uploads.add(pending.room_id, held.files);
    this.restoreDraft(pending.room_id, held.draft);
    void this.outbox.discard(clientMsgId);
    return { refused: [], replyToId: held.replyToId };
  }

  /** Gives a caption back to the room's composer (before whatever was typed since). */
  restoreDraft(roomId: number, text: string): void {
    if (!text) return;
    const current = this.drafts.get(roomId);
    this.drafts.set(roomId, current ? `${text}\n${current}` : text);
    this.composerEpoch.set((n) => n + 1);
  }

  maxAttachmentBytes(): number {
    return this.attachmentMaxBytes;
  }

  /** The browser is back online: the socket reconnects and stopped uploads continue. */
  networkOnline(): void {
    this.connection.networkOnline();
    this.uploads.networkOnline();
  }

  sendTyping(roomId: number): void {
    this.connection.send({ type: "typing", room_id: roomId });
  }
}
