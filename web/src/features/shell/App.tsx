import { useEffect, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import { useStore } from "../../lib/store";
import { LoginScreen } from "../auth/LoginScreen";
import { filesPreview } from "../files/preview";
import { roomName } from "../rooms/roomName";
import { AppShell } from "./AppShell";
import { SessionContext, useApp } from "./context";
import { createNotifier } from "./notifier";
import { Session } from "./session";
import type { SocketLike } from "../../realtime/connection";

/** Login, or the signed-in app with one Session per signed-in user. */
export function App() {
  const { t } = useTranslation();
  const app = useApp();
  const userId = useStore(app.auth, (s) => s.tokens?.userId ?? null);

  const session = useMemo(() => {
    if (userId === null) return null;
    const s: Session = new Session({
      auth: app.auth,
      userId,
      fetch: (req) => fetch(req),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      wsUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`,
      storage: localStorage,
      now: () => Date.now(),
      isNetworkOnline: () => navigator.onLine,
      notify: (message) => notify(message),
    });
    const notify = createNotifier(
      {
        enabled: () => app.preferences.getState().notifications && typeof Notification !== "undefined" && Notification.permission === "granted",
        isHidden: () => document.hidden,
        room: (id) => s.rooms.get(id),
        title: (room, message) => {
          const nameOf = (id: number) => s.people.name(id);
          const rn = roomName(room, nameOf, t);
          const sender = message.sender_id !== null ? (nameOf(message.sender_id) ?? "") : "";
          return room.kind === "group" ? `${rn} · ${sender}` : rn;
        },
        body: (message) =>
          plainText(message.body ?? "", (id) => s.people.name(id), t("chat.mentionAll")) || (filesPreview(message, t) ?? ""),
        show: (title, options) => void showNotification(title, options),
      },
      userId,
    );
    return s;
    // One session per user id; the translation function is read lazily.
  }, [userId, app]);

  useEffect(() => {
    if (!session) return;
    void session.start();
    const online = () => session.networkOnline();
    const offline = () => session.connection.networkOffline();
    const visibility = () => session.setView({ visible: !document.hidden });
    const focus = () => session.setView({ visible: !document.hidden });
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    document.addEventListener("visibilitychange", visibility);
    window.addEventListener("focus", focus);
    const fromWorker = (e: MessageEvent) => {
      const data = e.data as { type?: string; roomId?: number };
      if (data?.type === "open-room" && typeof data.roomId === "number") {
        app.router.navigate({ name: "chats", roomId: data.roomId, info: false });
      }
    };
    navigator.serviceWorker?.addEventListener("message", fromWorker);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      document.removeEventListener("visibilitychange", visibility);
      window.removeEventListener("focus", focus);
      navigator.serviceWorker?.removeEventListener("message", fromWorker);
      session.stop();
    };
  }, [session, app]);

  useEffect(() => {
    if (userId === null && app.router.getState().name !== "login") app.router.navigate({ name: "login" }, true);
    if (userId !== null && app.router.getState().name === "login") app.router.navigate({ name: "chats", roomId: null, info: false }, true);
  }, [userId, app]);

  if (!session) return <LoginScreen />;
  return (
    <SessionContext.Provider value={session}>
      <AppShell />
    </SessionContext.Provider>
  );
}

async function showNotification(title: string, options: NotificationOptions & { data: { roomId: number } }) {
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (reg) {
      await reg.showNotification(title, options);
      return;
    }
  } catch {
    // fall back to a page notification
  }
  const n = new Notification(title, options);
  n.onclick = () => {
    window.focus();
    location.assign(`/chats/${options.data.roomId}`);
  };
}
