/**
 * The client's view of the messaging data, as the server sends it (docs/api-plan.md and
 * sodam.domain.messages.MessageView.to_wire). Wire types for the account endpoints come from the
 * generated OpenAPI types in src/api; these mirror the messaging contract field for field.
 */

export const REACTIONS = ["heart", "like", "check", "laugh", "surprise", "sad"] as const;
export type ReactionKind = (typeof REACTIONS)[number];

export const WORK_STATUSES = ["working", "meeting", "vacation", "off"] as const;
export type WorkStatus = (typeof WORK_STATUSES)[number];

export type RoomKind = "direct" | "self" | "group";
export type Role = "owner" | "admin" | "member";

export interface ReactionSummary {
  reaction: string;
  count: number;
  user_ids: number[];
}

export interface ReplyPreview {
  id: number;
  seq: number;
  sender_id: number | null;
  body: string | null;
}

export interface Message {
  id: number;
  room_id: number;
  seq: number;
  event_seq: number;
  sender_id: number | null;
  client_msg_id: string | null;
  kind: "text" | "system";
  body: string | null;
  system?: Record<string, unknown> | null;
  reply_to: ReplyPreview | null;
  forwarded: boolean;
  mentions: number[];
  mentions_all: boolean;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  hidden?: boolean;
  reactions: ReactionSummary[];
  my_reaction?: string | null;
  unread_count: number;
}

export interface RoomSummary {
  id: number;
  kind: RoomKind;
  name: string | null;
  topic: string | null;
  member_count: number;
  role: Role;
  last_seq: number;
  last_event_seq: number;
  last_read_seq: number;
  last_message: Message | null;
  last_message_at: string | null;
  unread_count: number;
  unread_mentions: number;
  muted: boolean;
  favourite: boolean;
  archived: boolean;
  notice: Message | null;
  peer_user_id: number | null;
  history_visibility?: "all" | "joined";
  member_ids?: number[];
}

export interface Member {
  user_id: number;
  display_name: string;
  role: Role;
  joined_at: string;
}

export interface ReadPosition {
  user_id: number;
  last_read_seq: number;
}

export interface MessagePage {
  messages: Message[];
  has_more_before: boolean;
  has_more_after: boolean;
}

export interface PersonSummary {
  id: number;
  username: string;
  display_name: string;
  is_admin: boolean;
  is_bot: boolean;
  active: boolean;
}

export interface Profile {
  user_id: number;
  display_name: string;
  title: string | null;
  email: string | null;
  phone: string | null;
  status_message: string | null;
  work_status: string;
  locale: string;
  last_seen_at: string | null;
}

export type PresenceStatus = "online" | "away" | "offline";
