"""Sending and changing messages (product.md M2–M7): idempotent, server-sequenced sends; replies,
forwards, mentions; edits with history; unsend for everyone; 가리기; reactions; history paging.

A send is one short transaction: authorise, look for the client_msg_id, take the room's next seq
(the room row lock orders concurrent sends), insert, mark the sender's own message read, commit.
Only then is it acknowledged and published.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sodam.bus.base import Bus
from sodam.config import LimitSettings
from sodam.db import audit as audit_repo
from sodam.db import messages as messages_repo
from sodam.db import reads as reads_repo
from sodam.db import rooms as rooms_repo
from sodam.db.engine import Database
from sodam.domain.clock import Clock
from sodam.domain.events import room_frame
from sodam.domain.ids import MessageId, RoomId
from sodam.domain.messages import (
    CLIENT_MSG_ID_RE,
    REACTIONS,
    Message,
    MessageView,
    normalise_body,
    parse_mentions,
)
from sodam.domain.rooms import Membership, may_mention_all
from sodam.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from sodam.observability.metrics import Metrics
from sodam.services.context import Principal
from sodam.services.roomlog import Outgoing, append_event_txn
from sodam.services.rooms import get_room_for_member_txn, require_moderator
from sodam.services.views import build_views_txn

logger = logging.getLogger(__name__)

MESSAGE_NOT_FOUND = ("message_not_found", "No such message.")


@dataclass(frozen=True, slots=True)
class SendResult:
    message: MessageView
    duplicate: bool


@dataclass(frozen=True, slots=True)
class HistoryPage:
    messages: list[MessageView]
    has_more_before: bool
    has_more_after: bool


class MessageService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        limits: LimitSettings,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._limits = limits
        self._metrics = metrics

    def _clean_body(self, body: str) -> str:
        if len(body) > self._limits.message_max_chars * 2:  # cheap early refusal
            raise self._too_long()
        cleaned = normalise_body(body)
        if len(cleaned) > self._limits.message_max_chars:
            raise self._too_long()
        return cleaned

    def _too_long(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            "message_too_long",
            "The message is too long.",
            {"max_chars": self._limits.message_max_chars},
        )

    async def send_message(
        self,
        principal: Principal,
        room_id: RoomId,
        *,
        client_msg_id: str,
        body: str | None,
        reply_to_id: MessageId | None = None,
        forward_of_id: MessageId | None = None,
    ) -> SendResult:
        """Stores a message once per (room, sender, client_msg_id), however often it is retried;
        a repeat returns the original message and seq with ``duplicate=True``."""
        if not CLIENT_MSG_ID_RE.fullmatch(client_msg_id or ""):
            raise InvalidInput(
                "client_msg_id_invalid", "client_msg_id must be 8-64 characters of [A-Za-z0-9_.:-]."
            )
        text = self._clean_body(body or "")
        if not text and forward_of_id is None:
            raise InvalidInput("message_empty", "The message is empty.")
        for _attempt in range(3):
            try:
                return await self._send_once(
                    principal, room_id, client_msg_id, text, reply_to_id, forward_of_id
                )
            except IntegrityError:
                # A concurrent retry of the same client_msg_id committed first: the next attempt
                # finds it and answers with the original.
                logger.info("concurrent duplicate send; returning the original")
        raise Conflict("send_conflict", "The message could not be stored; retry.")

    async def _send_once(
        self,
        principal: Principal,
        room_id: RoomId,
        client_msg_id: str,
        text: str,
        reply_to_id: MessageId | None,
        forward_of_id: MessageId | None,
    ) -> SendResult:
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()
        async with self._db.transaction() as conn:
            room, membership = await get_room_for_member_txn(conn, room_id, me)
            existing = await messages_repo.select_message_by_client_id(
                conn, room_id, me, client_msg_id
            )
            if existing is not None:
                views = await build_views_txn(
                    conn, room_id, [existing], viewer_visible_from_seq=membership.visible_from_seq
                )
                return SendResult(views[0], duplicate=True)
            if forward_of_id is not None:
                text = await self._forwardable_body_txn(conn, principal, forward_of_id)
            reply_visible = True
            if reply_to_id is not None:
                target = await messages_repo.select_message(conn, room_id, reply_to_id)
                if target is None or target.seq < membership.visible_from_seq:
                    raise NotFound(*MESSAGE_NOT_FOUND)
                reply_visible = target.seq >= await rooms_repo.select_max_visible_from(
                    conn, room_id
                )
            mention_ids, mention_all = parse_mentions(text)
            if mention_all and not may_mention_all(membership, room.member_count):
                raise Forbidden(
                    "mention_all_forbidden", "Only the owner or an admin can mention everyone here."
                )
            mentioned = await rooms_repo.select_members_among(conn, room_id, mention_ids)
            seq, event_seq = await rooms_repo.next_seqs(conn, room_id, message=True, now=now)
            message = await messages_repo.insert_message(
                conn,
                room_id=room_id,
                seq=seq,
                event_seq=event_seq,
                sender_id=me,
                client_msg_id=client_msg_id,
                kind="text",
                body=text,
                meta=None,
                reply_to_id=reply_to_id,
                forwarded_from_id=forward_of_id,
                mentions_all=mention_all,
                now=now,
            )
            await messages_repo.insert_mentions(conn, message, mentioned)
            await reads_repo.advance_last_read(conn, room_id, me, seq, now)
            view = await self._fresh_view_txn(
                conn, message, mentioned, room.member_count, reply_visible
            )
            out.to_room(
                room_id,
                room_frame(
                    room_id, event_seq, {"kind": "message.created", "message": view.to_wire()}
                ),
            )
        if self._metrics is not None:
            self._metrics.messages_sent.inc()
        await out.publish(self._bus)
        return SendResult(view, duplicate=False)

    async def _fresh_view_txn(
        self,
        conn: AsyncConnection,
        message: Message,
        mentioned: Sequence[int],
        member_count: int,
        reply_visible: bool,
    ) -> MessageView:
        reply = None
        if message.reply_to_id is not None:
            views = await build_views_txn(conn, message.room_id, [message])
            reply = views[0].reply_to
            if reply is not None and not reply_visible:
                reply = type(reply)(
                    id=reply.id, seq=reply.seq, sender_id=reply.sender_id, body=None
                )
        # Every other member is behind a message that did not exist a moment ago.
        return MessageView(
            message=message,
            mentions=tuple(mentioned),
            reply_to=reply,
            unread_count=max(0, member_count - 1),
        )

    async def _forwardable_body_txn(
        self, conn: AsyncConnection, principal: Principal, message_id: MessageId
    ) -> str:
        """The text of a message the caller may read (a forward copies it; 전달)."""
        source = await messages_repo.select_message_any_room(conn, message_id)
        if source is None or source.is_unsent or source.hidden_at is not None:
            raise NotFound(*MESSAGE_NOT_FOUND)
        found = await rooms_repo.select_room_and_membership(conn, source.room_id, principal.user.id)
        if found is None or source.seq < found[1].visible_from_seq or source.kind != "text":
            raise NotFound(*MESSAGE_NOT_FOUND)
        return source.body or ""

    async def edit_message(
        self, principal: Principal, room_id: RoomId, message_id: MessageId, body: str
    ) -> MessageView:
        """Edits one's own text message within the edit window; the old text is kept."""
        text = self._clean_body(body)
        if not text:
            raise InvalidInput("message_empty", "The message is empty.")
        now = self._clock.now()
        out = Outgoing()
        async with self._db.transaction() as conn:
            _room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            message = await self._visible_message_txn(conn, room_id, message_id, membership)
            await self._check_own_and_window(
                principal, message, "edit", now, self._limits.edit_window_s
            )
            if message.body == text:
                views = await build_views_txn(conn, room_id, [message])
                return views[0]
            mention_ids, mention_all = parse_mentions(text)
            mentioned = await rooms_repo.select_members_among(conn, room_id, mention_ids)
            await messages_repo.update_message_body(conn, message, text, principal.user.id, now)
            await messages_repo.replace_mentions(
                conn, message, mentioned, mention_all and message.mentions_all
            )
            view = await self._updated_view_txn(
                conn, out, room_id, message_id, "edited", now, principal
            )
        await out.publish(self._bus)
        return view

    async def unsend_message(
        self, principal: Principal, room_id: RoomId, message_id: MessageId
    ) -> MessageView:
        """Unsends one's own message for everyone within the window: an anonymous tombstone."""
        now = self._clock.now()
        out = Outgoing()
        async with self._db.transaction() as conn:
            _room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            message = await self._visible_message_txn(conn, room_id, message_id, membership)
            await self._check_own_and_window(
                principal, message, "unsend", now, self._limits.unsend_window_s
            )
            await messages_repo.update_message_unsent(conn, message_id, principal.user.id, now)
            view = await self._updated_view_txn(
                conn, out, room_id, message_id, "unsent", now, principal
            )
        await out.publish(self._bus)
        return view

    async def set_hidden(
        self, principal: Principal, room_id: RoomId, message_id: MessageId, hidden: bool
    ) -> MessageView:
        """가리기: the owner or an admin hides (or shows again) a message for everyone."""
        now = self._clock.now()
        out = Outgoing()
        async with self._db.transaction() as conn:
            _room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            await self._visible_message_txn(conn, room_id, message_id, membership)
            require_moderator(membership)
            await messages_repo.update_message_hidden(conn, message_id, now if hidden else None)
            await audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=principal.user.id,
                action="message.hide" if hidden else "message.unhide",
                target_type="message",
                target_id=str(message_id),
                data={"room_id": room_id},
            )
            view = await self._updated_view_txn(
                conn, out, room_id, message_id, "hidden" if hidden else "unhidden", now, principal
            )
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
        now = self._clock.now()
        out = Outgoing()
        async with self._db.transaction() as conn:
            _room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            message = await self._visible_message_txn(conn, room_id, message_id, membership)
            if message.is_unsent or message.kind != "text":
                raise InvalidInput("reaction_not_allowed", "This message takes no reactions.")
            if reaction is None:
                changed = await messages_repo.delete_reaction(conn, message_id, principal.user.id)
            else:
                await messages_repo.upsert_reaction(
                    conn, message_id, principal.user.id, reaction, now
                )
                changed = True
            views = await build_views_txn(
                conn, room_id, [message], viewer_visible_from_seq=membership.visible_from_seq
            )
            if changed:
                reactions = views[0].to_wire()["reactions"]
                await append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="reaction.updated",
                    now=now,
                    actor_id=principal.user.id,
                    message_id=message_id,
                    payload={"message_id": message_id},
                    live_event={"message_id": message_id, "reactions": reactions},
                )
        await out.publish(self._bus)
        return views[0]

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
        async with self._db.read() as conn:
            room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            floor = membership.visible_from_seq
            if around is not None:
                half = limit // 2
                older = await messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, before=around + 1, limit=half + 1
                )
                newer = await messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, after=around, limit=limit - half
                )
                msgs = (older[1:] if len(older) > half else older) + newer
            elif after is not None:
                msgs = await messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, after=after, limit=limit
                )
            else:
                msgs = await messages_repo.select_history(
                    conn, room_id, visible_from_seq=floor, before=before, limit=limit
                )
            # Seqs are gap-free, so what lies beyond a page is known from the bounds alone.
            first_visible = max(floor, 1)
            more_before = bool(msgs) and msgs[0].seq > first_visible
            more_after = bool(msgs) and msgs[-1].seq < room.last_seq
            views = await build_views_txn(conn, room_id, msgs, viewer_visible_from_seq=floor)
        return HistoryPage(views, more_before, more_after)

    async def get_message(
        self, principal: Principal, room_id: RoomId, message_id: MessageId
    ) -> MessageView:
        async with self._db.read() as conn:
            _room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            message = await self._visible_message_txn(conn, room_id, message_id, membership)
            views = await build_views_txn(
                conn, room_id, [message], viewer_visible_from_seq=membership.visible_from_seq
            )
        return views[0]

    async def list_edits(
        self, principal: Principal, room_id: RoomId, message_id: MessageId
    ) -> list[tuple[str, dt.datetime]]:
        """Earlier versions of a message, oldest first (not for unsent or hidden ones)."""
        async with self._db.read() as conn:
            _room, membership = await get_room_for_member_txn(conn, room_id, principal.user.id)
            message = await self._visible_message_txn(conn, room_id, message_id, membership)
            if message.is_unsent or message.hidden_at is not None:
                return []
            return await messages_repo.select_edits(conn, message_id)

    # --- helpers -----------------------------------------------------------------------------

    async def _visible_message_txn(
        self, conn: AsyncConnection, room_id: RoomId, message_id: MessageId, membership: Membership
    ) -> Message:
        message = await messages_repo.select_message(conn, room_id, message_id)
        if message is None or message.seq < membership.visible_from_seq:
            raise NotFound(*MESSAGE_NOT_FOUND)
        return message

    async def _check_own_and_window(
        self,
        principal: Principal,
        message: Message,
        action: Literal["edit", "unsend"],
        now: dt.datetime,
        window_s: int,
    ) -> None:
        if message.is_unsent:
            raise Conflict("message_unsent", "The message was unsent.")
        if message.sender_id != principal.user.id or message.kind != "text":
            await self._audit_refusal(principal, message, action)
            raise Forbidden("not_message_owner", "You can only change your own messages.")
        if now - message.created_at > dt.timedelta(seconds=window_s):
            raise Forbidden(
                f"{action}_window_passed",
                "It is too late to change this message.",
                {"window_s": window_s},
            )

    async def _audit_refusal(self, principal: Principal, message: Message, action: str) -> None:
        # The refused use case's transaction rolls back, so the audit row gets its own.
        async with self._db.transaction() as conn:
            await audit_repo.insert_audit_log(
                conn,
                at=self._clock.now(),
                actor_id=principal.user.id,
                action=f"message.{action}_refused",
                target_type="message",
                target_id=str(message.id),
                data={"room_id": message.room_id},
            )

    async def _updated_view_txn(
        self,
        conn: AsyncConnection,
        out: Outgoing,
        room_id: RoomId,
        message_id: MessageId,
        change: str,
        now: dt.datetime,
        principal: Principal,
    ) -> MessageView:
        message = await messages_repo.select_message(conn, room_id, message_id)
        assert message is not None  # noqa: S101 -- changed in this transaction
        views = await build_views_txn(conn, room_id, [message])
        await append_event_txn(
            conn,
            out,
            room_id=room_id,
            kind="message.updated",
            now=now,
            actor_id=principal.user.id,
            message_id=message_id,
            payload={"message_id": message_id, "change": change},
            live_event={"change": change, "message": views[0].to_wire()},
        )
        return views[0]


__all__ = ["AppError", "HistoryPage", "MessageService", "SendResult"]
