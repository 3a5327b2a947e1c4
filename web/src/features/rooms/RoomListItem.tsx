import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import { filesPreview } from "../files/preview";
import type { PresenceStatus, RoomSummary } from "../../lib/model";
import { formatListTime } from "../../lib/time";
import { Avatar } from "../../ui/Avatar";
import { Badge } from "../../ui/Badge";
import { Icon } from "../../ui/Icon";

export interface RoomListItemProps {
  room: RoomSummary;
  name: string;
  selected: boolean;
  presence: PresenceStatus | null;
  nameOf(userId: number): string | null;
  onOpen(): void;
}

export function RoomListItem({ room, name, selected, presence, nameOf, onOpen }: RoomListItemProps) {
  const { t, i18n } = useTranslation();
  const last = room.last_message;
  let preview = "";
  if (last) {
    if (last.deleted_at) preview = t("chat.unsent");
    else if (last.hidden) preview = t("chat.hidden");
    else if (last.kind === "system") preview = t("chat.systemPreview");
    else preview = plainText(last.body ?? "", nameOf, t("chat.mentionAll")) || (filesPreview(last, t) ?? "");
  }
  return (
    <li className={`room-item${selected ? " selected" : ""}`}>
      <button type="button" className="room-item-button" onClick={onOpen} data-room-id={room.id} aria-current={selected ? "true" : undefined}>
        <Avatar name={name} seed={room.peer_user_id ?? room.id} group={room.kind === "group"} presence={presence} size={46} />
        <span className="room-item-main">
          <span className="room-item-top">
            <span className="room-item-name">{name}</span>
            {room.kind === "group" ? <span className="room-item-count">{room.member_count}</span> : null}
            {room.favourite ? (
              <span className="room-item-flag" title={t("rooms.favourite")} aria-label={t("rooms.favourite")}>
                <Icon name="star" size={14} />
              </span>
            ) : null}
            {room.muted ? (
              <span className="room-item-flag" title={t("rooms.muted")} aria-label={t("rooms.muted")}>
                <Icon name="mute" size={14} />
              </span>
            ) : null}
          </span>
          <span className="room-item-preview">{preview}</span>
        </span>
        <span className="room-item-side">
          <span className="room-item-time">
            {room.last_message_at && last ? formatListTime(room.last_message_at, i18n.language, new Date(), t("time.yesterday")) : ""}
          </span>
          <span className="room-item-badges">
            <Badge count={room.unread_mentions} tone="mention" label={t("rooms.mentionBadge", { count: room.unread_mentions })} />
            <Badge count={room.muted ? 0 : room.unread_count} label={t("rooms.unreadBadge", { count: room.unread_count })} />
            {room.muted && room.unread_count > 0 ? <span className="badge badge-muted" aria-label={t("rooms.unreadBadge", { count: room.unread_count })}>{room.unread_count}</span> : null}
          </span>
        </span>
      </button>
    </li>
  );
}
