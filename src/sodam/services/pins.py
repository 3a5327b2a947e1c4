"""The room notice (공지) and pinned messages (product.md M7).

In group rooms the owner and admins set them; in 1:1 rooms and 나와의 채팅 either member may.
"""

from __future__ import annotations

import sqlalchemy as sa

from sodam.bus.base import Bus
from sodam.db import messages as messages_repo
from sodam.db import rooms as rooms_repo
from sodam.db.engine import Database
from sodam.domain.clock import Clock
from sodam.domain.ids import MessageId, RoomId
from sodam.domain.messages import MessageView
from sodam.domain.rooms import Membership, Room
from sodam.errors import InvalidInput, NotFound
from sodam.services.context import Principal
from sodam.services.refusals import write_auditing_refusals
from sodam.services.roomlog import Outgoing, append_event_txn
from sodam.services.rooms import get_room_for_member_txn, require_moderator
from sodam.services.views import build_views_txn

MAX_PINS = 50


def _require_pin_rights(room: Room, membership: Membership) -> None:
    if room.kind == "group":
        require_moderator(membership)


class PinService:
    def __init__(
        self, db: Database, clock: Clock, bus: Bus, *, requires_clean: bool = True
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._requires_clean = requires_clean  # files.download_requires_clean

    async def set_notice(
        self, principal: Principal, room_id: RoomId, message_id: MessageId | None
    ) -> None:
        """Makes a message the room's notice (None clears it)."""
        now = self._clock.now()
        out = Outgoing()

        def notice_txn(conn: sa.Connection) -> None:
            room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            _require_pin_rights(room, membership)
            if message_id is not None:
                message = messages_repo.select_message(conn, room_id, message_id)
                if message is None or message.seq < membership.visible_from_seq:
                    raise NotFound("message_not_found", "No such message.")
                if message.is_unsent or message.kind != "text":
                    raise InvalidInput("notice_not_allowed", "This message cannot be a notice.")
            if room.notice_message_id == message_id:
                return
            rooms_repo.update_room_fields(conn, room_id, {"notice_message_id": message_id})
            append_event_txn(
                conn,
                out,
                room_id=room_id,
                kind="room.updated",
                now=now,
                actor_id=principal.user.id,
                message_id=message_id,
                payload={"changes": {"notice_message_id": message_id}},
            )

        await write_auditing_refusals(
            self._db,
            self._clock,
            principal,
            notice_txn,
            action="room.notice",
            target_type="room",
            target_id=str(room_id),
        )
        await out.publish(self._bus)

    async def get_notice(self, principal: Principal, room_id: RoomId) -> MessageView | None:
        def notice_txn(conn: sa.Connection) -> MessageView | None:
            room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            if room.notice_message_id is None:
                return None
            message = messages_repo.select_message(conn, room_id, room.notice_message_id)
            if message is None or message.is_unsent or message.seq < membership.visible_from_seq:
                return None
            return build_views_txn(
                conn,
                room_id,
                [message],
                viewer_visible_from_seq=membership.visible_from_seq,
                requires_clean=self._requires_clean,
            )[0]

        return await self._db.read(notice_txn)

    async def pin(
        self, principal: Principal, room_id: RoomId, message_id: MessageId, pinned: bool
    ) -> None:
        """Pins (or unpins) a message of the room."""
        now = self._clock.now()
        out = Outgoing()

        def pin_txn(conn: sa.Connection) -> None:
            room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            _require_pin_rights(room, membership)
            message = messages_repo.select_message(conn, room_id, message_id)
            if message is None or message.seq < membership.visible_from_seq:
                raise NotFound("message_not_found", "No such message.")
            if pinned:
                if message.is_unsent or message.kind != "text":
                    raise InvalidInput("pin_not_allowed", "This message cannot be pinned.")
                if len(messages_repo.select_pinned_ids(conn, room_id)) >= MAX_PINS:
                    raise InvalidInput(
                        "too_many_pins", "Too many pinned messages.", {"max_pins": MAX_PINS}
                    )
                changed = messages_repo.insert_pin(
                    conn, room_id, message_id, principal.user.id, now
                )
            else:
                changed = messages_repo.delete_pin(conn, room_id, message_id)
            if changed:
                append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="pins.updated",
                    now=now,
                    actor_id=principal.user.id,
                    message_id=message_id,
                    payload={"message_id": message_id, "pinned": pinned},
                )

        await write_auditing_refusals(
            self._db,
            self._clock,
            principal,
            pin_txn,
            action="message.pin",
            target_type="message",
            target_id=str(message_id),
        )
        await out.publish(self._bus)

    async def list_pins(self, principal: Principal, room_id: RoomId) -> list[MessageView]:
        """Pinned messages, most recently pinned first (unsent ones drop out)."""

        def pins_txn(conn: sa.Connection) -> list[MessageView]:
            _room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            ids = messages_repo.select_pinned_ids(conn, room_id)
            by_id = messages_repo.select_messages_by_id(conn, ids)
            visible = [
                by_id[i]
                for i in ids
                if i in by_id
                and not by_id[i].is_unsent
                and by_id[i].seq >= membership.visible_from_seq
            ]
            return build_views_txn(
                conn,
                room_id,
                visible,
                viewer_visible_from_seq=membership.visible_from_seq,
                requires_clean=self._requires_clean,
            )

        return await self._db.read(pins_txn)
