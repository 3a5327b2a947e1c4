import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import type { ReplyPreview } from "../../lib/model";

export interface ReplyQuoteProps {
  reply: ReplyPreview;
  nameOf(userId: number): string | null;
  onJump?(seq: number): void;
}

export function ReplyQuote({ reply, nameOf, onJump }: ReplyQuoteProps) {
  const { t } = useTranslation();
  const who = reply.sender_id !== null ? (nameOf(reply.sender_id) ?? t("rooms.unknownPerson")) : t("chat.someone");
  const text = reply.body === null ? t("chat.unsent") : plainText(reply.body, nameOf, t("chat.mentionAll"));
  return (
    <button type="button" className="reply-quote" onClick={() => onJump?.(reply.seq)} aria-label={t("chat.replyTo", { name: who })}>
      <span className="reply-quote-name">{t("chat.replyTo", { name: who })}</span>
      <span className="reply-quote-body">{text}</span>
    </button>
  );
}
