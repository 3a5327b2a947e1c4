"""Sending and changing messages (product.md M2–M7): idempotent, server-sequenced sends; replies,
forwards, mentions; edits with history; unsend for everyone; 가리기; reactions; history paging.

A send is one short transaction: authorise, look for the client_msg_id, take the room's next seq
(the room row lock orders concurrent sends), insert, mark the sender's own message read, commit.
Only then is it acknowledged and published.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sodam.bus.base import Bus
from sodam.config import LimitSettings
from sodam.db import audit as audit_repo
from sodam.db import files as files_repo
from sodam.db import messages as messages_repo
from sodam.db import reads as reads_repo
from sodam.db import rooms as rooms_repo
from sodam.db.engine import Database
from sodam.domain.clock import Clock
from sodam.domain.events import room_frame
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.messages import (
    CLIENT_MSG_ID_RE,
    REACTIONS,
    Message,
    MessageView,
    normalise_body,
    parse_mentions,
)
from sodam.domain.rooms import Membership, may_mention_all
from sodam.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from sodam.observability.failpoints import Failpoints
from sodam.observability.metrics import Metrics
from sodam.services.attachments import (
    DELETE_BLOBS_JOB,
    attach_uploads_txn,
    check_upload_ids,
    record_message_change_txn,
)
from sodam.services.context import Principal
from sodam.services.jobs import enqueue_txn
from sodam.services.refusals import write_auditing_refusals
from sodam.services.roomlog import Outgoing, append_event_txn
from sodam.services.rooms import get_room_for_member_txn, require_moderator
from sodam.services.sync import restricted_change
from sodam.services.views import build_views_txn

logger = logging.getLogger(__name__)

MESSAGE_NOT_FOUND = ("message_not_found", "No such message.")


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """How sent files are handled: the blob store's backend name, whether a virus scanner is
    configured, files.download_requires_clean, and what wakes the job runner after a commit."""

    backend: str = "local"
    scanner_enabled: bool = False
    requires_clean: bool = True
    kick_jobs: Callable[[], None] = lambda: None


@dataclass(frozen=True, slots=True)
class SendResult:
    message: MessageView
    duplicate: bool


@dataclass(frozen=True, slots=True)
class HistoryPage:
    messages: list[MessageView]
    has_more_before: bool
    has_more_after: bool


def visible_message_txn(
    conn: sa.Connection, room_id: RoomId, message_id: MessageId, membership: Membership
) -> Message:
    """A message of the room the member may see, or NotFound."""
    message = messages_repo.select_message(conn, room_id, message_id)
    if message is None or message.seq < membership.visible_from_seq:
        raise NotFound(*MESSAGE_NOT_FOUND)
    return message


def _before_someones_history_txn(conn: sa.Connection, message: Message) -> bool:
    """Whether some member may not see this message (it predates their visible history): live
    frames about it then carry no content (docs/protocol.md, "restricted")."""
    return message.seq < rooms_repo.select_max_visible_from(conn, message.room_id)


def _view_txn(
    conn: sa.Connection, message: Message, membership: Membership, requires_clean: bool
) -> MessageView:
    return build_views_txn(
        conn,
        message.room_id,
        [message],
        viewer_visible_from_seq=membership.visible_from_seq,
        requires_clean=requires_clean,
    )[0]


class MessageService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        limits: LimitSettings,
        metrics: Metrics | None = None,
        failpoints: Failpoints | None = None,
        files: FilePolicy | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._limits = limits
        self._metrics = metrics
        self._failpoints = failpoints or Failpoints()
        self._files = files or FilePolicy()

    # --- sending -----------------------------------------------------------------------------

    async def send_message(
        self,
        principal: Principal,
        room_id: RoomId,
        *,
        client_msg_id: str,
        body: str | None,
        reply_to_id: MessageId | None = None,
        forward_of_id: MessageId | None = None,
        upload_ids: Sequence[str] = (),
    ) -> SendResult:
        """Stores a message once per (room, sender, client_msg_id), however often it is retried;
        a repeat returns the original message and seq with ``duplicate=True``. With
        ``upload_ids`` the finished uploads become the message's attachments and ``body`` is
        an optional caption."""
        if not CLIENT_MSG_ID_RE.fullmatch(client_msg_id or ""):
            raise InvalidInput(
                "client_msg_id_invalid", "client_msg_id must be 8-64 characters of [A-Za-z0-9_.:-]."
            )
        text = self._clean_body(body or "")
        upload_ids = check_upload_ids(upload_ids)
        if upload_ids and forward_of_id is not None:
            raise InvalidInput("forward_with_files", "A forward cannot carry new files.")
        if not text and forward_of_id is None and not upload_ids:
            raise InvalidInput("message_empty", "The message is empty.")
        for _attempt in range(3):
            out = Outgoing()
            try:
                result = await self._db.write(
                    partial(
                        self._send_txn,
                        out=out,
                        me=principal.user.id,
                        room_id=room_id,
                        client_msg_id=client_msg_id,
                        text=text,
                        reply_to_id=reply_to_id,
                        forward_of_id=forward_of_id,
                        upload_ids=upload_ids,
                    )
                )
            except IntegrityError:
                # A concurrent retry of the same client_msg_id committed first: the next attempt
                # finds it and answers with the original.
                logger.info("concurrent duplicate send; answering with the original")
                continue
            self._failpoints.check("send.after_commit", client_msg_id)
            if not result.duplicate:
                if upload_ids:
                    self._files.kick_jobs()
                if self._metrics is not None:
                    self._metrics.messages_sent.inc()
                if not self._failpoints.check("send.before_fanout", client_msg_id):
                    await out.publish(self._bus)
            return result
        raise Conflict("send_conflict", "The message could not be stored; retry.")

    def _send_txn(
        self,
        conn: sa.Connection,
        out: Outgoing,
        me: UserId,
        room_id: RoomId,
        client_msg_id: str,
        text: str,
        reply_to_id: MessageId | None,
        forward_of_id: MessageId | None,
        upload_ids: Sequence[str] = (),
    ) -> SendResult:
        now = self._clock.now()
        room, membership = get_room_for_member_txn(conn, room_id, me)
        existing = messages_repo.select_message_by_client_id(conn, room_id, me, client_msg_id)
        if existing is not None:
            return SendResult(
                _view_txn(conn, existing, membership, self._files.requires_clean), duplicate=True
            )
        if forward_of_id is not None:
            text = self._forwardable_body_txn(conn, me, forward_of_id)
        reply_visible = True
        if reply_to_id is not None:
            target = messages_repo.select_message(conn, room_id, reply_to_id)
            if target is None or target.seq < membership.visible_from_seq:
                raise NotFound(*MESSAGE_NOT_FOUND)
            # The quote goes to every member: show its text only if all of them may read it.
            reply_visible = target.seq >= rooms_repo.select_max_visible_from(conn, room_id)
        # A forward (전달) copies text written for another room: its mentions notify no one here.
        mention_ids, mention_all = parse_mentions(text) if forward_of_id is None else (set(), False)
        if mention_all and not may_mention_all(membership, room.member_count):
            raise Forbidden(
                "mention_all_forbidden", "Only the owner or an admin can mention everyone here."
            )
        mentioned = rooms_repo.select_members_among(conn, room_id, mention_ids)
        seq, event_seq = rooms_repo.next_seqs(conn, room_id, message=True, now=now)
        message = messages_repo.insert_message(
            conn,
            room_id=room_id,
            seq=seq,
            event_seq=event_seq,
            sender_id=me,
            client_msg_id=client_msg_id,
            kind="file" if upload_ids else "text",
            body=text,
            meta=None,
            reply_to_id=reply_to_id,
            forwarded_from_id=forward_of_id,
            mentions_all=mention_all,
            now=now,
        )
        messages_repo.insert_mentions(conn, message, mentioned)
        if upload_ids:
            attach_uploads_txn(
                conn,
                me=me,
                room_id=room_id,
                message_id=message.id,
                upload_ids=upload_ids,
                backend=self._files.backend,
                scanner_enabled=self._files.scanner_enabled,
                now=now,
            )
        reads_repo.advance_last_read(conn, room_id, me, seq, now)
        self._failpoints.check("send.before_commit", client_msg_id)
        view = self._fresh_view_txn(conn, message, mentioned, room.member_count, reply_visible)
        if upload_ids:
            files = files_repo.select_attachments_for_messages(conn, [message.id])
            view = replace(
                view,
                attachments=files.get(message.id, ()),
                requires_clean=self._files.requires_clean,
            )
        out.to_room(
            room_id,
            room_frame(room_id, event_seq, {"kind": "message.created", "message": view.to_wire()}),
        )
        return SendResult(view, duplicate=False)

    @staticmethod
    def _fresh_view_txn(
        conn: sa.Connection,
        message: Message,
        mentioned: Sequence[int],
        member_count: int,
        reply_visible: bool,
    ) -> MessageView:
        reply = None
        if message.reply_to_id is not None:
            reply = build_views_txn(conn, message.room_id, [message])[0].reply_to
            if reply is not None and not reply_visible:
                reply = replace(reply, body=None)
        # Every other member is behind a message that did not exist a moment ago.
        return MessageView(
            message=message,
            mentions=tuple(mentioned),
            reply_to=reply,
            unread_count=max(0, member_count - 1),
        )

    @staticmethod
    def _forwardable_body_txn(conn: sa.Connection, me: UserId, message_id: MessageId) -> str:
        """The text of a message the caller may read (a forward copies it; 전달)."""
        source = messages_repo.select_message_any_room(conn, message_id)
        if source is None or source.is_unsent or source.hidden_at is not None:
            raise NotFound(*MESSAGE_NOT_FOUND)
        found = rooms_repo.select_room_and_membership(conn, source.room_id, me)
        if found is None or source.seq < found[1].visible_from_seq or source.kind != "text":
            raise NotFound(*MESSAGE_NOT_FOUND)
        return source.body or ""

    # --- changing ----------------------------------------------------------------------------

    async def edit_message(
        self, principal: Principal, room_id: RoomId, message_id: MessageId, body: str
    ) -> MessageView:
        """Edits one's own text message within the edit window; the old text is kept."""
        text = self._clean_body(body)
        if not text:
            raise InvalidInput("message_empty", "The message is empty.")
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()

        def edit_txn(conn: sa.Connection) -> MessageView:
            _room, membership = get_room_for_member_txn(conn, room_id, me)
            message = visible_message_txn(conn, room_id, message_id, membership)
            self._check_own_and_window(message, me, "edit", now, self._limits.edit_window_s)
            if message.body == text:
                return _view_txn(conn, message, membership, self._files.requires_clean)
            mention_ids, mention_all = parse_mentions(text)
            mentioned = rooms_repo.select_members_among(conn, room_id, mention_ids)
            messages_repo.update_message_body(conn, message, text, me, now)
            messages_repo.replace_mentions(
                conn, message, mentioned, mention_all and message.mentions_all
            )
            return self._updated_txn(conn, out, message, membership, "edited", me, now)

        view = await self._refusals_audited(principal, message_id, edit_txn, "edit")
        await out.publish(self._bus)
        return view

    async def unsend_message(
        self, principal: Principal, room_id: RoomId, message_id: MessageId
    ) -> MessageView:
        """Unsends one's own message for everyone within the window: an anonymous tombstone."""
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()

        def unsend_txn(conn: sa.Connection) -> MessageView:
            room, membership = get_room_for_member_txn(conn, room_id, me)
            message = visible_message_txn(conn, room_id, message_id, membership)
            self._check_own_and_window(message, me, "unsend", now, self._limits.unsend_window_s)
            messages_repo.update_message_unsent(conn, message_id, me, now)
            gone = files_repo.mark_message_attachments_deleted(conn, message_id, now)
            if gone:
                # Blobs go after the commit, by a job: a rollback must not lose files.
                keys = [
                    k
                    for a in gone
                    for k in (a.storage_key, a.thumb_small_key, a.thumb_large_key)
                    if k
                ]
                enqueue_txn(conn, kind=DELETE_BLOBS_JOB, payload={"keys": keys}, now=now)
            view = self._updated_txn(conn, out, message, membership, "unsent", me, now)
            if messages_repo.delete_pin(conn, room_id, message_id):
                append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="pins.updated",
                    now=now,
                    actor_id=me,
                    message_id=message_id,
                    payload={"message_id": message_id, "pinned": False},
                )
            if room.notice_message_id == message_id:
                rooms_repo.update_room_fields(conn, room_id, {"notice_message_id": None})
                append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="room.updated",
                    now=now,
                    actor_id=me,
                    payload={"changes": {"notice_message_id": None}},
                )
            return view

        view = await self._refusals_audited(principal, message_id, unsend_txn, "unsend")
        await out.publish(self._bus)
        return view

    async def set_hidden(
        self, principal: Principal, room_id: RoomId, message_id: MessageId, hidden: bool
    ) -> MessageView:
        """가리기: the owner or an admin hides (or shows again) a message for everyone."""
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()

        def hide_txn(conn: sa.Connection) -> MessageView:
            _room, membership = get_room_for_member_txn(conn, room_id, me)
            message = visible_message_txn(conn, room_id, message_id, membership)
            require_moderator(membership)
            messages_repo.update_message_hidden(conn, message_id, now if hidden else None)
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=me,
                action="message.hide" if hidden else "message.unhide",
                target_type="message",
                target_id=str(message_id),
                data={"room_id": room_id},
            )
            change = "hidden" if hidden else "unhidden"
            return self._updated_txn(conn, out, message, membership, change, me, now)

        view = await self._refusals_audited(principal, message_id, hide_txn, "hide")
        await out.publish(self._bus)
        return view

    async def react(
        self, principal: Principal, room_id: RoomId, message_id: MessageId, reaction: str | None
    ) -> MessageView:
        """Sets (or with None removes) the caller's one reaction on a message (공감)."""
        if reaction is not None and reaction not in REACTIONS:
            raise InvalidInput(
                "reaction_invalid", "Unknown reaction.", {"allowed": list(REACTIONS)}
            )
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()

        def react_txn(conn: sa.Connection) -> MessageView:
            _room, membership = get_room_for_member_txn(conn, room_id, me)
            message = visible_message_txn(conn, room_id, message_id, membership)
            if message.is_unsent or message.kind != "text":
                raise InvalidInput("reaction_not_allowed", "This message takes no reactions.")
            if reaction is None:
                changed = messages_repo.delete_reaction(conn, message_id, me)
            else:
                messages_repo.upsert_reaction(conn, message_id, me, reaction, now)
                changed = True
            view = _view_txn(conn, message, membership, self._files.requires_clean)
            if changed:
                append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="reaction.updated",
                    now=now,
                    actor_id=me,
                    message_id=message_id,
                    payload={"message_id": message_id},
                    live_event=restricted_change("reaction.updated", {"message_id": message_id})
                    if _before_someones_history_txn(conn, message)
                    else {"message_id": message_id, "reactions": view.to_wire()["reactions"]},
                )
            return view

        view = await self._db.write(react_txn)
        await out.publish(self._bus)
        return view

    # --- reading -----------------------------------------------------------------------------

    async def history(
        self,
        principal: Principal,
        room_id: RoomId,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
        limit: int = 50,
    ) -> HistoryPage:
        """A page of messages in ascending seq with unread counts (R2)."""
        limit = max(1, min(limit, self._limits.page_size_max))

        def history_txn(conn: sa.Connection) -> HistoryPage:
            room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            floor = membership.visible_from_seq
            if around is not None:
                # The older half ends with the message asked for, so a jump always shows it.
                half = max(1, limit // 2)
                older = messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, before=around + 1, limit=half
                )
                newer = (
                    messages_repo.select_history(
                        conn, room_id, visible_from_seq=floor, after=around, limit=limit - half
                    )
                    if limit > half
                    else []
                )
                msgs = older + newer
            elif after is not None:
                msgs = messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, after=after, limit=limit
                )
            else:
                msgs = messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, before=before, limit=limit
                )
            # Seqs are gap-free, so what lies beyond a page is known from its bounds alone.
            more_before = bool(msgs) and msgs[0].seq > max(floor, 1)
            more_after = bool(msgs) and msgs[-1].seq < room.last_seq
            views = build_views_txn(
                conn,
                room_id,
                msgs,
                viewer_visible_from_seq=floor,
                requires_clean=self._files.requires_clean,
            )
            return HistoryPage(views, more_before, more_after)

        return await self._db.read(history_txn)

    async def get_message(
        self, principal: Principal, room_id: RoomId, message_id: MessageId
    ) -> MessageView:
        def get_txn(conn: sa.Connection) -> MessageView:
            _room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            return _view_txn(
                conn,
                visible_message_txn(conn, room_id, message_id, membership),
                membership,
                self._files.requires_clean,
            )

        return await self._db.read(get_txn)

    async def list_edits(
        self, principal: Principal, room_id: RoomId, message_id: MessageId
    ) -> list[tuple[str, dt.datetime]]:
        """Earlier versions of a message, oldest first (none for unsent or hidden ones)."""

        def edits_txn(conn: sa.Connection) -> list[tuple[str, dt.datetime]]:
            _room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            message = visible_message_txn(conn, room_id, message_id, membership)
            if message.is_unsent or message.hidden_at is not None:
                return []
            return messages_repo.select_edits(conn, message_id)

        return await self._db.read(edits_txn)

    # --- helpers -----------------------------------------------------------------------------

    def _clean_body(self, body: str) -> str:
        limit = self._limits.message_max_chars
        if len(body) > limit * 2:  # refuse the obviously oversized before any work
            raise self._too_long()
        cleaned = normalise_body(body)
        if len(cleaned) > limit:
            raise self._too_long()
        return cleaned

    def _too_long(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            "message_too_long",
            "The message is too long.",
            {"max_chars": self._limits.message_max_chars},
        )

    @staticmethod
    def _check_own_and_window(
        message: Message,
        me: UserId,
        action: Literal["edit", "unsend"],
        now: dt.datetime,
        window_s: int,
    ) -> None:
        if message.is_unsent:
            raise Conflict("message_unsent", "The message was unsent.")
        # Text can be edited and unsent; a file message (its caption included) only unsent.
        kinds = ("text",) if action == "edit" else ("text", "file")
        if message.sender_id != me or message.kind not in kinds:
            raise Forbidden(
                "not_message_owner", "You can only change your own messages.", {"action": action}
            )
        if now - message.created_at > dt.timedelta(seconds=window_s):
            raise Forbidden(
                f"{action}_window_passed",
                "It is too late to change this message.",
                {"window_s": window_s},
            )

    async def _refusals_audited(
        self,
        principal: Principal,
        message_id: MessageId,
        txn: Callable[[sa.Connection], MessageView],
        action: str,
    ) -> MessageView:
        return await write_auditing_refusals(
            self._db,
            self._clock,
            principal,
            txn,
            action=f"message.{action}",
            target_type="message",
            target_id=str(message_id),
        )

    def _updated_txn(
        self,
        conn: sa.Connection,
        out: Outgoing,
        message: Message,
        membership: Membership,
        change: str,
        actor: UserId,
        now: dt.datetime,
    ) -> MessageView:
        record_message_change_txn(
            conn,
            out,
            room_id=message.room_id,
            message_id=message.id,
            change=change,
            actor=actor,
            now=now,
            requires_clean=self._files.requires_clean,
        )
        current = messages_repo.select_message(conn, message.room_id, message.id)
        assert current is not None  # noqa: S101 -- changed in this transaction
        return _view_txn(conn, current, membership, self._files.requires_clean)
