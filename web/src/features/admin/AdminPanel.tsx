import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../lib/errors";
import { errorText } from "../../lib/i18n";
import { unwrap } from "../../lib/http";
import type { PersonSummary } from "../../lib/model";
import { Dialog } from "../../ui/Dialog";
import { useSession } from "../shell/context";

/** 관리자: create, deactivate, reactivate users and reset their passwords. */
export function AdminPanel() {
  const { t } = useTranslation();
  const session = useSession();
  const [users, setUsers] = useState<PersonSummary[]>([]);
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [isAdmin, setIsAdmin] = useState(false);
  const [resetting, setResetting] = useState<string | null>(null);
  const [resetPassword, setResetPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);

  const load = useCallback(async () => {
    const all: PersonSummary[] = [];
    let after = 0;
    for (;;) {
      const page = await unwrap(session.client.GET("/api/admin/users", { params: { query: { after_id: after, limit: 200 } } }));
      all.push(...page);
      const last = page[page.length - 1];
      if (page.length < 200 || !last) break;
      after = last.id;
    }
    setUsers(all);
  }, [session]);

  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.code : "network_error"));
  }, [load]);

  async function run(fn: () => Promise<unknown>, message: string) {
    setError(null);
    setOk(null);
    try {
      await fn();
      setOk(message);
      await load();
      await session.people.load();
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
    }
  }

  function create(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      await unwrap(
        session.client.POST("/api/admin/users", {
          body: { username: username.trim(), password, display_name: displayName.trim() || null, is_admin: isAdmin },
        }),
      );
      setUsername("");
      setDisplayName("");
      setPassword("");
      setIsAdmin(false);
    }, t("admin.created"));
  }

  const path = (name: string) => ({ params: { path: { username: name } } });
  return (
    <section className="panel settings-panel" aria-labelledby="admin-title">
      <header className="panel-header">
        <h1 id="admin-title">{t("admin.title")}</h1>
      </header>
      <div className="settings-scroll">
        {ok ? (
          <p className="form-ok" role="status">
            {ok}
          </p>
        ) : null}
        {error ? (
          <p className="form-error" role="alert">
            {errorText(t, error)}
          </p>
        ) : null}
        <form className="settings-section" onSubmit={create} aria-labelledby="admin-create-title">
          <h2 id="admin-create-title">{t("admin.create")}</h2>
          <label className="field">
            <span>{t("admin.username")}</span>
            <input name="new-username" value={username} onChange={(e) => setUsername(e.target.value)} required autoCapitalize="none" />
          </label>
          <label className="field">
            <span>{t("admin.displayName")}</span>
            <input name="new-display-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </label>
          <label className="field">
            <span>{t("admin.password")}</span>
            <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </label>
          <label className="switch-row">
            <input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.target.checked)} />
            <span>{t("admin.isAdmin")}</span>
          </label>
          <button type="submit" className="primary">
            {t("admin.createSubmit")}
          </button>
        </form>
        <section className="settings-section" aria-labelledby="admin-users-title">
          <h2 id="admin-users-title">{t("admin.users", { count: users.length })}</h2>
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">{t("admin.username")}</th>
                <th scope="col">{t("admin.displayName")}</th>
                <th scope="col">{t("admin.state")}</th>
                <th scope="col">
                  <span className="sr-only">{t("admin.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} className={u.active ? "" : "inactive"}>
                  <td>
                    {u.username}
                    {u.is_admin ? <span className="role-tag">{t("admin.adminTag")}</span> : null}
                  </td>
                  <td>{u.display_name}</td>
                  <td>{u.active ? t("admin.active") : t("admin.inactive")}</td>
                  <td className="admin-actions">
                    {u.active ? (
                      <button
                        type="button"
                        className="link-button danger"
                        disabled={u.id === session.userId}
                        onClick={() => void run(() => unwrap(session.client.POST("/api/admin/users/{username}/deactivate", path(u.username))), t("admin.deactivated"))}
                      >
                        {t("admin.deactivate")}
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="link-button"
                        onClick={() => void run(() => unwrap(session.client.POST("/api/admin/users/{username}/reactivate", path(u.username))), t("admin.reactivated"))}
                      >
                        {t("admin.reactivate")}
                      </button>
                    )}
                    <button type="button" className="link-button" onClick={() => setResetting(u.username)}>
                      {t("admin.resetPassword")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      {resetting ? (
        <Dialog
          title={t("admin.resetFor", { name: resetting })}
          onClose={() => setResetting(null)}
          footer={
            <>
              <button type="button" onClick={() => setResetting(null)}>
                {t("common.cancel")}
              </button>
              <button
                type="button"
                className="primary"
                disabled={!resetPassword}
                onClick={() => {
                  const name = resetting;
                  const pw = resetPassword;
                  setResetting(null);
                  setResetPassword("");
                  void run(() => unwrap(session.client.POST("/api/admin/users/{username}/password", { ...path(name), body: { password: pw } })), t("admin.passwordReset"));
                }}
              >
                {t("admin.resetPassword")}
              </button>
            </>
          }
        >
          <label className="field">
            <span>{t("admin.newPassword")}</span>
            <input type="password" autoComplete="new-password" value={resetPassword} onChange={(e) => setResetPassword(e.target.value)} />
          </label>
          <p className="muted">{t("admin.resetNote")}</p>
        </Dialog>
      ) : null}
    </section>
  );
}
