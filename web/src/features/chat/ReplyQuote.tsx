import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import type { Message, ReplyPreview } from "../../lib/model";
import { describeAttachments, filesPreview } from "../files/preview";

type T = (key: string, options?: Record<string, unknown>) => string;

export interface ReplyQuoteProps {
  reply: ReplyPreview;
  /** The quoted message when it is in the loaded timeline (used when the quote names no files). */
  original?: Message | null;
  nameOf(userId: number): string | null;
  onJump?(seq: number): void;
}

/**
 * The line under "…님에게 답장": the quoted text, or for a file sent without a caption what the
 * room list shows ("사진", "동영상", "파일: 회의록.pdf"): from the quote's own file list (the
 * server sends it), else from the original when it is loaded, else "파일".
 */
export function replyQuoteText(reply: ReplyPreview, original: Message | null | undefined, nameOf: (userId: number) => string | null, t: T): string {
  if (reply.body === null) return t("chat.unsent");
  if (reply.body.trim() === "") {
    const files = reply.attachments ?? [];
    if (files.length > 0) return describeAttachments(files, t);
    return (original ? filesPreview(original, t) : null) ?? t("filePreview.unknown");
  }
  return plainText(reply.body, nameOf, t("chat.mentionAll"));
}

export function ReplyQuote({ reply, original, nameOf, onJump }: ReplyQuoteProps) {
  const { t } = useTranslation();
  const who = reply.sender_id !== null ? (nameOf(reply.sender_id) ?? t("rooms.unknownPerson")) : t("chat.someone");
  const text = replyQuoteText(reply, original, nameOf, t);
  return (
    <button type="button" className="reply-quote" onClick={() => onJump?.(reply.seq)} aria-label={t("chat.replyTo", { name: who })}>
      <span className="reply-quote-name">{t("chat.replyTo", { name: who })}</span>
      <span className="reply-quote-body">{text}</span>
    </button>
  );
}
