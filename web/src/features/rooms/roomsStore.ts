import type { Message, RoomSummary } from "../../lib/model";
import { Store } from "../../lib/store";
import type { RoomEvent } from "../../realtime/frames";
import { mentionsUser, roomUnread } from "../chat/timeline";
import type { MessagingApi } from "./roomsApi";
import { sortRooms } from "./roomList";

export interface RoomsState {
  byId: Record<number, RoomSummary>;
  ordered: RoomSummary[];
  loaded: boolean;
  error: string | null;
}

export interface RoomsDeps {
  api: Pick<MessagingApi, "listRooms" | "getRoom" | "updateSettings" | "markRead">;
  myUserId: number;
  /** True while the user is looking at the newest messages of this room (they count as read). */
  isReading(roomId: number): boolean;
}

/** The room list and its unread arithmetic, kept current by events. */
export class RoomsStore extends Store<RoomsState> {
  private readonly deps: RoomsDeps;

  constructor(deps: RoomsDeps) {
    super({ byId: {}, ordered: [], loaded: false, error: null });
    this.deps = deps;
  }

  async load(): Promise<RoomSummary[]> {
    const { rooms } = await this.deps.api.listRooms();
    const byId: Record<number, RoomSummary> = {};
    for (const r of rooms) byId[r.id] = r;
    this.setState({ byId, ordered: sortRooms(rooms), loaded: true, error: null });
    return rooms;
  }

  async reloadRoom(roomId: number): Promise<RoomSummary | null> {
    try {
      const room = await this.deps.api.getRoom(roomId);
      this.upsert(room);
      return room;
    } catch {
      return null;
    }
  }

  get(roomId: number): RoomSummary | undefined {
    return this.getState().byId[roomId];
  }

  upsert(room: RoomSummary): void {
    this.patch(room.id, () => room, true);
  }

  remove(roomId: number): void {
    this.setState((s) => {
      if (!s.byId[roomId]) return s;
      const byId = { ...s.byId };
      delete byId[roomId];
      return { ...s, byId, ordered: sortRooms(Object.values(byId)) };
    });
  }

  /** A message arrived (live, or our own send was acknowledged). */
  applyMessage(message: Message): void {
    this.patch(message.room_id, (room) => {
      if (message.seq < room.last_seq) {
        // An older message (edit, unsend): only the preview can change.
        return room.last_message?.id === message.id ? { ...room, last_message: message } : room;
      }
      if (message.seq === room.last_seq && room.last_message?.id === message.id) {
        return { ...room, last_message: message };
      }
      const mine = message.sender_id === this.deps.myUserId;
      const reading = this.deps.isReading(room.id);
      const next: RoomSummary = {
        ...room,
        last_seq: message.seq,
        last_event_seq: Math.max(room.last_event_seq, message.event_seq),
        last_message: message,
        last_message_at: message.created_at,
      };
      if (mine || reading) {
        next.last_read_seq = message.seq;
        next.unread_count = 0;
        next.unread_mentions = 0;
      } else {
        next.unread_count = room.unread_count + (message.kind === "text" ? 1 : 0);
        if (mentionsUser(message, this.deps.myUserId)) next.unread_mentions = room.unread_mentions + 1;
      }
      return next;
    });
  }

  /** The user read up to seq here or on another device (read.self). */
  applyRead(roomId: number, seq: number): void {
    this.patch(roomId, (room) => {
      if (seq <= room.last_read_seq) return room;
      const unread = roomUnread(room.last_seq, seq);
      return {
        ...room,
        last_read_seq: seq,
        unread_count: Math.min(room.unread_count, unread),
        unread_mentions: unread === 0 ? 0 : room.unread_mentions,
      };
    });
  }

  applySettings(roomId: number, settings: { muted?: boolean; favourite?: boolean; archived?: boolean }): void {
    this.patch(roomId, (room) => ({
      ...room,
      ...(settings.muted !== undefined ? { muted: settings.muted } : {}),
      ...(settings.favourite !== undefined ? { favourite: settings.favourite } : {}),
      ...(settings.archived !== undefined ? { archived: settings.archived } : {}),
    }));
  }

  /** Room-scoped and user-scoped events from the real-time channel. */
  applyEvent(roomId: number, event: RoomEvent): void {
    switch (event.kind) {
      case "message.created":
      case "message.updated":
        if ("message" in event && event.message) this.applyMessage(event.message as Message);
        return;
      case "room.settings":
        this.applySettings(roomId, event as { muted?: boolean; favourite?: boolean; archived?: boolean });
        return;
      case "read.self": {
        const e = event as { seq?: number; last_read_seq?: number };
        const seq = e.last_read_seq ?? e.seq;
        if (typeof seq === "number") this.applyRead(roomId, seq);
        return;
      }
      case "room.removed":
        this.remove(roomId);
        return;
      case "room.added": {
        const room = (event as { room?: RoomSummary }).room;
        if (room && typeof room.id === "number") this.upsert(room);
        else void this.reloadRoom(roomId);
        return;
      }
      case "room.updated":
      case "member.joined":
      case "member.left":
      case "pins.updated":
        void this.reloadRoom(roomId);
        return;
      default:
        return;
    }
  }

  async setFavourite(roomId: number, favourite: boolean): Promise<void> {
    this.applySettings(roomId, { favourite });
    await this.deps.api.updateSettings(roomId, { favourite });
  }

  async setMuted(roomId: number, muted: boolean): Promise<void> {
    this.applySettings(roomId, { muted });
    await this.deps.api.updateSettings(roomId, { muted });
  }

  private patch(roomId: number, fn: (room: RoomSummary) => RoomSummary, insert = false): void {
    this.setState((s) => {
      const current = s.byId[roomId];
      if (!current && !insert) return s;
      const next = current ? fn(current) : fn(undefined as unknown as RoomSummary);
      if (next === current) return s;
      const byId = { ...s.byId, [roomId]: next };
      return { ...s, byId, ordered: sortRooms(Object.values(byId)) };
    });
  }
}
