import type { Attachment } from "../features/files/types";
import type { Message, RoomSummary } from "../lib/model";

export function message(overrides: Partial<Message> = {}): Message {
  // Asserted rather than annotated (see room()).
  const seq = overrides.seq ?? 1;
  return {
    id: seq * 10,
    room_id: 1,
    seq,
    event_seq: seq,
    sender_id: 2,
    client_msg_id: null,
    kind: "text",
    body: `message ${seq}`,
    reply_to: null,
    forwarded: false,
    mentions: [],
    mentions_all: false,
    created_at: new Date(Date.UTC(2025, 0, 6, 1, 0, seq)).toISOString(),
    edited_at: null,
    deleted_at: null,
    hidden: false,
    system: null,
    reactions: [],
    unread_count: 0,
    ...overrides,
  } as Message;
}

export function room(overrides: Partial<RoomSummary> = {}): RoomSummary {
  // Asserted rather than annotated: fields the server adds later need no change here.
  return {
    id: 1,
    kind: "group",
    name: "개발팀",
    topic: null,
    member_count: 3,
    role: "member",
    last_seq: 0,
    last_event_seq: 0,
    last_read_seq: 0,
    last_message: null,
    last_message_at: null,
    unread_count: 0,
    unread_mentions: 0,
    muted: false,
    favourite: false,
    archived: false,
    notice_message_id: null,
    peer_user_id: null,
    history_visibility: "joined",
    visible_from_seq: 0,
    created_at: "2025-01-01T00:00:00Z",
    ...overrides,
  } as RoomSummary;
}

/** An attachment as docs/files.md shows it (the generated AttachmentOut). */
export function attachment(overrides: Partial<Attachment> = {}): Attachment {
  return {
    id: 42,
    file_name: "회의록 2026.pdf",
    content_type: "application/pdf",
    kind: "file",
    size: 1_048_576,
    sha256: "0".repeat(64),
    width: null,
    height: null,
    scan_state: "pending",
    scan_reason: null,
    thumbnail: "none",
    downloadable: false,
    ...overrides,
  };
}

/** A `kind: "file"` message carrying these attachments. */
export function fileMessage(attachments: Attachment[], overrides: Partial<Message> = {}): Message {
  return message({ kind: "file", body: null, ...overrides, attachments });
}
