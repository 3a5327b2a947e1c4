import type { Message, RoomSummary } from "../../lib/model";
import { Store } from "../../lib/store";
import type { RoomEvent, UserFrame } from "../../realtime/frames";
import { mentionsUser, roomUnread } from "../chat/timeline";
import { keepKnownAttachments } from "../files/types";
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
    const held = this.getState().byId;
    const rooms = (await this.deps.api.listRooms()).rooms.map((r) => withKnownPreview(held[r.id], r));
    const byId: Record<number, RoomSummary> = {};
    for (const r of rooms) byId[r.id] = r;
    this.setState({ byId, ordered: sortRooms(rooms), loaded: true, error: null });
    return rooms;
  }

  /** The last known list (from the offline cache), shown until the server answers. */
  hydrate(rooms: readonly RoomSummary[]): void {
    if (this.getState().loaded) return;
    const byId: Record<number, RoomSummary> = {};
    for (const r of rooms) byId[r.id] = r;
    this.setState({ byId, ordered: sortRooms(rooms), loaded: false, error: null });
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
    this.patch(room.id, (held) => withKnownPreview(held, room), true);
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
        return room.last_message?.id === message.id ? { ...room, last_message: keepKnownAttachments(room.last_message, message) } : room;
      }
      if (message.seq === room.last_seq && room.last_message?.id === message.id) {
        return { ...room, last_message: keepKnownAttachments(room.last_message, message) };
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
        // The server's rule exactly (sodam.domain.unread.room_unread): every message after the
        // read position counts, system notices included, so a reload never changes the badge.
        next.unread_count = roomUnread(message.seq, room.last_read_seq);
        if (mentionsUser(message, this.deps.myUserId)) next.unread_mentions = room.unread_mentions + 1;
      }
      return next;
    });
  }

  /** The user read up to seq here or on another device (read.self). */
  applyRead(roomId: number, seq: number, serverUnread?: number): void {
    this.patch(roomId, (room) => {
      if (seq <= room.last_read_seq) return room;
      const unread = serverUnread ?? roomUnread(room.last_seq, seq);
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

  /** Events of the room's log (message.created/updated are applied through applyMessage). */
  applyEvent(roomId: number, event: RoomEvent): void {
    switch (event.kind) {
      case "message.created":
      case "message.updated":
        if ("message" in event && event.message) this.applyMessage(event.message as Message);
        return;
      case "room.updated":
      case "member.joined":
      case "member.left":
      case "member.role_changed":
      case "pins.updated":
        void this.reloadRoom(roomId);
        return;
      default:
        return;
    }
  }

  /** Frames on the user's own topic: settings and read position from my other devices. */
  applyUserFrame(frame: UserFrame): void {
    switch (frame.type) {
      case "room.settings":
        this.applySettings(frame.room_id, frame);
        return;
      case "read.self":
        this.applyRead(frame.room_id, frame.last_read_seq, frame.unread_count);
        return;
      case "room.removed":
        this.remove(frame.room_id);
        return;
      case "room.added":
        void this.reloadRoom(frame.room_id);
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

/** A fresh copy of a room from the server, keeping attachments the held copy knows (see keepKnownAttachments). */
function withKnownPreview(held: RoomSummary | undefined, incoming: RoomSummary): RoomSummary {
  const last = incoming.last_message;
  if (!held || !last) return incoming;
  const kept = keepKnownAttachments(held.last_message, last);
  return kept === last ? incoming : { ...incoming, last_message: kept };
}
