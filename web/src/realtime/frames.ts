import type { Message, ReadPosition } from "../lib/model";

/** Frames of the WebSocket protocol (docs/api-plan.md, docs/protocol.md). */
export type RoomEvent =
  | { kind: "message.created"; message: Message }
  | { kind: "message.updated"; message?: Message; message_id?: number; change?: string; restricted?: boolean }
  | { kind: "reaction.updated"; message_id: number; reactions?: Message["reactions"]; restricted?: boolean }
  | { kind: "room.updated" }
  | { kind: "member.joined"; user_id?: number; user_ids?: number[] }
  | { kind: "member.left"; user_id?: number }
  | { kind: "pins.updated" }
  | { kind: "member.role_changed" }
  | { kind: string; [key: string]: unknown };

export interface EventFrame {
  type: "event";
  room_id: number;
  event_seq?: number | null;
  event: RoomEvent;
}

export type ServerFrame =
  | { type: "ready"; user_id: number; session_id: string; heartbeat_s?: number; limits?: { presence_watch_max?: number } }
  | EventFrame
  | { type: "resync_required"; room_id: number }
  | { type: "resumed" }
  | { type: "ack"; ref: string; message: Message; duplicate: boolean }
  | { type: "error"; ref?: string; code: string; message: string; data?: Record<string, unknown> }
  | { type: "pong" }
  | { type: "read"; room_id: number; reads: ReadPosition[] }
  | { type: "typing"; room_id: number; user_id: number }
  | { type: "presence"; user_id: number; status: string; last_seen_at?: string | null; work_status?: string | null }
  | UserFrame
  | { type: "ok"; ref?: string };

/** Frames on the user's own topic: not part of any room's event log. */
export type UserFrame =
  | { type: "room.added"; room_id: number }
  | { type: "room.removed"; room_id: number; reason?: string }
  | { type: "room.settings"; room_id: number; muted?: boolean; favourite?: boolean; archived?: boolean }
  | { type: "read.self"; room_id: number; last_read_seq: number; unread_count?: number }
  | {
      type: "profile.updated";
      user_id?: number;
      display_name?: string;
      work_status?: string;
      status_message?: string | null;
    }
  | {
      /** A file this user sent was found infected by the virus scanner (docs/protocol.md). */
      type: "file.blocked";
      attachment_id: number;
      room_id: number;
      message_id: number | null;
      file_name: string;
      signature?: string | null;
    };

export type ClientFrame =
  | { type: "auth"; token: string }
  | { type: "resume"; cursors: Record<string, number> }
  | { type: "send"; ref: string; room_id: number; client_msg_id: string; body?: string; reply_to_id?: number; upload_ids?: string[] }
  | { type: "read"; room_id: number; seq: number }
  | { type: "typing"; room_id: number }
  | { type: "presence"; status: "online" | "away" }
  | { type: "presence.watch"; user_ids: number[] }
  | { type: "ping" };

export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  try {
    const value = JSON.parse(data) as unknown;
    if (value && typeof value === "object" && typeof (value as { type?: unknown }).type === "string") {
      return value as ServerFrame;
    }
  } catch {
    return null;
  }
  return null;
}
