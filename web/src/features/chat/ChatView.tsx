import { type DragEvent, Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../lib/errors";
import { errorText } from "../../lib/i18n";
import { plainText } from "../../lib/linkify";
import type { Message, ReactionKind } from "../../lib/model";
import { useStore } from "../../lib/store";
import { dayKey, formatTime, minuteKey } from "../../lib/time";
import { Avatar } from "../../ui/Avatar";
import { Icon } from "../../ui/Icon";
import { formatBytes } from "../files/format";
import type { LightboxItem } from "../files/Lightbox";
import { droppedFiles } from "../files/incoming";
import { rejectionText } from "../files/rejections";
import { MAX_UPLOADS_PER_MESSAGE, attachmentsOf } from "../files/types";
import type { Rejection } from "../files/uploads";
import { roomName } from "../rooms/roomName";
import { useMembers } from "../rooms/useMembers";
import { useApp, useSession } from "../shell/context";
import { Composer } from "./Composer";
import { ConfirmDialog } from "./ConfirmDialog";
import { DateSeparator } from "./DateSeparator";
import { EditDialog } from "./EditDialog";
import { MessageList, type ScrollRequest } from "./MessageList";
import { MessageRow } from "./MessageRow";
import { NoticeBanner } from "./NoticeBanner";
import { PendingRow, canRetry } from "./PendingRow";
import { previewOf } from "./ReplyQuote";
import { type TimelineRow, buildRows } from "./rows";
import { SystemRow } from "./SystemRow";
import { buildReadIndex, mentionsUser, unreadCount } from "./timeline";
import { TypingIndicator } from "./TypingIndicator";
import { UnreadMembersDialog } from "./UnreadMembersDialog";
import { useNotice } from "./useNotice";

// The viewer loads on the first click on a picture, not with the app.
const Lightbox = lazy(() => import("../files/Lightbox").then((m) => ({ default: m.Lightbox })));

const hasFiles = (e: DragEvent) => [...e.dataTransfer.types].includes("Files");

export function ChatView({ roomId }: { roomId: number }) {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const { router } = useApp();
  const room = useStore(session.rooms, (s) => s.byId[roomId]);
  const timeline = useStore(session.timelines, (s) => s.rooms[roomId]);
  const outboxItems = useStore(session.outbox, (s) => s.items);
  const people = useStore(session.people, (s) => s.byId);
  const presence = useStore(session.presence, (s) => s.users);
  const typingRoom = useStore(session.typing, (s) => s.rooms[roomId]);
  const uploadItems = useStore(session.uploads, (s) => s.items);
  const armed = useStore(session.uploads, (s) => s.armed[roomId] ?? null);
  const composerEpoch = useStore(session.composerEpoch, (n) => n);
  const [fileError, setFileError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  // The picture on view: by message and attachment, so the viewer follows live state changes.
  const [viewing, setViewing] = useState<{ messageId: number; attachmentId: number } | null>(null);
  const members = useMembers(session.api, roomId, room?.member_count ?? 0);
  const notice = useNotice(session.api, roomId, room?.notice_message_id ?? null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [unsending, setUnsending] = useState<Message | null>(null);
  const [unreadFor, setUnreadFor] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [scrollRequest, setScrollRequest] = useState<ScrollRequest | null>(null);
  const [stickNonce, setStickNonce] = useState(0);
  // The first unread message when the room was opened: the "new messages" line stays there.
  const [firstUnreadSeq, setFirstUnreadSeq] = useState<number | null>(null);

  const memberNames = useMemo(() => new Map(members.map((m) => [m.user_id, m.display_name])), [members]);
  const nameOf = useCallback(
    (id: number) => people[id]?.display_name ?? memberNames.get(id) ?? null,
    [people, memberNames],
  );

  useEffect(() => {
    const r = session.rooms.get(roomId);
    setFirstUnreadSeq(r && r.unread_count > 0 ? r.last_read_seq + 1 : null);
    setReplyTo(null);
    setFileError(null);
    setViewing(null);
    session.openRoom(roomId);
    session.setView({ roomId, atBottom: true });
    return () => session.setView({ roomId: null });
  }, [roomId, session]);

  // Watch the presence of the people in this room (a watch replaces the previous set).
  useEffect(() => {
    if (members.length > 0) session.watchPresence(members.map((m) => m.user_id));
  }, [members, session]);

  useEffect(() => {
    const timer = window.setInterval(() => session.typing.sweep(), 2000);
    return () => window.clearInterval(timer);
  }, [session]);

  const messages = timeline?.messages ?? [];
  useEffect(() => {
    if (timeline?.loaded) session.markRead(roomId);
  }, [timeline?.loaded, messages.length, roomId, session]);

  const pending = useMemo(() => outboxItems.filter((p) => p.room_id === roomId), [outboxItems, roomId]);
  const uploads = useMemo(() => uploadItems.filter((u) => u.roomId === roomId), [uploadItems, roomId]);

  const refusalText = useCallback(
    (rejected: Rejection[]) => {
      const maxSize = formatBytes(session.maxAttachmentBytes(), i18n.language);
      return rejectionText(rejected, t, i18n.language, { maxSize, maxCount: MAX_UPLOADS_PER_MESSAGE });
    },
    [session, t, i18n.language],
  );
  const showRejections = useCallback((rejected: Rejection[]) => setFileError(refusalText(rejected)), [refusalText]);
  const addFiles = useCallback(
    (files: File[]) => showRejections(session.uploads.add(roomId, files)),
    [roomId, session, showRejections],
  );

  // Every picture and video of the loaded history, for the viewer's ←/→.
  const mediaItems = useMemo(() => {
    const list: (LightboxItem & { messageId: number })[] = [];
    if (!viewing) return list;
    for (const m of messages) {
      if (m.deleted_at || m.hidden) continue;
      for (const a of attachmentsOf(m)) {
        if (a.kind !== "image" && a.kind !== "video") continue;
        const sender = m.sender_id !== null ? (nameOf(m.sender_id) ?? t("rooms.unknownPerson")) : t("chat.someone");
        list.push({
          messageId: m.id,
          attachment: a,
          mine: m.sender_id === session.userId,
          caption: t("files.sentAt", { name: sender, time: formatTime(m.created_at, i18n.language) }),
        });
      }
    }
    return list;
  }, [viewing, messages, nameOf, session.userId, t, i18n.language]);
  const viewIndex = viewing
    ? mediaItems.findIndex((i) => i.messageId === viewing.messageId && i.attachment.id === viewing.attachmentId)
    : -1;
  const onOpenMedia = useCallback((m: Message, attachmentId: number) => setViewing({ messageId: m.id, attachmentId }), []);
  const rows = useMemo(
    () =>
      buildRows(messages, pending, {
        myUserId: session.userId,
        firstUnreadSeq,
        dayOf: dayKey,
        minuteOf: minuteKey,
      }),
    [messages, pending, session.userId, firstUnreadSeq],
  );
  const readIndex = useMemo(() => buildReadIndex(timeline?.reads ?? []), [timeline?.reads]);
  const haveReads = (timeline?.reads.length ?? 0) > 0;
  const canModerate = room?.role === "owner" || room?.role === "admin";

  const act = useCallback(async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
    }
  }, []);

  const onReact = useCallback(
    (m: Message, reaction: ReactionKind, remove: boolean) =>
      void act(async () => {
        const updated = remove ? await session.api.unreact(roomId, m.id) : await session.api.react(roomId, m.id, reaction);
        session.timelines.applyMessage(updated);
      }),
    [act, roomId, session],
  );
  const jump = useCallback(
    (seq: number) => {
      const loaded = session.timelines.room(roomId).messages.some((m) => m.seq === seq);
      const go = () => setScrollRequest({ seq, nonce: Date.now() });
      if (loaded) go();
      else void session.timelines.open(roomId, seq).then(go);
    },
    [roomId, session],
  );

  const renderRow = useCallback(
    (row: TimelineRow) => {
      switch (row.type) {
        case "date":
          return <DateSeparator date={row.date} />;
        case "unread":
          return (
            <div className="unread-line" role="separator">
              <span>{t("chat.unreadLine")}</span>
            </div>
          );
        case "system":
          return <SystemRow message={row.message} nameOf={nameOf} />;
        case "pending":
          return (
            <PendingRow
              pending={row.pending}
              onRetry={() => void session.outbox.retry(row.pending.client_msg_id)}
              onDiscard={() => {
                // Its files are gone for good: the caption goes back to the composer to be sent
                // again with the files attached anew (as "@이름" text).
                const p = row.pending;
                if (p.state === "failed" && !canRetry(p) && !session.canReattach(p.client_msg_id) && p.body) {
                  session.restoreDraft(roomId, plainText(p.body, (id) => nameOf(id) ?? t("rooms.unknownPerson"), t("chat.mentionAll")));
                }
                void session.outbox.discard(p.client_msg_id);
              }}
              myUserId={session.userId}
              nameOf={nameOf}
              reply={(() => {
                // Read when the row renders (not a dependency: the quoted message is loaded by then).
                const quoted = row.pending.reply_to_id
                  ? session.timelines.room(roomId).messages.find((m) => m.id === row.pending.reply_to_id)
                  : undefined;
                return quoted ? previewOf(quoted) : null;
              })()}
              onReattach={
                session.canReattach(row.pending.client_msg_id)
                  ? () => {
                      const back = session.reattach(row.pending.client_msg_id);
                      if (!back) return;
                      if (back.refused.length > 0) {
                        // Nothing moved: the message stays, and the text says why.
                        setFileError(`${t("files.reattachRefused")} ${refusalText(back.refused)}`);
                        return;
                      }
                      setFileError(null);
                      // Still a reply (when the original is loaded and no other reply was started
                      // since), and the focus goes where the files went: the row is gone.
                      const original = session.timelines.room(roomId).messages.find((m) => m.id === back.replyToId);
                      if (original) setReplyTo((current) => current ?? original);
                      window.requestAnimationFrame(() => document.querySelector<HTMLElement>(".composer textarea")?.focus());
                    }
                  : undefined
              }
            />
          );
        case "message": {
          const m = row.message;
          const senderName = m.sender_id !== null ? (nameOf(m.sender_id) ?? t("rooms.unknownPerson")) : t("chat.someone");
          return (
            <MessageRow
              message={m}
              mine={row.mine}
              first={row.first}
              last={row.last}
              unread={m.deleted_at ? 0 : haveReads ? unreadCount(readIndex, m.seq, m.sender_id) : m.unread_count}
              myUserId={session.userId}
              senderName={senderName}
              presence={m.sender_id !== null ? (presence[m.sender_id]?.status ?? "offline") : null}
              mentionsMe={mentionsUser(m, session.userId)}
              canModerate={canModerate}
              nameOf={nameOf}
              onReply={setReplyTo}
              onReact={onReact}
              onEdit={setEditing}
              onUnsend={setUnsending}
              onNotice={(msg) => void act(() => session.api.setNotice(roomId, msg.id).then(() => session.rooms.reloadRoom(roomId)))}
              onJump={jump}
              onShowUnread={setUnreadFor}
              onOpenMedia={onOpenMedia}
              onHide={(msg, hidden) =>
                void act(async () => session.timelines.applyMessage(await session.api.setHidden(roomId, msg.id, hidden)))
              }
            />
          );
        }
      }
    },
    [t, nameOf, session, haveReads, readIndex, presence, canModerate, onReact, act, roomId, jump, onOpenMedia, refusalText],
  );

  if (!room) {
    return (
      <section className="panel chat-panel empty-chat">
        <p className="empty">{t("chat.noRoom")}</p>
      </section>
    );
  }

  const name = roomName(room, nameOf, t);
  const typingNames = Object.entries(typingRoom ?? {})
    .filter(([id, until]) => Number(id) !== session.userId && until > Date.now())
    .map(([id]) => nameOf(Number(id)) ?? t("rooms.unknownPerson"));
  // The first unread message lies above what is loaded: offer to jump there.
  const oldestLoaded = messages[0]?.seq ?? null;
  const unreadAbove = firstUnreadSeq !== null && oldestLoaded !== null && oldestLoaded > firstUnreadSeq;

  return (
    <section
      className="panel chat-panel"
      aria-label={name}
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        dragDepth.current += 1;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={(e) => {
        if (!hasFiles(e)) return;
        dragDepth.current = Math.max(0, dragDepth.current - 1);
        if (dragDepth.current === 0) setDragging(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        dragDepth.current = 0;
        setDragging(false);
        const { files, folders } = droppedFiles(e.dataTransfer);
        showRejections([
          ...folders.map((name): Rejection => ({ name, code: "folder" })),
          ...session.uploads.add(roomId, files),
        ]);
      }}
    >
      {dragging ? (
        <div className="drop-zone" aria-hidden="true">
          <Icon name="clip" size={40} />
          <p>{t("files.dropHere")}</p>
        </div>
      ) : null}
      <header className="chat-header">
        <button type="button" className="icon-button back-button" onClick={() => router.navigate({ name: "chats", roomId: null, info: false })} aria-label={t("common.back")}>
          <Icon name="back" />
        </button>
        <Avatar
          name={name}
          seed={room.peer_user_id ?? room.id}
          group={room.kind === "group"}
          presence={room.kind === "direct" && room.peer_user_id !== null ? (presence[room.peer_user_id]?.status ?? "offline") : null}
          size={36}
        />
        <div className="chat-title">
          <h1>{name}</h1>
          <span className="chat-subtitle">{room.kind === "group" ? t("chat.members", { count: room.member_count }) : room.topic ?? ""}</span>
        </div>
        <button
          type="button"
          className="icon-button"
          onClick={() => router.navigate({ name: "chats", roomId, info: false, files: true })}
          data-opens="drawer"
          aria-label={t("drawer.open")}
          title={t("drawer.open")}
        >
          <Icon name="drawer" />
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={() => router.navigate({ name: "chats", roomId, info: true })}
          aria-label={t("roomInfo.title")}
          title={t("roomInfo.title")}
        >
          <Icon name="info" />
        </button>
      </header>
      {notice ? (
        <NoticeBanner
          notice={notice}
          nameOf={nameOf}
          canClear={canModerate}
          onClear={() => void act(() => session.api.clearNotice(roomId).then(() => session.rooms.reloadRoom(roomId)))}
          onJump={jump}
        />
      ) : null}
      {unreadAbove && firstUnreadSeq !== null ? (
        <button type="button" className="first-unread-pill" onClick={() => jump(firstUnreadSeq)}>
          {t("chat.jumpToUnread")}
        </button>
      ) : null}
      {timeline?.error && !timeline.loaded ? (
        <p className="form-error" role="alert">
          {errorText(t, timeline.error)}
        </p>
      ) : null}
      <MessageList
        key={`list-${roomId}`}
        rows={rows}
        hasMoreBefore={timeline?.hasMoreBefore ?? false}
        hasMoreAfter={timeline?.hasMoreAfter ?? false}
        loadingOlder={timeline?.loading === "older"}
        newestSeq={messages[messages.length - 1]?.seq ?? 0}
        countNewerThan={(seq) => messages.filter((m) => m.seq > seq && m.sender_id !== session.userId).length}
        scrollRequest={scrollRequest}
        stickNonce={stickNonce}
        renderRow={renderRow}
        onLoadOlder={() => void session.timelines.loadOlder(roomId)}
        onLoadNewer={() => void session.timelines.loadNewer(roomId)}
        onAtBottom={(atBottom) => session.setView({ atBottom })}
        onJumpToLatest={() => {
          session.timelines.forget(roomId);
          void session.timelines.open(roomId);
        }}
      />
      <TypingIndicator names={typingNames} />
      {error ? (
        <p className="form-error inline" role="alert">
          {errorText(t, error)}
        </p>
      ) : null}
      {fileError ? (
        <div className="form-error inline file-refusal" role="alert">
          <span>{fileError}</span>
          <button type="button" className="icon-button" onClick={() => setFileError(null)} aria-label={t("common.close")} title={t("common.close")}>
            <Icon name="close" size={16} />
          </button>
        </div>
      ) : null}
      <Composer
        key={`composer-${roomId}-${composerEpoch}`}
        roomId={roomId}
        myUserId={session.userId}
        members={members}
        replyTo={replyTo}
        replyName={replyTo?.sender_id != null ? (nameOf(replyTo.sender_id) ?? "") : ""}
        initialDraft={session.drafts.get(roomId)}
        onDraft={(text) => session.drafts.set(roomId, text)}
        onSend={(body, replyToId) => {
          setReplyTo(null);
          setFileError(null);
          setStickNonce((n) => n + 1);
          session.setView({ atBottom: true });
          void session.send(roomId, body, replyToId);
        }}
        onCancelReply={() => setReplyTo(null)}
        onTyping={() => session.sendTyping(roomId)}
        uploads={uploads}
        armed={armed}
        onAddFiles={addFiles}
        onSendFiles={(body, draft, replyToId) => {
          setReplyTo(null);
          setFileError(null);
          setStickNonce((n) => n + 1);
          session.setView({ atBottom: true });
          session.sendFiles(roomId, { body, draft, replyToId });
        }}
        uploadActions={{
          pause: (id) => session.uploads.pause(id),
          resume: (id) => session.uploads.resume(id),
          cancel: (id) => {
            // The refusal message was about the tray as it was; once files are removed it misleads.
            setFileError(null);
            void session.uploads.cancel(id);
          },
          disarm: () => {
            const taken = session.uploads.disarm(roomId);
            if (taken) session.restoreDraft(roomId, taken.draft);
          },
        }}
      />
      {viewIndex >= 0 ? (
        <Suspense fallback={null}>
          <Lightbox
            items={mediaItems}
            index={viewIndex}
            onIndex={(i) => {
              const item = mediaItems[i];
              if (item) setViewing({ messageId: item.messageId, attachmentId: item.attachment.id });
            }}
            onClose={() => setViewing(null)}
          />
        </Suspense>
      ) : null}
      {editing ? (
        <EditDialog
          initial={editing.body ?? ""}
          onClose={() => setEditing(null)}
          onSave={(body) => {
            const m = editing;
            setEditing(null);
            void act(async () => session.timelines.applyMessage(await session.api.edit(roomId, m.id, body)));
          }}
        />
      ) : null}
      {unreadFor ? (
        <UnreadMembersDialog api={session.api} roomId={roomId} messageId={unreadFor.id} nameOf={nameOf} onClose={() => setUnreadFor(null)} />
      ) : null}
      {unsending ? (
        <ConfirmDialog
          title={t("chat.unsendTitle")}
          body={t("chat.unsendBody")}
          confirm={t("chat.unsend")}
          onClose={() => setUnsending(null)}
          onConfirm={() => {
            const m = unsending;
            setUnsending(null);
            void act(async () => session.timelines.applyMessage(await session.api.unsend(roomId, m.id)));
          }}
        />
      ) : null}
    </section>
  );
}
