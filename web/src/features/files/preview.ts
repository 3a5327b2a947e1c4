import type { Message } from "../../lib/model";
import { type Attachment, attachmentsOf } from "./types";

type T = (key: string, options?: Record<string, unknown>) => string;

/**
 * One line for a message that carries files and no caption (room list, notifications):
 * "사진", "사진 3장", "동영상", "파일: 회의록.pdf", "파일 2개"; just "파일" for a `kind: "file"`
 * message whose attachments are not there (a room list entry that leaves them out). Null when
 * the message is not a file message.
 */
export function filesPreview(message: Message, t: T): string | null {
  const list = attachmentsOf(message);
  if (list.length > 0) return describeAttachments(list, t);
  return message.kind === "file" && !message.deleted_at ? t("filePreview.unknown") : null;
}

export function describeAttachments(list: readonly Pick<Attachment, "kind" | "file_name">[], t: T): string {
  const first = list[0];
  if (!first) return "";
  const images = list.filter((a) => a.kind === "image").length;
  const videos = list.filter((a) => a.kind === "video").length;
  if (images === list.length) return list.length === 1 ? t("filePreview.image") : t("filePreview.images", { count: list.length });
  if (videos === list.length) return list.length === 1 ? t("filePreview.video") : t("filePreview.videos", { count: list.length });
  if (images + videos === list.length) return t("filePreview.media", { count: list.length });
  return list.length === 1 ? t("filePreview.file", { name: first.file_name }) : t("filePreview.files", { count: list.length });
}
