"""The node's fan-out: which local sockets may receive which room's events, in what order.

Authorisation of delivery (reliability.md I5) lives here and nowhere else: a node keeps, for each
room, the local users who are members (loaded from the database when a user's first socket
authenticates, then changed by membership events), and a room event is written only to the
sockets of those users. Membership events are applied in event order: a ``member.left`` for U is
delivered, then U is unsubscribed, before any later event of that room is looked at; a
``member.joined`` for U subscribes U before it is delivered.

Room events pass through the room's ``RoomSequencer``: duplicates are dropped and a gap is filled
from the database before anything after it is delivered (``events_after``). Each bus payload is
decoded to text once and that one string is queued on every receiving socket.

A room's position starts at its head in the database when it is first tracked (the heads come
with the user's room list at authentication), so even the first events after that are checked
for gaps. A gap is only visible when a later event arrives; a lost *last* event (a Redis restart
or FLUSHALL right after a send) is found by ``check_heads``, which the gateway runs every few
seconds: one batched read of the heads of the rooms with local members, then a fill of every
room that is still behind after a short grace (the bus is usually just a little slower).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from sodam.domain.ids import RoomId, UserId
from sodam.errors import AppError
from sodam.realtime.connection import Connection
from sodam.realtime.frames import CloseCode, encode
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.ordering import RoomSequencer
from sodam.realtime.ports import EventLog, RoomDirectory

logger = logging.getLogger(__name__)

Item = tuple[str, dict[str, Any]]  # (the frame's text, its "event" object)
HEADS_BATCH = 500  # rooms per heads query


@dataclass(slots=True)
class LocalUser:
    rooms: set[RoomId]
    conns: list[Connection] = field(default_factory=list)


@dataclass(slots=True)
class RoomState:
    members: set[UserId]
    order: RoomSequencer[Item]
    filler: asyncio.Task[None] | None = None


class Hub:
    def __init__(self, events: EventLog, rooms: RoomDirectory, limits: GatewayLimits) -> None:
        self._events = events
        self._directory = rooms
        self._limits = limits
        self._tasks: set[asyncio.Task[None]] = set()
        self.users: dict[UserId, LocalUser] = {}
        self.rooms: dict[RoomId, RoomState] = {}
        self.gaps_filled = 0
        self.heads_behind = 0  # rooms found behind the database by check_heads

    # --- connections -------------------------------------------------------------------------

    def connection_count(self, user_id: UserId) -> int:
        local = self.users.get(user_id)
        return len(local.conns) if local else 0

    def connections(self) -> Iterator[Connection]:
        for local in self.users.values():
            yield from local.conns

    def user_connections(self, user_id: UserId) -> list[Connection]:
        local = self.users.get(user_id)
        return list(local.conns) if local else []

    def register(self, conn: Connection, heads: dict[RoomId, int]) -> None:
        """Adds an authenticated socket. A user's first socket brings their rooms with each
        room's head (newest event_seq); later sockets share the list the hub has kept current."""
        local = self.users.get(conn.user_id)
        if local is None:
            local = LocalUser(rooms=set())
            self.users[conn.user_id] = local
            for room_id, head in heads.items():
                self._subscribe(conn.user_id, local, room_id, head)
        local.conns.append(conn)

    def unregister(self, conn: Connection) -> None:
        local = self.users.get(conn.user_id)
        if local is None or conn not in local.conns:
            return
        local.conns.remove(conn)
        if local.conns:
            return
        del self.users[conn.user_id]
        for room_id in local.rooms:
            self._drop_member(conn.user_id, room_id)

    def rooms_of(self, user_id: UserId) -> set[RoomId]:
        local = self.users.get(user_id)
        return set(local.rooms) if local else set()

    def is_member(self, user_id: UserId, room_id: RoomId) -> bool:
        local = self.users.get(user_id)
        return local is not None and room_id in local.rooms

    def room_last(self, room_id: RoomId) -> int | None:
        state = self.rooms.get(room_id)
        return state.order.last if state else None

    def set_room_base(self, room_id: RoomId, last: int) -> None:
        """A socket went live at ``last`` in a room the node had no position for yet."""
        state = self.rooms.get(room_id)
        if state is not None and state.order.last is None:
            state.order.last = last
            state.order.target = max(state.order.target, last)

    # --- bus input ---------------------------------------------------------------------------

    def on_room_frame(self, room_id: RoomId, text: str, frame: dict[str, Any]) -> None:
        """A frame published on ``room:<id>``: a durable event (with event_seq) or ephemeral."""
        state = self.rooms.get(room_id)
        if frame.get("type") == "event":
            seq = frame.get("event_seq")
            event = frame.get("event")
            if not isinstance(seq, int) or not isinstance(event, dict):
                return
            if state is None:
                state = self._maybe_track_on_join(room_id, seq, event)
                if state is None:
                    return
            for ready_seq, item in state.order.offer(seq, (text, event)):
                self._apply(room_id, ready_seq, item)
            if state.order.has_gap:
                self._start_fill(room_id, state)
            return
        if state is None:
            return
        skip = frame.get("user_id") if frame.get("type") == "typing" else None
        for user_id in state.members:
            if user_id == skip:
                continue
            for conn in self.users[user_id].conns:
                conn.send_ephemeral(text)

    def on_user_frame(self, user_id: UserId, text: str, frame: dict[str, Any]) -> None:
        """A frame published on ``user:<id>``, forwarded to that user's sockets on this node."""
        local = self.users.get(user_id)
        if local is None:
            return
        kind = frame.get("type")
        room_id = frame.get("room_id")
        if kind == "room.added" and isinstance(room_id, int) and room_id not in local.rooms:
            # Normally the in-order member.joined event has subscribed the user already; if it
            # was lost, check the database before subscribing (a late room.added from another
            # node must not resubscribe someone who has left since).
            self._spawn(self._verify_join(user_id, RoomId(room_id)))
        elif kind == "room.removed" and isinstance(room_id, int):
            self._unsubscribe(user_id, RoomId(room_id))
        elif kind == "sessions.revoked":
            self._revoke(local, frame)
            return
        for conn in list(local.conns):
            conn.send(text, event=True)

    # --- lost events ---------------------------------------------------------------------------

    async def check_heads(self, grace_s: float = 0.5) -> int:
        """Compares every tracked room's position with its head in the database (batched) and
        fills the rooms still behind after ``grace_s``. Returns how many were behind."""
        rooms = list(self.rooms)
        behind: list[tuple[RoomId, RoomState, int]] = []
        for start in range(0, len(rooms), HEADS_BATCH):
            chunk = {int(room_id) for room_id in rooms[start : start + HEADS_BATCH]}
            for room_id, head in (await self._directory.room_heads(chunk)).items():
                state = self.rooms.get(room_id)
                if state is None:
                    continue
                if state.order.last is None:
                    self.set_room_base(room_id, head)
                elif head > state.order.last:
                    behind.append((room_id, state, head))
        if not behind:
            return 0
        await asyncio.sleep(grace_s)  # events in flight on the bus usually arrive meanwhile
        count = 0
        for room_id, state, head in behind:
            last = state.order.last
            if self.rooms.get(room_id) is not state or last is None or last >= head:
                continue
            count += 1
            state.order.target = max(state.order.target, head)
            self._start_fill(room_id, state)
        self.heads_behind += count
        return count

    # --- membership --------------------------------------------------------------------------

    def _subscribe(
        self, user_id: UserId, local: LocalUser, room_id: RoomId, head: int | None = None
    ) -> None:
        if room_id in local.rooms:
            return
        local.rooms.add(room_id)
        state = self.rooms.get(room_id)
        if state is None:
            state = RoomState(members=set(), order=RoomSequencer(last=head, max_stash=256))
            self.rooms[room_id] = state
        elif head is not None:
            self.set_room_base(room_id, head)
        state.members.add(user_id)

    async def _verify_join(self, user_id: UserId, room_id: RoomId) -> None:
        try:
            heads = await self._directory.list_member_room_heads(user_id)
        except AppError:
            logger.warning("could not verify a room.added; the client resumes later")
            return
        local = self.users.get(user_id)
        if local is not None and room_id in heads:
            self._subscribe(user_id, local, room_id, heads[room_id])

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _unsubscribe(self, user_id: UserId, room_id: RoomId) -> None:
        local = self.users.get(user_id)
        if local is None or room_id not in local.rooms:
            return
        local.rooms.discard(room_id)
        for conn in local.conns:
            conn.room_removed(room_id)
        self._drop_member(user_id, room_id)

    def _drop_member(self, user_id: UserId, room_id: RoomId) -> None:
        state = self.rooms.get(room_id)
        if state is None:
            return
        state.members.discard(user_id)
        if not state.members:
            del self.rooms[room_id]
            if state.filler is not None:
                state.filler.cancel()

    def _maybe_track_on_join(
        self, room_id: RoomId, seq: int, event: dict[str, Any]
    ) -> RoomState | None:
        """A join of a local user into a room no local user was in: track it from this event."""
        if event.get("kind") != "member.joined":
            return None
        user_id = event.get("user_id")
        if not isinstance(user_id, int) or UserId(user_id) not in self.users:
            return None
        state = RoomState(members=set(), order=RoomSequencer(last=seq - 1, max_stash=256))
        self.rooms[room_id] = state
        return state

    def _revoke(self, local: LocalUser, frame: dict[str, Any]) -> None:
        sessions = set(frame.get("session_ids") or ())
        everything = bool(frame.get("all_sessions"))
        reason = str(frame.get("reason") or "revoked")
        for conn in list(local.conns):
            if everything or conn.session_id in sessions:
                conn.close(CloseCode.SESSION_ENDED, reason)

    # --- delivery ----------------------------------------------------------------------------

    def _apply(self, room_id: RoomId, seq: int, item: Item) -> None:
        text, event = item
        kind = event.get("kind")
        subject = event.get("user_id")
        if kind == "member.joined" and isinstance(subject, int):
            local = self.users.get(UserId(subject))
            if local is not None:
                self._subscribe(UserId(subject), local, room_id)
        state = self.rooms.get(room_id)
        if state is None:
            return
        for user_id in state.members:
            for conn in self.users[user_id].conns:
                conn.deliver_event(room_id, seq, text)
        if kind == "member.left" and isinstance(subject, int):
            self._unsubscribe(UserId(subject), room_id)

    def _start_fill(self, room_id: RoomId, state: RoomState) -> None:
        if state.filler is None or state.filler.done():
            state.order.filling = True
            state.filler = asyncio.create_task(self._fill(room_id, state), name="ws-gap-fill")

    async def _fill(self, room_id: RoomId, state: RoomState) -> None:
        """Reads the missing events from the database until the room is contiguous again."""
        order = state.order
        rereads = 0
        try:
            while self.rooms.get(room_id) is state and order.has_gap:
                assert order.last is not None  # noqa: S101 -- a gap needs a base
                if order.gap_size > self._limits.gap_fill_max_events:
                    self._resync_room(room_id, state)
                    continue
                arrived = set(order.stash)  # these were committed before the read below began
                page = await self._events.events_after(
                    room_id, order.last, self._limits.resume_page_size
                )
                if self.rooms.get(room_id) is not state:
                    return
                if page.too_far_behind:
                    self._resync_room(room_id, state)
                    continue
                self.gaps_filled += 1
                items = [(f["event_seq"], (encode(f), f["event"])) for f in page.frames]
                for seq, item in order.fill(items):
                    self._apply(room_id, seq, item)
                if (not page.has_more or not items) and order.has_gap:
                    # The database has nothing more. An event that arrived during the read may
                    # follow a commit the read's snapshot could not see yet (events are published
                    # only after their commit): read again. One that was stashed before the read
                    # began proves its predecessors had committed: what the read did not return
                    # does not exist, so deliver what is stashed rather than wait.
                    if order.stash and min(order.stash) not in arrived and rereads < 3:
                        rereads += 1
                        continue
                    for seq, item in order.skip_to_stash():
                        self._apply(room_id, seq, item)
        except asyncio.CancelledError:
            raise
        except (AppError, OSError, KeyError, TypeError):
            logger.warning("gap fill failed; clients of the room are told to resync")
            self._resync_room(room_id, state)
        finally:
            order.filling = False

    def _resync_room(self, room_id: RoomId, state: RoomState) -> None:
        """Too far behind to replay: every local socket of the room refetches it over REST."""
        text = encode({"type": "resync_required", "room_id": room_id})
        for user_id in list(state.members):
            for conn in self.users[user_id].conns:
                conn.send(text, event=True)
        for seq, item in state.order.skip_to_stash():
            self._apply(room_id, seq, item)

    def pending_tasks(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        tasks = [s.filler for s in self.rooms.values() if s.filler is not None]
        tasks.extend(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def decode_payload(payload: bytes) -> tuple[str, dict[str, Any]] | None:
    """A bus payload as (text to forward, parsed frame), or None if it is not a JSON object."""
    try:
        text = payload.decode("utf-8")
        frame = orjson.loads(payload)
    except (UnicodeDecodeError, orjson.JSONDecodeError):
        return None
    return (text, frame) if isinstance(frame, dict) else None
