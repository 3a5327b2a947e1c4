import { useTranslation } from "react-i18next";
import type { Message } from "../../lib/model";

export interface SystemRowProps {
  message: Message;
  nameOf(userId: number): string | null;
}

/** "김민수님이 이영희님을 초대했습니다." and similar lines, from the structured system payload. */
export function SystemRow({ message, nameOf }: SystemRowProps) {
  const { t } = useTranslation();
  if (message.deleted_at) {
    return (
      <div className="system-row tombstone-row" role="note">
        <span className="tombstone">{t("chat.unsent")}</span>
      </div>
    );
  }
  const sys = (message.system ?? {}) as Record<string, unknown>;
  const name = (v: unknown) => (typeof v === "number" ? (nameOf(v) ?? t("rooms.unknownPerson")) : t("rooms.unknownPerson"));
  const users = Array.isArray(sys.user_ids) ? (sys.user_ids as unknown[]).map(name).join(", ") : name(sys.user_id ?? sys.subject_user_id);
  const event = typeof sys.event === "string" ? sys.event : "unknown";
  const key = `system.${event}`;
  const text = t(key, { actor: name(sys.actor_id), users });
  return (
    <div className="system-row" role="note">
      <span>{text === key ? (message.body ?? t("system.unknown")) : text}</span>
    </div>
  );
}
