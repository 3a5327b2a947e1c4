import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";
import { I18nextProvider } from "react-i18next";
import { AuthStore } from "./features/auth/authStore";
import { App } from "./features/shell/App";
import { AppContext, type AppServices, type Preferences } from "./features/shell/context";
import { createApiClient, unwrap } from "./lib/http";
import { createI18n, initialLocale } from "./lib/i18n";
import { Router } from "./lib/router";
import { ValueStore, useStore } from "./lib/store";
import "./ui/styles.css";

const PREFS_KEY = "sodam.preferences";

function loadPreferences(): Preferences {
  let stored: Partial<Preferences> = {};
  try {
    stored = JSON.parse(localStorage.getItem(PREFS_KEY) ?? "{}") as Partial<Preferences>;
  } catch {
    stored = {};
  }
  return {
    locale: initialLocale(stored.locale ?? null),
    theme: stored.theme === "light" || stored.theme === "dark" ? stored.theme : "system",
    notifications: stored.notifications ?? true,
  };
}

const plain = createApiClient((req) => fetch(req));
const auth = new AuthStore({
  storage: localStorage,
  now: () => Date.now(),
  lock: navigator.locks
    ? <T,>(name: string, fn: () => Promise<T>) => navigator.locks.request(name, fn) as unknown as Promise<T>
    : undefined,
  transport: {
    login: (username, password, device_name) =>
      unwrap(plain.POST("/api/auth/login", { body: { username, password, device_name } })),
    refresh: (refresh_token) => unwrap(plain.POST("/api/auth/refresh", { body: { refresh_token } })),
    logout: async (accessToken) => {
      await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${accessToken}` } });
    },
  },
});
window.addEventListener("storage", (e) => {
  if (e.key === "sodam.auth") auth.syncFromStorage();
});

const preferences = new ValueStore<Preferences>(loadPreferences());
preferences.subscribe(() => localStorage.setItem(PREFS_KEY, JSON.stringify(preferences.getState())));
const router = new Router(location, history, window);
const services: AppServices = { auth, router, preferences };
const i18n = createI18n(preferences.getState().locale);

function Root() {
  const prefs = useStore(preferences, (p) => p);
  useEffect(() => {
    void i18n.changeLanguage(prefs.locale);
    document.documentElement.lang = prefs.locale;
  }, [prefs.locale]);
  useEffect(() => {
    document.documentElement.dataset.theme = prefs.theme;
  }, [prefs.theme]);
  return (
    <I18nextProvider i18n={i18n}>
      <AppContext.Provider value={services}>
        <App />
      </AppContext.Provider>
    </I18nextProvider>
  );
}

const container = document.getElementById("root");
if (container) {
  createRoot(container).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
}

if (import.meta.env.PROD && "serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    void navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  });
}
