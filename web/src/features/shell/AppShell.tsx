import { Suspense, lazy, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useStore } from "../../lib/store";
import { AdminPanel } from "../admin/AdminPanel";
import { ChatView } from "../chat/ChatView";
import { PeoplePanel } from "../people/PeoplePanel";
import { RoomInfoPanel } from "../rooms/RoomInfoPanel";
import { RoomListPanel } from "../rooms/RoomListPanel";
import { totalUnread } from "../rooms/roomList";
import { BlockedFileNotices } from "../files/BlockedFileNotices";
import { SettingsPanel } from "../settings/SettingsPanel";
import { faviconWithBadge, titleWithUnread } from "./badge";
import { ConnectionBanner } from "./ConnectionBanner";
import { useApp, useSession } from "./context";
import { NavRail } from "./NavRail";

// The drawer is opened now and then: it loads on first use, not with the app.
const FilesDrawer = lazy(() => import("../files/FilesDrawer").then((m) => ({ default: m.FilesDrawer })));

export function AppShell() {
  const { t } = useTranslation();
  const session = useSession();
  const { router } = useApp();
  const route = useStore(router, (r) => r);
  const rooms = useStore(session.rooms, (s) => s.ordered);
  const status = useStore(session.connection, (s) => s.status);
  const pending = useStore(session.outbox, (s) => s.items.length);
  const me = useStore(session.people, (s) => s.byId[session.userId]);
  const blockedFiles = useStore(session.blockedFiles, (s) => s);
  const unread = totalUnread(rooms);

  useEffect(() => {
    document.title = titleWithUnread(t("app.name"), unread);
    const href = faviconWithBadge(unread);
    const link = document.querySelector<HTMLLinkElement>("link#favicon");
    if (href && link) link.href = href;
    (navigator as Navigator & { setAppBadge?(n?: number): Promise<void> }).setAppBadge?.(unread).catch(() => undefined);
  }, [unread, t]);

  useEffect(() => {
    // A file dropped outside the chat pane must not make the browser leave the app to open it.
    const guard = (e: DragEvent) => {
      if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) e.preventDefault();
    };
    window.addEventListener("dragover", guard);
    window.addEventListener("drop", guard);
    return () => {
      window.removeEventListener("dragover", guard);
      window.removeEventListener("drop", guard);
    };
  }, []);

  const roomId = route.name === "chats" ? route.roomId : null;
  const drawerOpen = route.name === "chats" && route.files === true && roomId !== null;
  const layout = route.name === "settings" || route.name === "admin" ? "wide" : roomId !== null ? "has-room" : "no-room";
  return (
    <div className={`app-shell layout-${layout}${(route.name === "chats" && route.info) || drawerOpen ? " with-info" : ""}`}>
      <a className="skip-link" href="#main-content">
        {t("nav.skip")}
      </a>
      <NavRail route={route} unread={unread} isAdmin={me?.is_admin ?? false} onNavigate={(r) => router.navigate(r)} />
      <ConnectionBanner status={status} pending={pending} />
      {route.name === "chats" || route.name === "login" ? <RoomListPanel selectedRoomId={roomId} /> : null}
      {route.name === "people" ? <PeoplePanel /> : null}
      {route.name === "settings" ? <SettingsPanel /> : null}
      {route.name === "admin" ? <AdminPanel /> : null}
      {route.name === "chats" || route.name === "people" || route.name === "login" ? (
        <main id="main-content" className="main-area">
          {roomId !== null ? (
            <ChatView roomId={roomId} />
          ) : (
            <div className="empty-chat">
              <p>{t("chat.pickRoom")}</p>
            </div>
          )}
        </main>
      ) : null}
      {route.name === "chats" && route.info && roomId !== null ? <RoomInfoPanel roomId={roomId} /> : null}
      {drawerOpen && roomId !== null ? (
        <Suspense fallback={null}>
          <FilesDrawer roomId={roomId} />
        </Suspense>
      ) : null}
      <BlockedFileNotices
        notices={blockedFiles}
        canOpen={(id) => id !== roomId && session.rooms.get(id) !== undefined}
        onOpen={(notice) => {
          session.blockedFiles.dismiss(notice.id);
          router.navigate({ name: "chats", roomId: notice.roomId, info: false });
        }}
        onDismiss={(id) => session.blockedFiles.dismiss(id)}
        onHold={(reason, held) => session.blockedFiles.hold(reason, held)}
      />
    </div>
  );
}
