import { type KeyboardEvent, Suspense, lazy, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { errorText } from "../../lib/i18n";
import { useStore } from "../../lib/store";
import { formatListTime } from "../../lib/time";
import { Icon } from "../../ui/Icon";
import { useApp, useSession } from "../shell/context";
import { type DrawerTab, hasMoreFiles, visibleFiles } from "./drawerStore";
import { FileCard } from "./FileCard";
import type { LightboxItem } from "./Lightbox";
import { MediaThumb } from "./MediaThumb";
import { stateKey } from "./types";

const Lightbox = lazy(() => import("./Lightbox").then((m) => ({ default: m.Lightbox })));
const TABS: DrawerTab[] = ["media", "files"];
const CELL = 88;

/** The room drawer (서랍): photos and videos in a grid, other files in a list, newest first. */
export function FilesDrawer({ roomId }: { roomId: number }) {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const { router } = useApp();
  const [tab, setTab] = useState<DrawerTab>("media");
  const list = useStore(session.drawer, () => session.drawer.list(roomId, tab));
  const people = useStore(session.people, (s) => s.byId);
  const items = useMemo(() => visibleFiles(list), [list]);
  const more = hasMoreFiles(list);
  const [viewing, setViewing] = useState<number | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const title = useRef<HTMLHeadingElement>(null);
  const close = () => router.navigate({ name: "chats", roomId, info: false });

  // Opened: focus goes to the drawer (its title), not left behind the whole message list; closed:
  // back to the button that opened it, when nothing else took it (a phone shows the chat again).
  useEffect(() => {
    title.current?.focus();
    return () => {
      window.requestAnimationFrame(() => {
        if (document.activeElement && document.activeElement !== document.body) return;
        document.querySelector<HTMLElement>('[data-opens="drawer"]')?.focus();
      });
    };
  }, [roomId]);

  useEffect(() => {
    void session.drawer.open(roomId, tab);
  }, [roomId, tab, session]);

  // Infinite scroll: the next page when the end of the list comes into view (observing again after
  // each page, so a page that does not fill the panel is followed by the next at once).
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !more || list.loading || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void session.drawer.loadMore(roomId, tab);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [items.length, more, list.loading, roomId, tab, session]);

  const detail = (senderId: number | null, createdAt: string) => {
    const name = senderId !== null ? (people[senderId]?.display_name ?? t("rooms.unknownPerson")) : t("chat.someone");
    return t("files.sentAt", { name, time: formatListTime(createdAt, i18n.language, new Date(), t("time.yesterday")) });
  };
  const media: LightboxItem[] = useMemo(
    () =>
      tab === "media"
        ? items.map((f) => ({ attachment: f, mine: f.sender_id === session.userId, caption: detail(f.sender_id, f.created_at) }))
        : [],
    // detail reads people and the language, which the items' identity does not cover
    [items, tab, session.userId, people, i18n.language],
  );
  const viewIndex = viewing === null ? -1 : media.findIndex((m) => m.attachment.id === viewing);

  function onTabKey(e: KeyboardEvent<HTMLButtonElement>) {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    const next = TABS[(TABS.indexOf(tab) + 1) % TABS.length] as DrawerTab;
    setTab(next);
    document.getElementById(`drawer-tab-${next}`)?.focus();
  }

  return (
    <aside
      className="panel info-panel drawer-panel"
      aria-labelledby="drawer-title"
      onKeyDown={(e) => {
        if (e.key === "Escape" && viewing === null) close();
      }}
    >
      <header className="panel-header">
        <h1 id="drawer-title" ref={title} tabIndex={-1}>
          {t("drawer.title")}
        </h1>
        <button type="button" className="icon-button" onClick={close} aria-label={t("common.close")}>
          <Icon name="close" />
        </button>
      </header>
      <div className="drawer-tabs" role="tablist" aria-label={t("drawer.title")}>
        {TABS.map((name) => (
          <button
            key={name}
            id={`drawer-tab-${name}`}
            type="button"
            role="tab"
            aria-selected={tab === name}
            aria-controls="drawer-panel"
            tabIndex={tab === name ? 0 : -1}
            className={`drawer-tab${tab === name ? " current" : ""}`}
            onClick={() => setTab(name)}
            onKeyDown={onTabKey}
          >
            {t(name === "media" ? "drawer.media" : "drawer.files")}
          </button>
        ))}
      </div>
      <div id="drawer-panel" className="drawer-scroll" role="tabpanel" aria-labelledby={`drawer-tab-${tab}`} aria-busy={list.loading}>
        {list.error ? (
          <p className="form-error" role="alert">
            {errorText(t, list.error)}
          </p>
        ) : null}
        {list.loaded && items.length === 0 && !more ? (
          <p className="empty">{t(tab === "media" ? "drawer.emptyMedia" : "drawer.emptyFiles")}</p>
        ) : null}
        {tab === "media" ? (
          <div className="drawer-grid">
            {items.map((f) => (
              <MediaThumb key={stateKey(f)} attachment={f} width={CELL} height={CELL} cover onOpen={() => setViewing(f.id)} />
            ))}
          </div>
        ) : (
          <ul className="drawer-files">
            {items.map((f) => (
              <li key={f.id}>
                <FileCard attachment={f} mine={f.sender_id === session.userId} detail={detail(f.sender_id, f.created_at)} />
              </li>
            ))}
          </ul>
        )}
        {list.loading ? (
          <p className="loading-older" role="status">
            {t("common.loading")}
          </p>
        ) : null}
        <div ref={sentinel} className="drawer-sentinel" aria-hidden="true" />
      </div>
      {viewIndex >= 0 ? (
        <Suspense fallback={null}>
          <Lightbox items={media} index={viewIndex} onIndex={(i) => setViewing(media[i]?.attachment.id ?? null)} onClose={() => setViewing(null)} />
        </Suspense>
      ) : null}
    </aside>
  );
}
