import { useTranslation } from "react-i18next";
import { segment } from "../../lib/linkify";

export interface MessageTextProps {
  body: string;
  myUserId: number;
  nameOf(userId: number): string | null;
}

/** Message text with links and mentions; every piece is a text node (no HTML). */
export function MessageText({ body, myUserId, nameOf }: MessageTextProps) {
  const { t } = useTranslation();
  return (
    <>
      {segment(body).map((s, i) => {
        if (s.type === "text") return <span key={i}>{s.text}</span>;
        if (s.type === "link") {
          return (
            <a key={i} href={s.href} target="_blank" rel="noopener noreferrer nofollow">
              {s.text}
            </a>
          );
        }
        const me = s.userId === "all" || s.userId === myUserId;
        const label = s.userId === "all" ? t("chat.mentionAll") : (nameOf(s.userId) ?? t("rooms.unknownPerson"));
        return (
          <span key={i} className={`mention${me ? " mention-me" : ""}`}>
            @{label}
          </span>
        );
      })}
    </>
  );
}
