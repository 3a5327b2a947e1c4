import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../lib/http";
import type { SessionInfo } from "../../lib/model";
import { useSession } from "../shell/context";

/** 로그인 기기: every session of mine, with remote logout. */
export function SessionsList() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const load = useCallback(() => {
    unwrap(session.client.GET("/api/auth/sessions"))
      .then(setSessions)
      .catch(() => undefined);
  }, [session]);
  useEffect(load, [load]);

  async function revoke(id: string) {
    await unwrap(session.client.DELETE("/api/auth/sessions/{session_id}", { params: { path: { session_id: id } } })).catch(() => undefined);
    load();
  }

  return (
    <section className="settings-section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">{t("settings.sessions")}</h2>
      <ul className="sessions-list">
        {sessions.map((s) => (
          <li key={s.id} className="session-row">
            <span className="session-main">
              <span className="session-name">
                {s.device_name ?? t("settings.unknownDevice")}
                {s.current ? <span className="me-tag">{t("settings.thisDevice")}</span> : null}
              </span>
              <span className="muted">
                {s.ip_address ?? ""} · {t("settings.lastSeen", { when: new Date(s.last_seen_at).toLocaleString(i18n.language) })}
              </span>
            </span>
            {!s.current ? (
              <button type="button" className="link-button danger" onClick={() => void revoke(s.id)}>
                {t("settings.revoke")}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
