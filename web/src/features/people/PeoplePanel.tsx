import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../lib/errors";
import { errorText } from "../../lib/i18n";
import { useStore } from "../../lib/store";
import { Avatar } from "../../ui/Avatar";
import { useApp, useSession } from "../shell/context";
import { ProfileCard } from "./ProfileCard";

/** 친구: everyone in the company, me first, with presence and work status. */
export function PeoplePanel() {
  const { t } = useTranslation();
  const session = useSession();
  const { router } = useApp();
  const byId = useStore(session.people, (s) => s.byId);
  const profiles = useStore(session.people, (s) => s.profiles);
  const presence = useStore(session.presence, (s) => s.users);
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const people = useMemo(() => {
    const q = query.trim().toLocaleLowerCase();
    return Object.values(byId)
      .filter((p) => p.active && p.id !== session.userId)
      .filter((p) => !q || `${p.display_name} ${p.username}`.toLocaleLowerCase().includes(q))
      .sort((a, b) => a.display_name.localeCompare(b.display_name, "ko"));
  }, [byId, query, session.userId]);

  useEffect(() => {
    void session.people.loadProfile(session.userId);
  }, [session]);

  // The users list has no status fields: fetch the profiles of the people on screen (first 100).
  useEffect(() => {
    for (const p of people.slice(0, 100)) if (!session.people.getState().profiles[p.id]) void session.people.loadProfile(p.id);
  }, [people, session]);

  const me = byId[session.userId];
  async function chatWith(userId: number) {
    try {
      const room = await session.api.createRoom(userId === session.userId ? { kind: "self" } : { kind: "direct", user_id: userId });
      session.rooms.upsert(room);
      session.sync.trackRooms([room]);
      router.navigate({ name: "chats", roomId: room.id, info: false });
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
    }
  }

  return (
    <section className="panel list-panel" aria-labelledby="people-title">
      <header className="panel-header">
        <h1 id="people-title">{t("people.title")}</h1>
      </header>
      <div className="search-box">
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t("people.search")} aria-label={t("people.search")} />
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {errorText(t, error)}
        </p>
      ) : null}
      {me ? (
        <button type="button" className="person-row me" onClick={() => setOpen(me.id)}>
          <Avatar name={me.display_name} seed={me.id} size={52} />
          <span className="person-main">
            <span className="person-name">{me.display_name}</span>
            <span className="person-status">{profiles[me.id]?.status_message ?? ""}</span>
          </span>
        </button>
      ) : null}
      <h2 className="section-title">{t("people.count", { count: people.length })}</h2>
      <ul className="people-list" aria-label={t("people.title")}>
        {people.map((p) => (
          <li key={p.id}>
            <button type="button" className="person-row" onClick={() => setOpen(p.id)}>
              <Avatar name={p.display_name} seed={p.id} size={42} presence={presence[p.id]?.status ?? "offline"} />
              <span className="person-main">
                <span className="person-name">{p.display_name}</span>
                <span className="person-status">{profiles[p.id]?.status_message ?? ""}</span>
              </span>
              {profiles[p.id] ? <span className={`work-status ws-${profiles[p.id]?.work_status}`}>{t(`workStatus.${profiles[p.id]?.work_status}`)}</span> : null}
            </button>
          </li>
        ))}
      </ul>
      {open !== null ? <ProfileCard userId={open} onClose={() => setOpen(null)} onChat={() => void chatWith(open)} /> : null}
    </section>
  );
}
