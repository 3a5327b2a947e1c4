import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import type { Message, ReplyPreview } from "../../lib/model";
import { describeAttachments } from "../files/preview";
import { attachmentsOf } from "../files/types";

type T = (key: string, options?: Record<string, unknown>) => string;

export interface ReplyQuoteProps {
  reply: ReplyPreview;
  nameOf(userId: number): string | null;
  onJump?(seq: number): void;
}

/**
 * The line under "…님에게 답장": the quoted text, or for a file sent without a caption what the
 * room list shows ("사진", "동영상", "파일: 회의록.pdf") from the quote's file list, or "파일" when the
 * quote names none (its files are gone).
 */
export function replyQuoteText(reply: ReplyPreview, nameOf: (userId: number) => string | null, t: T): string {
  if (reply.body === null) return t("chat.unsent");
  if (reply.body.trim() === "") {
    const files = reply.attachments ?? [];
    return files.length > 0 ? describeAttachments(files, t) : t("filePreview.unknown");
  }
  return plainText(reply.body, nameOf, t("chat.mentionAll"));
}

/** The quote of a loaded message, as the server would send it in `reply_to` (a message not yet sent quotes it so). */
export function previewOf(m: Message): ReplyPreview {
  const gone = m.deleted_at !== null || m.hidden;
  return {
    id: m.id,
    seq: m.seq,
    sender_id: m.sender_id,
    body: gone ? null : (m.body ?? ""),
    kind: gone ? null : m.kind,
    attachments: gone ? [] : attachmentsOf(m).map((a) => ({ kind: a.kind, file_name: a.file_name })),
  };
}

export function ReplyQuote({ reply, nameOf, onJump }: ReplyQuoteProps) {
  const { t } = useTranslation();
  const who = reply.sender_id !== null ? (nameOf(reply.sender_id) ?? t("rooms.unknownPerson")) : t("chat.someone");
  const text = replyQuoteText(reply, nameOf, t);
  return (
    <button type="button" className="reply-quote" onClick={() => onJump?.(reply.seq)} aria-label={t("chat.replyTo", { name: who })}>
      <span className="reply-quote-name">{t("chat.replyTo", { name: who })}</span>
      <span className="reply-quote-body">{text}</span>
    </button>
  );
}
