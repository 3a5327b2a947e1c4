/**
 * The files API on the wire (docs/files.md), typed by hand until the server's OpenAPI document
 * carries it; then these become names for the generated types (src/lib/model.ts does the same for
 * messages) and nothing else in the client changes.
 */
import type { Message } from "../../lib/model";

export type AttachmentKind = "image" | "video" | "audio" | "file";
export type ScanState = "pending" | "clean" | "infected" | "unscanned";
export type UnscannedReason = "scanner_disabled" | "too_large" | "scanner_error";
export type ThumbnailState = "pending" | "ready" | "none" | "failed";

export interface Attachment {
  id: number;
  file_name: string;
  content_type: string;
  kind: AttachmentKind;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  scan_state: ScanState;
  /** Only for `unscanned`. */
  scan_reason: UnscannedReason | null;
  thumbnail: ThumbnailState;
  /** Whether members other than the uploader may download it now. */
  downloadable: boolean;
}

/** One entry of a room's drawer (서랍): the attachment and the message it came with. */
export interface DrawerFile extends Attachment {
  message_id: number;
  sender_id: number | null;
  created_at: string;
}

/** `media` = images and videos. */
export type DrawerKind = "media" | "image" | "video" | "audio" | "file";

export interface DrawerPage {
  files: DrawerFile[];
  has_more: boolean;
}

/** A message as the server sends it once files exist: `attachments` is empty for text. */
export type MessageWithAttachments = Message & { attachments?: Attachment[] };

/** The attachments of a message (none for text, system and unsent messages). */
export function attachmentsOf(message: Message): Attachment[] {
  const list = (message as MessageWithAttachments).attachments;
  return Array.isArray(list) ? list : [];
}

/** A message that carries files (`kind: "file"`); its body, if any, is the caption. */
export function isFileMessage(message: Message): boolean {
  return (message.kind as string) === "file" || attachmentsOf(message).length > 0;
}

/** What the client derives from an attachment id (docs/files.md, "Flow" 4). */
export function fileUrl(id: number): string {
  return `/api/files/${id}`;
}

export function thumbnailUrl(id: number, size: "small" | "large"): string {
  return `/api/files/${id}/thumbnail?size=${size}`;
}

/** The server's default limit, used until GET /api/server-info has answered. */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 300 * 1024 * 1024;

/** At most this many uploads go with one message. */
export const MAX_UPLOADS_PER_MESSAGE = 10;

/** How far an attachment's background jobs got; states only ever move forward. */
export function attachmentProgress(a: Pick<Attachment, "scan_state" | "thumbnail">): number {
  return (a.scan_state === "pending" ? 0 : 2) + (a.thumbnail === "pending" ? 0 : 1);
}

/**
 * Two copies of a message with the same event_seq (an attachment change does not move the
 * message's own event_seq) may arrive in any order: the send's answer, its events, a history
 * page. Per attachment, the copy whose jobs got further wins, so a late copy never undoes a scan.
 */
export function withNewestAttachments(current: Message, incoming: Message): Message {
  const mine = attachmentsOf(current);
  const theirs = attachmentsOf(incoming);
  if (mine.length === 0 || theirs.length === 0) return incoming;
  let kept = false;
  const merged = theirs.map((a) => {
    const old = mine.find((b) => b.id === a.id);
    if (old && attachmentProgress(old) > attachmentProgress(a)) {
      kept = true;
      return old;
    }
    return a;
  });
  return kept ? ({ ...incoming, attachments: merged } as MessageWithAttachments) : incoming;
}

/** The kind of a file the browser picked, by its MIME type (the server decides for real by sniffing). */
export function kindOfType(type: string): AttachmentKind {
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  return "file";
}

/**
 * A React key that changes with the attachment's state, so a picture that failed to load (say,
 * refused while it was being scanned) is tried again once the server says something changed.
 */
export function stateKey(a: Pick<Attachment, "id" | "scan_state" | "thumbnail" | "downloadable">): string {
  return `${a.id}:${a.scan_state}:${a.thumbnail}:${a.downloadable ? 1 : 0}`;
}
