import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Avatar } from "../../ui/Avatar";
import { Dialog } from "../../ui/Dialog";
import type { MessagingApi } from "../rooms/roomsApi";

export interface UnreadMembersDialogProps {
  api: Pick<MessagingApi, "unreadMembers">;
  roomId: number;
  messageId: number;
  nameOf(userId: number): string | null;
  onClose(): void;
}

/** "안 읽은 사람": who has not read a message yet, a page at a time (any room size). */
export function UnreadMembersDialog({ api, roomId, messageId, nameOf, onClose }: UnreadMembersDialogProps) {
  const { t } = useTranslation();
  const [ids, setIds] = useState<number[]>([]);
  const [next, setNext] = useState<number | null>(0);
  const [loading, setLoading] = useState(false);

  async function load(after: number) {
    setLoading(true);
    try {
      const page = await api.unreadMembers(roomId, messageId, after);
      setIds((prev) => [...prev, ...page.user_ids]);
      setNext(page.next_after_user_id);
    } catch {
      setNext(null);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load(0);
    // First page once per message.
  }, [roomId, messageId]);

  return (
    <Dialog
      title={t("chat.unreadMembersTitle")}
      onClose={onClose}
      footer={
        <button type="button" onClick={onClose}>
          {t("common.close")}
        </button>
      }
    >
      {!loading && ids.length === 0 ? <p className="muted">{t("chat.everyoneRead")}</p> : null}
      <ul className="member-list" aria-label={t("chat.unreadMembersTitle")}>
        {ids.map((id) => (
          <li key={id} className="member-row">
            <Avatar name={nameOf(id) ?? "?"} seed={id} size={30} />
            <span className="member-name">{nameOf(id) ?? t("rooms.unknownPerson")}</span>
          </li>
        ))}
      </ul>
      {next !== null && next !== 0 && !loading ? (
        <button type="button" className="link-button" onClick={() => void load(next)}>
          {t("chat.more")}
        </button>
      ) : null}
      {loading ? <p className="muted">{t("common.loading")}</p> : null}
    </Dialog>
  );
}
