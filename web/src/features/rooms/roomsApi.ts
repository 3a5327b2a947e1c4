import { type ApiClient, unwrap } from "../../lib/http";
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

export interface EventsPage {
  events: Record<string, unknown>[];
  next_event_seq: number;
  has_more: boolean;
  too_far_behind: boolean;
}

/** The messaging endpoints the stores use; the app passes the generated client, tests fakes. */
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
  send(
    roomId: number,
    body: { client_msg_id: string; body: string; reply_to_id?: number | null },
  ): Promise<{ message: Message; duplicate: boolean }>;
  getMessage(roomId: number, messageId: number): Promise<Message>;
  unreadMembers(roomId: number, messageId: number, afterUserId: number): Promise<{ user_ids: number[]; next_after_user_id: number | null }>;
  edit(roomId: number, messageId: number, body: string): Promise<Message>;
  unsend(roomId: number, messageId: number): Promise<Message>;
  setHidden(roomId: number, messageId: number, hidden: boolean): Promise<Message>;
  react(roomId: number, messageId: number, reaction: Message["reactions"][number]["reaction"]): Promise<Message>;
  unreact(roomId: number, messageId: number): Promise<Message>;
  markRead(roomId: number, seq: number): Promise<unknown>;
  reads(roomId: number): Promise<{ reads: ReadPosition[] }>;
  notice(roomId: number): Promise<Message | null>;
  setNotice(roomId: number, messageId: number): Promise<unknown>;
  clearNotice(roomId: number): Promise<unknown>;
  events(roomId: number, after: number): Promise<EventsPage>;
}

export function createMessagingApi(client: ApiClient): MessagingApi {
  const room = (room_id: number) => ({ params: { path: { room_id } } });
  const msg = (room_id: number, message_id: number) => ({ params: { path: { room_id, message_id } } });
  return {
    listRooms: () => unwrap(client.GET("/api/rooms")),
    getRoom: (id) => unwrap(client.GET("/api/rooms/{room_id}", room(id))),
    createRoom: (body) =>
      unwrap(
        client.POST("/api/rooms", {
          body: { history_visibility: "joined", ...body },
        }),
      ),
    updateRoom: (id, body) => unwrap(client.PATCH("/api/rooms/{room_id}", { ...room(id), body })),
    updateSettings: (id, body) => unwrap(client.PATCH("/api/rooms/{room_id}/settings", { ...room(id), body })),
    members: (id) => unwrap(client.GET("/api/rooms/{room_id}/members", room(id))),
    invite: (id, userIds) => unwrap(client.POST("/api/rooms/{room_id}/members", { ...room(id), body: { user_ids: userIds } })),
    leave: (id, quiet) =>
      unwrap(client.DELETE("/api/rooms/{room_id}/members/me", { params: { path: { room_id: id }, query: { quiet } } })),
    kick: (id, userId) =>
      unwrap(client.DELETE("/api/rooms/{room_id}/members/{user_id}", { params: { path: { room_id: id, user_id: userId } } })),
    handOver: (id, userId) => unwrap(client.POST("/api/rooms/{room_id}/owner", { ...room(id), body: { user_id: userId } })),
    messages: (id, query) =>
      unwrap(client.GET("/api/rooms/{room_id}/messages", { params: { path: { room_id: id }, query } })),
    send: (id, body) => unwrap(client.POST("/api/rooms/{room_id}/messages", { ...room(id), body })),
    unreadMembers: (id, messageId, afterUserId) =>
      unwrap(
        client.GET("/api/rooms/{room_id}/messages/{message_id}/unread-members", {
          params: { path: { room_id: id, message_id: messageId }, query: { after_user_id: afterUserId, limit: 100 } },
        }),
      ),
    getMessage: (id, messageId) => unwrap(client.GET("/api/rooms/{room_id}/messages/{message_id}", msg(id, messageId))),
    edit: (id, messageId, body) =>
      unwrap(client.PATCH("/api/rooms/{room_id}/messages/{message_id}", { ...msg(id, messageId), body: { body } })),
    unsend: (id, messageId) => unwrap(client.DELETE("/api/rooms/{room_id}/messages/{message_id}", msg(id, messageId))),
    setHidden: (id, messageId, hidden) =>
      unwrap(client.PUT("/api/rooms/{room_id}/messages/{message_id}/hidden", { ...msg(id, messageId), body: { hidden } })),
    react: (id, messageId, reaction) =>
      unwrap(client.PUT("/api/rooms/{room_id}/messages/{message_id}/reaction", { ...msg(id, messageId), body: { reaction } })),
    unreact: (id, messageId) =>
      unwrap(client.DELETE("/api/rooms/{room_id}/messages/{message_id}/reaction", msg(id, messageId))),
    markRead: (id, seq) => unwrap(client.POST("/api/rooms/{room_id}/read", { ...room(id), body: { seq } })),
    reads: (id) => unwrap(client.GET("/api/rooms/{room_id}/reads", room(id))),
    notice: async (id) => (await unwrap(client.GET("/api/rooms/{room_id}/notice", room(id)))).notice,
    setNotice: (id, messageId) => unwrap(client.PUT("/api/rooms/{room_id}/notice", { ...room(id), body: { message_id: messageId } })),
    clearNotice: (id) => unwrap(client.DELETE("/api/rooms/{room_id}/notice", room(id))),
    events: (id, after) =>
      unwrap(client.GET("/api/rooms/{room_id}/events", { params: { path: { room_id: id }, query: { after } } })),
  };
}
