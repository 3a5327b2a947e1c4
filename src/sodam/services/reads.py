"""Read state (product.md R2, R3): each member's last-read seq, KakaoTalk's unread counts.

The position only moves forward, except through ``mark_unread``. Every change is announced to the
reader's other devices (``read.self`` on the user topic, clearing their badges) and to the room's
members as an ephemeral ``read`` frame that updates the counts beside messages. In large rooms
those frames are coalesced (``ReadFanout``): one frame per room per window, however many read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from sodam.bus.base import Bus, room_topic
from sodam.db import messages as messages_repo
from sodam.db import reads as reads_repo
from sodam.db.engine import Database
from sodam.domain.clock import Clock
from sodam.domain.events import encode_frame
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.unread import room_unread
from sodam.errors import NotFound
from sodam.services.context import Principal
from sodam.services.roomlog import Outgoing
from sodam.services.rooms import get_room_for_member_txn

logger = logging.getLogger(__name__)

COALESCE_MIN_MEMBERS = 30  # rooms this large get read frames coalesced
COALESCE_WINDOW_S = 0.25


@dataclass(frozen=True, slots=True)
class ReadState:
    room_id: RoomId
    last_read_seq: int
    unread_count: int


class ReadFanout:
    """Publishes ``read`` frames: at once in small rooms, batched per window in large ones."""

    def __init__(
        self,
        bus: Bus,
        *,
        window_s: float = COALESCE_WINDOW_S,
        min_members: int = COALESCE_MIN_MEMBERS,
    ) -> None:
        self._bus = bus
        self._window = window_s
        self._min_members = min_members
        self._pending: dict[RoomId, dict[int, int]] = {}
        self._timers: dict[RoomId, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def announce(
        self, room_id: RoomId, member_count: int, user_id: UserId, last_read_seq: int
    ) -> None:
        if member_count < self._min_members:
            await self._publish(room_id, {user_id: last_read_seq})
            return
        pending = self._pending.setdefault(room_id, {})
        pending[user_id] = max(last_read_seq, pending.get(user_id, 0))
        if room_id not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[room_id] = loop.call_later(self._window, self._flush_soon, room_id)

    def _flush_soon(self, room_id: RoomId) -> None:
        task = asyncio.get_running_loop().create_task(self.flush(room_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self, room_id: RoomId) -> None:
        timer = self._timers.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        reads = self._pending.pop(room_id, None)
        if reads:
            await self._publish(room_id, reads)

    async def close(self) -> None:
        for room_id in list(self._pending):
            await self.flush(room_id)
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _publish(self, room_id: RoomId, reads: dict[int, int]) -> None:
        frame = {
            "type": "read",
            "room_id": room_id,
            "reads": [{"user_id": u, "last_read_seq": s} for u, s in sorted(reads.items())],
        }
        await self._bus.publish(room_topic(room_id), encode_frame(frame))


class ReadService:
    def __init__(self, db: Database, clock: Clock, bus: Bus, fanout: ReadFanout) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._fanout = fanout

    async def mark_read(self, principal: Principal, room_id: RoomId, seq: int) -> ReadState:
        """Moves the caller's read position forward to ``seq`` (a future seq is clamped to the
        newest message; an older one changes nothing)."""
        now = self._clock.now()
        me = principal.user.id

        def read_txn(conn: sa.Connection) -> tuple[ReadState, int, bool]:
            room, membership = get_room_for_member_txn(conn, room_id, me)
            target = max(0, min(seq, room.last_seq))
            moved = target > membership.last_read_seq and reads_repo.advance_last_read(
                conn, room_id, me, target, now
            )
            position = target if moved else membership.last_read_seq
            state = ReadState(room_id, position, room_unread(room.last_seq, position))
            return state, room.member_count, moved

        state, member_count, moved = await self._db.write(read_txn)
        if moved:
            await self._announce(principal, member_count, state)
        return state

    async def mark_unread(self, principal: Principal, room_id: RoomId, seq: int) -> ReadState:
        """ "Mark as unread" from message ``seq`` on: the one way a position moves back. It never
        goes before the caller joined (older messages never counted them)."""
        now = self._clock.now()
        me = principal.user.id

        def unread_txn(conn: sa.Connection) -> tuple[ReadState, int]:
            room, membership = get_room_for_member_txn(conn, room_id, me)
            position = max(membership.joined_seq, min(seq - 1, room.last_seq))
            reads_repo.set_last_read(conn, room_id, me, position, now)
            return ReadState(room_id, position, room_unread(room.last_seq, position)), (
                room.member_count
            )

        state, member_count = await self._db.write(unread_txn)
        await self._announce(principal, member_count, state)
        return state

    async def read_positions(self, principal: Principal, room_id: RoomId) -> list[tuple[int, int]]:
        """(user_id, last_read_seq) of every member: what clients count unread numbers from."""

        def positions_txn(conn: sa.Connection) -> list[tuple[int, int]]:
            get_room_for_member_txn(conn, room_id, principal.user.id)
            return reads_repo.select_read_positions(conn, room_id)

        return await self._db.read(positions_txn)

    async def unread_members(
        self,
        principal: Principal,
        room_id: RoomId,
        message_id: MessageId,
        *,
        after_user_id: int = 0,
        limit: int = 100,
    ) -> list[int]:
        """Who has not read a message yet (paged by user id)."""

        def unread_members_txn(conn: sa.Connection) -> list[int]:
            _room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            message = messages_repo.select_message(conn, room_id, message_id)
            if message is None or message.seq < membership.visible_from_seq:
                raise NotFound("message_not_found", "No such message.")
            return reads_repo.select_unread_members(
                conn,
                room_id,
                message.seq,
                message.sender_id,
                after_user_id=after_user_id,
                limit=limit,
            )

        return await self._db.read(unread_members_txn)

    async def _announce(self, principal: Principal, member_count: int, state: ReadState) -> None:
        out = Outgoing()
        out.to_user(
            principal.user.id,
            {
                "type": "read.self",
                "room_id": state.room_id,
                "last_read_seq": state.last_read_seq,
                "unread_count": state.unread_count,
            },
        )
        await out.publish(self._bus)
        await self._fanout.announce(
            state.room_id, member_count, principal.user.id, state.last_read_seq
        )
