import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { errorText } from "../../lib/i18n";
import { ApiError, NetworkError } from "../../lib/errors";
import { useStore } from "../../lib/store";
import { useApp } from "../shell/context";

export function LoginScreen() {
  const { t } = useTranslation();
  const { auth } = useApp();
  const endedReason = useStore(auth, (s) => s.endedReason);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.login(username.trim(), password, deviceName());
    } catch (err) {
      setError(err instanceof ApiError ? err.code : err instanceof NetworkError ? "network_error" : "unknown");
    } finally {
      setBusy(false);
    }
  }

  const shown = error ?? endedReason;
  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login-logo" aria-hidden="true">
          {t("app.name")}
        </div>
        <h1 id="login-title" className="login-title">
          {t("login.title")}
        </h1>
        <label className="field">
          <span>{t("login.username")}</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label className="field">
          <span>{t("login.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {shown ? (
          <p className="form-error" role="alert">
            {errorText(t, shown)}
          </p>
        ) : null}
        <button className="primary wide" type="submit" disabled={busy || !username || !password}>
          {busy ? t("login.busy") : t("login.submit")}
        </button>
      </form>
    </main>
  );
}

function deviceName(): string {
  const ua = navigator.userAgent;
  const os = /Windows/.test(ua) ? "Windows" : /Mac OS/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Linux/.test(ua) ? "Linux" : "";
  const browser = /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Firefox\//.test(ua) ? "Firefox" : /Safari\//.test(ua) ? "Safari" : "Browser";
  return `${browser}${os ? ` · ${os}` : ""}`;
}
