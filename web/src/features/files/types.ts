/**
 * The files API on the wire (docs/files.md): short names for the generated OpenAPI types
 * (src/api/schema.gen.ts, never edited by hand), so a server change is a type error here.
 */
import type { components, operations } from "../../api/schema.gen";
import type { Message } from "../../lib/model";

type Schemas = components["schemas"];

export type Attachment = Schemas["AttachmentOut"];
export type AttachmentKind = Attachment["kind"];
export type ScanState = Attachment["scan_state"];
export type ThumbnailState = Attachment["thumbnail"];

/** One entry of a room's drawer (서랍): the attachment and the message it came with. */
export type DrawerFile = Schemas["DrawerFileOut"];
export type DrawerPage = Schemas["DrawerOut"];

/** The drawer's `kind` filters the client asks for (`media` = images and videos; not `all`). */
export type DrawerKind = Exclude<NonNullable<NonNullable<operations["rooms_files"]["parameters"]["query"]>["kind"]>, "all">;

/** Why a file is `unscanned` (`scan_reason`); anything else the server may add reads as unknown. */
export const UNSCANNED_REASONS = ["scanner_disabled", "too_large", "scanner_limit", "scanner_error"] as const;
export type UnscannedReason = (typeof UNSCANNED_REASONS)[number];

/** The attachments of a message (none for text, system and unsent messages). */
export function attachmentsOf(message: Message): Attachment[] {
  const list = message.attachments;
  return Array.isArray(list) ? list : [];
}

/**
 * The same message as `held` with the attachments `held` knows when `incoming` is a file message
 * without any: a room list whose `last_message` leaves them out (absent or `[]`), so a refresh
 * never turns "사진" back into a bare "파일". An unsent message (no files, `deleted_at` set) and
 * any other change of the message are taken as they come.
 */
export function keepKnownAttachments(held: Message | null | undefined, incoming: Message): Message {
  if (!held || held.id !== incoming.id || incoming.kind !== "file" || incoming.deleted_at) return incoming;
  if (attachmentsOf(incoming).length > 0) return incoming;
  const known = attachmentsOf(held);
  return known.length > 0 ? { ...incoming, attachments: known } : incoming;
}

/** A message that carries files (`kind: "file"`); its body, if any, is the caption. */
export function isFileMessage(message: Message): boolean {
  return message.kind === "file" || attachmentsOf(message).length > 0;
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
  return kept ? { ...incoming, attachments: merged } : incoming;
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
