import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../lib/errors";
import { errorText } from "../../lib/i18n";
import { useStore } from "../../lib/store";
import { Avatar } from "../../ui/Avatar";
import { Dialog } from "../../ui/Dialog";
import { Icon } from "../../ui/Icon";
import { PeoplePicker } from "../people/PeoplePicker";
import { useApp, useSession } from "../shell/context";
import { roomName } from "./roomName";
import { useMembers } from "./useMembers";

/** Room info (채팅방 정보): members, invite, favourite/mute, rename, leave, and owner actions. */
export function RoomInfoPanel({ roomId }: { roomId: number }) {
  const { t } = useTranslation();
  const session = useSession();
  const { router } = useApp();
  const room = useStore(session.rooms, (s) => s.byId[roomId]);
  const people = useStore(session.people, (s) => s.byId);
  const presence = useStore(session.presence, (s) => s.users);
  const [version, setVersion] = useState(0);
  const members = useMembers(session.api, roomId, (room?.member_count ?? 0) + version * 100000);
  const [inviting, setInviting] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [renaming, setRenaming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!room) return null;
  const nameOf = (id: number) => people[id]?.display_name ?? null;
  const isOwner = room.role === "owner";
  const canModerate = room.role === "owner" || room.role === "admin";
  const close = () => router.navigate({ name: "chats", roomId, info: false });

  async function act(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
      await session.rooms.reloadRoom(roomId);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
    }
  }

  const memberIds = new Set(members.map((m) => m.user_id));
  return (
    <aside
      className="panel info-panel"
      aria-labelledby="room-info-title"
      onKeyDown={(e) => {
        if (e.key === "Escape" && !inviting && !leaving && renaming === null) close();
      }}
    >
      <header className="panel-header">
        <h1 id="room-info-title">{t("roomInfo.title")}</h1>
        <button type="button" className="icon-button" onClick={close} aria-label={t("common.close")}>
          <Icon name="close" />
        </button>
      </header>
      <div className="info-hero">
        <Avatar name={roomName(room, nameOf, t)} seed={room.peer_user_id ?? room.id} group={room.kind === "group"} size={64} />
        <h2>{roomName(room, nameOf, t)}</h2>
        {room.topic ? <p className="muted">{room.topic}</p> : null}
      </div>
      <div className="info-actions">
        <label className="switch-row">
          <input type="checkbox" checked={room.favourite} onChange={(e) => void act(() => session.rooms.setFavourite(roomId, e.target.checked))} />
          <span>{t("roomInfo.favourite")}</span>
        </label>
        <label className="switch-row">
          <input type="checkbox" checked={room.muted} onChange={(e) => void act(() => session.rooms.setMuted(roomId, e.target.checked))} />
          <span>{t("roomInfo.mute")}</span>
        </label>
        {room.kind === "group" && canModerate ? (
          <button type="button" onClick={() => setRenaming(room.name ?? "")}>
            {t("roomInfo.rename")}
          </button>
        ) : null}
      </div>
      <h3 className="section-title">{t("roomInfo.members", { count: room.member_count })}</h3>
      {room.kind === "group" && (canModerate || (room as { members_can_invite?: boolean }).members_can_invite !== false) ? (
        <button type="button" className="invite-button" onClick={() => setInviting(true)}>
          <Icon name="plus" size={18} /> {t("roomInfo.invite")}
        </button>
      ) : null}
      <ul className="member-list" aria-label={t("roomInfo.memberList")}>
        {members.map((m) => (
          <li key={m.user_id} className="member-row">
            <Avatar name={m.display_name} seed={m.user_id} size={34} presence={presence[m.user_id]?.status ?? "offline"} />
            <span className="member-name">
              {m.display_name}
              {m.user_id === session.userId ? <span className="me-tag">{t("common.me")}</span> : null}
            </span>
            {m.role === "owner" ? <span className="role-tag">{t("roomInfo.owner")}</span> : m.role === "admin" ? <span className="role-tag">{t("roomInfo.admin")}</span> : null}
            {isOwner && m.user_id !== session.userId && room.kind === "group" ? (
              <span className="member-actions">
                <button type="button" className="link-button" onClick={() => void act(() => session.api.handOver(roomId, m.user_id))}>
                  {t("roomInfo.handOver")}
                </button>
                <button type="button" className="link-button danger" onClick={() => void act(() => session.api.kick(roomId, m.user_id))}>
                  {t("roomInfo.kick")}
                </button>
              </span>
            ) : null}
          </li>
        ))}
      </ul>
      {error ? (
        <p className="form-error" role="alert">
          {errorText(t, error)}
        </p>
      ) : null}
      {room.kind === "group" ? (
        <button type="button" className="danger wide" onClick={() => setLeaving(true)}>
          {t("roomInfo.leave")}
        </button>
      ) : null}
      {inviting ? (
        <Dialog
          title={t("roomInfo.invite")}
          onClose={() => setInviting(false)}
          footer={
            <>
              <button type="button" onClick={() => setInviting(false)}>
                {t("common.cancel")}
              </button>
              <button
                type="button"
                className="primary"
                disabled={selected.size === 0}
                onClick={() => {
                  const ids = [...selected];
                  setInviting(false);
                  setSelected(new Set());
                  void act(() => session.api.invite(roomId, ids));
                }}
              >
                {t("roomInfo.inviteConfirm", { count: selected.size })}
              </button>
            </>
          }
        >
          <PeoplePicker
            people={Object.values(people).filter((p) => p.active && !memberIds.has(p.id))}
            selected={selected}
            onToggle={(id) =>
              setSelected((prev) => {
                const next = new Set(prev);
                if (next.has(id)) next.delete(id);
                else next.add(id);
                return next;
              })
            }
          />
        </Dialog>
      ) : null}
      {leaving ? (
        <Dialog
          title={t("roomInfo.leaveTitle")}
          onClose={() => setLeaving(false)}
          footer={
            <>
              <button type="button" onClick={() => setLeaving(false)}>
                {t("common.cancel")}
              </button>
              <button type="button" onClick={() => void leave(true)}>
                {t("roomInfo.leaveQuietly")}
              </button>
              <button type="button" className="danger" onClick={() => void leave(false)}>
                {t("roomInfo.leave")}
              </button>
            </>
          }
        >
          <p>{t("roomInfo.leaveBody")}</p>
        </Dialog>
      ) : null}
      {renaming !== null ? (
        <Dialog
          title={t("roomInfo.rename")}
          onClose={() => setRenaming(null)}
          footer={
            <>
              <button type="button" onClick={() => setRenaming(null)}>
                {t("common.cancel")}
              </button>
              <button
                type="button"
                className="primary"
                disabled={!renaming.trim()}
                onClick={() => {
                  const name = renaming.trim();
                  setRenaming(null);
                  void act(() => session.api.updateRoom(roomId, { name }));
                }}
              >
                {t("common.save")}
              </button>
            </>
          }
        >
          <input value={renaming} maxLength={100} onChange={(e) => setRenaming(e.target.value)} aria-label={t("roomInfo.rename")} />
        </Dialog>
      ) : null}
    </aside>
  );

  async function leave(quiet: boolean) {
    setLeaving(false);
    try {
      await session.api.leave(roomId, quiet);
      session.rooms.remove(roomId);
      session.timelines.forget(roomId);
      router.navigate({ name: "chats", roomId: null, info: false });
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
    }
  }
}
