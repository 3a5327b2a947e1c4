import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../lib/errors";
import { LOCALES, errorText } from "../../lib/i18n";
import { unwrap } from "../../lib/http";
import { WORK_STATUSES, type Profile } from "../../lib/model";
import { useStore } from "../../lib/store";
import { Avatar } from "../../ui/Avatar";
import { type Theme, useApp, useSession } from "../shell/context";
import { SessionsList } from "./SessionsList";

/** 설정: my profile (status message, work status), password, sessions, language, theme. */
export function SettingsPanel() {
  const { t } = useTranslation();
  const session = useSession();
  const { auth, preferences } = useApp();
  const prefs = useStore(preferences, (s) => s);
  const [profile, setProfile] = useState<Profile | null>(null);
  const [displayName, setDisplayName] = useState("");
  const [statusMessage, setStatusMessage] = useState("");
  const [workStatus, setWorkStatus] = useState("working");
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");

  useEffect(() => {
    unwrap(session.client.GET("/api/me"))
      .then((me) => {
        setProfile(me.profile);
        setDisplayName(me.profile.display_name);
        setStatusMessage(me.profile.status_message ?? "");
        setWorkStatus(me.profile.work_status);
      })
      .catch(() => undefined);
  }, [session]);

  async function run(fn: () => Promise<void>, ok: string) {
    setError(null);
    setSaved(null);
    try {
      await fn();
      setSaved(ok);
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
    }
  }

  function saveProfile(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const updated = await unwrap(
        session.client.PATCH("/api/me/profile", {
          body: { display_name: displayName.trim(), status_message: statusMessage, work_status: workStatus },
        }),
      );
      setProfile(updated);
      session.people.setProfile(updated);
    }, t("settings.profileSaved"));
  }

  function changePassword(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      await unwrap(session.client.POST("/api/me/password", { body: { current_password: current, new_password: next } }));
      setCurrent("");
      setNext("");
    }, t("settings.passwordChanged"));
  }

  async function askNotifications(enabled: boolean) {
    if (enabled && typeof Notification !== "undefined" && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    preferences.set({ ...prefs, notifications: enabled });
  }

  return (
    <section className="panel settings-panel" aria-labelledby="settings-title">
      <header className="panel-header">
        <h1 id="settings-title">{t("settings.title")}</h1>
      </header>
      <div className="settings-scroll">
        {saved ? (
          <p className="form-ok" role="status">
            {saved}
          </p>
        ) : null}
        {error ? (
          <p className="form-error" role="alert">
            {errorText(t, error)}
          </p>
        ) : null}
        <form className="settings-section" onSubmit={saveProfile} aria-labelledby="profile-title">
          <h2 id="profile-title">{t("settings.profile")}</h2>
          <div className="profile-head">
            <Avatar name={displayName || "?"} seed={session.userId} size={56} />
            <span className="muted">{profile ? `@${session.people.getState().byId[session.userId]?.username ?? ""}` : ""}</span>
          </div>
          <label className="field">
            <span>{t("settings.displayName")}</span>
            <input value={displayName} maxLength={100} onChange={(e) => setDisplayName(e.target.value)} required />
          </label>
          <label className="field">
            <span>{t("settings.statusMessage")}</span>
            <input value={statusMessage} maxLength={200} onChange={(e) => setStatusMessage(e.target.value)} placeholder={t("settings.statusPlaceholder")} />
          </label>
          <fieldset className="field work-status-field">
            <legend>{t("profile.workStatus")}</legend>
            {WORK_STATUSES.map((ws) => (
              <label key={ws} className={`chip-radio ws-${ws}`}>
                <input type="radio" name="work_status" value={ws} checked={workStatus === ws} onChange={() => setWorkStatus(ws)} />
                <span>{t(`workStatus.${ws}`)}</span>
              </label>
            ))}
          </fieldset>
          <button type="submit" className="primary">
            {t("common.save")}
          </button>
        </form>

        <section className="settings-section" aria-labelledby="prefs-title">
          <h2 id="prefs-title">{t("settings.preferences")}</h2>
          <label className="field">
            <span>{t("settings.language")}</span>
            <select value={prefs.locale} onChange={(e) => preferences.set({ ...prefs, locale: e.target.value as typeof prefs.locale })}>
              {LOCALES.map((l) => (
                <option key={l} value={l}>
                  {t(`language.${l}`)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t("settings.theme")}</span>
            <select value={prefs.theme} onChange={(e) => preferences.set({ ...prefs, theme: e.target.value as Theme })}>
              {(["system", "light", "dark"] as const).map((th) => (
                <option key={th} value={th}>
                  {t(`theme.${th}`)}
                </option>
              ))}
            </select>
          </label>
          <label className="switch-row">
            <input type="checkbox" checked={prefs.notifications} onChange={(e) => void askNotifications(e.target.checked)} />
            <span>{t("settings.notifications")}</span>
          </label>
        </section>

        <form className="settings-section" onSubmit={changePassword} aria-labelledby="password-title">
          <h2 id="password-title">{t("settings.password")}</h2>
          <label className="field">
            <span>{t("settings.currentPassword")}</span>
            <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
          </label>
          <label className="field">
            <span>{t("settings.newPassword")}</span>
            <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
          </label>
          <p className="muted">{t("settings.passwordNote")}</p>
          <button type="submit" className="primary" disabled={!current || !next}>
            {t("settings.changePassword")}
          </button>
        </form>

        <SessionsList />

        <section className="settings-section">
          <button type="button" className="danger wide" onClick={() => void auth.logout()}>
            {t("settings.logout")}
          </button>
        </section>
      </div>
    </section>
  );
}
