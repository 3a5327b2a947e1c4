import { memo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import type { Message, PresenceStatus, ReactionKind } from "../../lib/model";
import { formatTime } from "../../lib/time";
import { Avatar } from "../../ui/Avatar";
import { MessageAttachments } from "../files/MessageAttachments";
import { filesPreview } from "../files/preview";
import { attachmentsOf } from "../files/types";
import { useLongPress, usePressOutside } from "./longPress";
import { MessageActions } from "./MessageActions";
import { MessageText } from "./MessageText";
import { ReactionChips } from "./ReactionChips";
import { ReplyQuote } from "./ReplyQuote";

export interface MessageRowProps {
  message: Message;
  mine: boolean;
  first: boolean;
  last: boolean;
  unread: number;
  myUserId: number;
  senderName: string;
  presence: PresenceStatus | null;
  mentionsMe: boolean;
  canModerate: boolean;
  nameOf(userId: number): string | null;
  onReply(message: Message): void;
  onReact(message: Message, reaction: ReactionKind, remove: boolean): void;
  onEdit(message: Message): void;
  onUnsend(message: Message): void;
  onNotice(message: Message): void;
  onHide(message: Message, hidden: boolean): void;
  onJump(seq: number): void;
  onShowUnread(message: Message): void;
  onOpenMedia(message: Message, attachmentId: number): void;
}

/** Height the toolbar needs above a bubble (two rows on a phone with the picker open). */
const ACTIONS_ROOM_PX = 96;

/** One KakaoTalk bubble: mine on the right, others on the left with avatar and name. */
export const MessageRow = memo(function MessageRow(props: MessageRowProps) {
  const { t, i18n } = useTranslation();
  const { message: m, mine, first, last } = props;
  // On a touch screen a long press opens the actions; a tap elsewhere or the focus leaving closes them.
  const bubble = useRef<HTMLDivElement>(null);
  const [actionsOpen, setActionsOpen] = useState(false);
  // The toolbar sits above the bubble, or below it when the list's top edge would cut it off.
  const [actionsBelow, setActionsBelow] = useState(false);
  const place = () => {
    const el = bubble.current;
    const list = el?.closest(".message-list");
    if (el && list) setActionsBelow(el.getBoundingClientRect().top - list.getBoundingClientRect().top < ACTIONS_ROOM_PX);
  };
  const press = useLongPress(() => {
    place();
    setActionsOpen(true);
    bubble.current?.focus({ preventScroll: true });
  });
  usePressOutside(bubble, actionsOpen, () => setActionsOpen(false));
  const tombstone = m.deleted_at !== null;
  const hidden = !tombstone && m.hidden;
  const showAuthor = !mine && first && !tombstone;
  const myReaction = m.reactions.find((r) => r.user_ids.includes(props.myUserId))?.reaction ?? null;
  const files = tombstone || hidden ? [] : attachmentsOf(m);
  const label = m.body || (files.length > 0 ? (filesPreview(m, t) ?? "") : "");
  const meta = (
    <span className="bubble-meta">
      {props.unread > 0 ? (
        <button
          type="button"
          className="unread-count"
          aria-label={t("chat.unreadBy", { count: props.unread })}
          title={t("chat.unreadMembersTitle")}
          onClick={() => props.onShowUnread(m)}
        >
          {props.unread}
        </button>
      ) : null}
      {last ? <time dateTime={m.created_at}>{formatTime(m.created_at, i18n.language)}</time> : null}
    </span>
  );
  return (
    <div
      className={`msg-row ${mine ? "mine" : "theirs"}${first ? " first" : ""}${last ? " last" : ""}`}
      data-seq={m.seq}
      data-message-id={m.id}
    >
      {!mine ? (
        <div className="msg-avatar">
          {showAuthor ? <Avatar name={props.senderName} seed={m.sender_id ?? 0} presence={props.presence} size={38} /> : null}
        </div>
      ) : null}
      <div className="msg-column">
        {showAuthor ? <div className="msg-author">{props.senderName}</div> : null}
        <div className="msg-line">
          {mine ? meta : null}
          <div
            className={`bubble${tombstone || hidden ? " bubble-muted" : ""}${props.mentionsMe ? " bubble-mention" : ""}${files.length > 0 ? " bubble-files" : ""}${actionsOpen ? " actions-open" : ""}${actionsBelow ? " actions-below" : ""}`}
            ref={bubble}
            {...press}
            onMouseEnter={place}
            onFocus={place}
            onBlur={(e) => {
              if (!bubble.current?.contains(e.relatedTarget as Node | null)) setActionsOpen(false);
            }}
            tabIndex={0}
            role="article"
            aria-label={tombstone ? t("chat.unsent") : `${props.senderName}: ${label}`}
          >
            {tombstone ? (
              <span className="tombstone">{t("chat.unsent")}</span>
            ) : hidden ? (
              <span className="tombstone">
                {t("chat.hidden")}
                {props.canModerate ? (
                  <button type="button" className="link-button" onClick={() => props.onHide(m, false)}>
                    {t("chat.unhide")}
                  </button>
                ) : null}
              </span>
            ) : (
              <>
                {m.forwarded ? <span className="forwarded">{t("chat.forwarded")}</span> : null}
                {m.reply_to ? <ReplyQuote reply={m.reply_to} nameOf={props.nameOf} onJump={props.onJump} /> : null}
                {files.length > 0 ? (
                  <MessageAttachments attachments={files} mine={mine} onOpen={(id) => props.onOpenMedia(m, id)} />
                ) : null}
                {m.body || files.length === 0 ? (
                  <span className="bubble-text">
                    <MessageText body={m.body ?? ""} myUserId={props.myUserId} nameOf={props.nameOf} />
                  </span>
                ) : null}
                {m.edited_at ? <span className="edited">{t("chat.edited")}</span> : null}
              </>
            )}
            {!tombstone && !hidden ? (
              <MessageActions
                mine={mine}
                canModerate={props.canModerate}
                canEdit={files.length === 0}
                onReply={() => props.onReply(m)}
                onReact={(r) => props.onReact(m, r, r === myReaction)}
                onCopy={
                  m.body
                    ? // As shown: mentions as "@이름", not the server's <@123> tokens.
                      () => void navigator.clipboard?.writeText(plainText(m.body ?? "", (id) => props.nameOf(id) ?? t("rooms.unknownPerson"), t("chat.mentionAll")))
                    : undefined
                }
                onEdit={() => props.onEdit(m)}
                onUnsend={() => props.onUnsend(m)}
                onNotice={() => props.onNotice(m)}
                onHide={() => props.onHide(m, true)}
                onDone={() => setActionsOpen(false)}
              />
            ) : null}
          </div>
          {!mine ? meta : null}
        </div>
        {!tombstone ? (
          <ReactionChips
            reactions={m.reactions}
            myUserId={props.myUserId}
            nameOf={props.nameOf}
            onToggle={(r, isMine) => props.onReact(m, r, isMine)}
          />
        ) : null}
      </div>
    </div>
  );
});
