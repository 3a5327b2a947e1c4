import { type FetchLike, requestJson } from "../../lib/http";
import type { Member, Message, MessagePage, ReadPosition, RoomSummary } from "../../lib/model";

export type CreateRoom =
  | { kind: "direct"; user_id: number }
  | { kind: "self" }
  | { kind: "group"; name: string; topic?: string; member_ids: number[]; history_visibility?: "all" | "joined" };

export interface PageQuery {
  before?: number;
  after?: number;
  around?: number;
  limit?: number;
}

/** The messaging endpoints the stores use (docs/api-plan.md); tests pass fakes. */
export interface MessagingApi {
  listRooms(): Promise<{ rooms: RoomSummary[]; total_unread: number }>;
  getRoom(roomId: number): Promise<RoomSummary>;
  createRoom(body: CreateRoom): Promise<RoomSummary>;
  updateRoom(roomId: number, body: { name?: string; topic?: string }): Promise<RoomSummary>;
  updateSettings(roomId: number, body: { muted?: boolean; favourite?: boolean; archived?: boolean }): Promise<unknown>;
  members(roomId: number): Promise<Member[]>;
  invite(roomId: number, userIds: number[]): Promise<unknown>;
  leave(roomId: number, quiet: boolean): Promise<unknown>;
  kick(roomId: number, userId: number): Promise<unknown>;
  handOver(roomId: number, userId: number): Promise<unknown>;
  messages(roomId: number, query: PageQuery): Promise<MessagePage>;
  send(roomId: number, body: { client_msg_id: string; body: string; reply_to_id?: number }): Promise<{ message: Message; duplicate: boolean }>;
  edit(roomId: number, messageId: number, body: string): Promise<unknown>;
  unsend(roomId: number, messageId: number): Promise<unknown>;
  react(roomId: number, messageId: number, reaction: string): Promise<unknown>;
  unreact(roomId: number, messageId: number): Promise<unknown>;
  markRead(roomId: number, seq: number): Promise<unknown>;
  reads(roomId: number): Promise<{ reads: ReadPosition[] }>;
  setNotice(roomId: number, messageId: number): Promise<unknown>;
  clearNotice(roomId: number): Promise<unknown>;
}

function qs(query: PageQuery): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

export function createMessagingApi(fetchImpl: FetchLike): MessagingApi {
  const call = <T>(method: string, path: string, body?: unknown) => requestJson<T>(fetchImpl, method, path, body);
  const room = (id: number) => `/api/rooms/${id}`;
  return {
    listRooms: () => call("GET", "/api/rooms"),
    getRoom: (id) => call("GET", room(id)),
    createRoom: (body) => call("POST", "/api/rooms", body),
    updateRoom: (id, body) => call("PATCH", room(id), body),
    updateSettings: (id, body) => call("PATCH", `${room(id)}/settings`, body),
    members: (id) => call("GET", `${room(id)}/members`),
    invite: (id, userIds) => call("POST", `${room(id)}/members`, { user_ids: userIds }),
    leave: (id, quiet) => call("DELETE", `${room(id)}/members/me?quiet=${quiet}`),
    kick: (id, userId) => call("DELETE", `${room(id)}/members/${userId}`),
    handOver: (id, userId) => call("POST", `${room(id)}/owner`, { user_id: userId }),
    messages: (id, query) => call("GET", `${room(id)}/messages${qs(query)}`),
    send: (id, body) => call("POST", `${room(id)}/messages`, body),
    edit: (id, messageId, body) => call("PATCH", `${room(id)}/messages/${messageId}`, { body }),
    unsend: (id, messageId) => call("DELETE", `${room(id)}/messages/${messageId}`),
    react: (id, messageId, reaction) => call("PUT", `${room(id)}/messages/${messageId}/reaction`, { reaction }),
    unreact: (id, messageId) => call("DELETE", `${room(id)}/messages/${messageId}/reaction`),
    markRead: (id, seq) => call("POST", `${room(id)}/read`, { seq }),
    reads: (id) => call("GET", `${room(id)}/reads`),
    setNotice: (id, messageId) => call("PUT", `${room(id)}/notice`, { message_id: messageId }),
    clearNotice: (id) => call("DELETE", `${room(id)}/notice`),
  };
}
