import { type KeyboardEvent, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useStore } from "../../lib/store";
import { Icon } from "../../ui/Icon";
import { useApp, useSession } from "../shell/context";
import { NewChatDialog } from "./NewChatDialog";
import { filterRooms } from "./roomList";
import { RoomListItem } from "./RoomListItem";
import { roomName } from "./roomName";

/** Arrow keys move between rooms (Home/End to the ends); Enter opens the focused one. */
function moveFocus(e: KeyboardEvent<HTMLUListElement>) {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key)) return;
  const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>(".room-item-button")];
  if (buttons.length === 0) return;
  e.preventDefault();
  const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const next =
    e.key === "Home" ? 0 : e.key === "End" ? buttons.length - 1 : e.key === "ArrowDown" ? Math.min(buttons.length - 1, index + 1) : Math.max(0, index - 1);
  buttons[next]?.focus();
}

export function RoomListPanel({ selectedRoomId }: { selectedRoomId: number | null }) {
  const { t } = useTranslation();
  const session = useSession();
  const { router } = useApp();
  const ordered = useStore(session.rooms, (s) => s.ordered);
  const loaded = useStore(session.rooms, (s) => s.loaded);
  const people = useStore(session.people, (s) => s.byId);
  const presence = useStore(session.presence, (s) => s.users);
  const [query, setQuery] = useState("");
  const [creating, setCreating] = useState(false);
  const nameOf = (id: number) => people[id]?.display_name ?? null;
  const visible = useMemo(
    () => filterRooms(ordered.filter((r) => !r.archived), query, (r) => roomName(r, nameOf, t)),
    [ordered, query, people, t],
  );

  return (
    <section className="panel list-panel" aria-labelledby="rooms-title">
      <header className="panel-header">
        <h1 id="rooms-title">{t("rooms.title")}</h1>
        <button type="button" className="icon-button" onClick={() => setCreating(true)} aria-label={t("rooms.new")} title={t("rooms.new")}>
          <Icon name="plus" />
        </button>
      </header>
      <div className="search-box">
        <Icon name="search" size={18} />
        <input
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder={t("rooms.search")}
          aria-label={t("rooms.search")}
        />
      </div>
      {loaded && visible.length === 0 ? <p className="empty">{query ? t("rooms.noMatch") : t("rooms.empty")}</p> : null}
      <ul className="room-list" aria-label={t("rooms.title")} onKeyDown={moveFocus}>
        {visible.map((room) => (
          <RoomListItem
            key={room.id}
            room={room}
            name={roomName(room, nameOf, t)}
            selected={room.id === selectedRoomId}
            presence={room.kind === "direct" && room.peer_user_id !== null ? (presence[room.peer_user_id]?.status ?? "offline") : null}
            nameOf={nameOf}
            onOpen={() => router.navigate({ name: "chats", roomId: room.id, info: false })}
          />
        ))}
      </ul>
      {creating ? (
        <NewChatDialog
          onClose={() => setCreating(false)}
          onCreated={(roomId) => {
            setCreating(false);
            router.navigate({ name: "chats", roomId, info: false });
          }}
        />
      ) : null}
    </section>
  );
}
