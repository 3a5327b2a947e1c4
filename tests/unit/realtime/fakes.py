"""Fakes for the gateway's unit tests: a socket that records what it is sent, an event log kept
in memory, and connections built on them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sodam.domain.accounts import User
from sodam.domain.events import room_frame
from sodam.domain.ids import RoomId, SessionId, UserId
from sodam.errors import NotFound
from sodam.realtime.connection import Connection
from sodam.realtime.limits import GatewayLimits
from sodam.services.context import Principal

JSON = dict[str, Any]


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.scope: dict[str, Any] = {}  # no server send kept: frames go through send_text

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)


def principal(user_id: int, session: str = "s") -> Principal:
    user = User(
        id=UserId(user_id),
        username=f"u{user_id}",
        display_name=f"u{user_id}",
        is_admin=False,
        is_bot=False,
        deactivated_at=None,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    return Principal(user=user, session_id=SessionId(f"{session}{user_id}"))


def connection(
    user_id: int,
    limits: GatewayLimits | None = None,
    *,
    session: str = "s",
    closed: list[Connection] | None = None,
) -> Connection:
    sink = closed if closed is not None else []
    return Connection(
        FakeSocket(),  # type: ignore[arg-type]  # duck-typed: send_text and close only
        principal(user_id, session),
        "token",
        limits or GatewayLimits(),
        now=0.0,
        on_close=sink.append,
    )


async def queued(conn: Connection) -> list[JSON]:
    """Takes everything queued on the connection, decoded."""
    out = []
    while len(conn.queue):
        out.append(json.loads(await conn.queue.get()))
    return out


def event(room_id: int, seq: int, kind: str = "message.created", **fields: Any) -> JSON:
    return room_frame(room_id, seq, {"kind": kind, **fields})


def payload(frame: JSON) -> tuple[str, JSON]:
    text = json.dumps(frame, separators=(",", ":"))
    return text, json.loads(text)


@dataclass
class Page:
    frames: list[JSON]
    next_event_seq: int
    has_more: bool
    too_far_behind: bool = False


@dataclass
class FakeEventLog:
    """Room events in memory; ``members`` decides who may read what (NotFound otherwise)."""

    events: dict[int, list[JSON]] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)
    too_far: int = 10_000
    calls: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, room_id: int, count: int, kind: str = "message.created") -> list[JSON]:
        log = self.events.setdefault(room_id, [])
        added = [event(room_id, len(log) + i + 1, kind, n=len(log) + i + 1) for i in range(count)]
        log.extend(added)
        return added

    def head(self, room_id: int) -> int:
        return len(self.events.get(room_id, []))

    def _page(self, room_id: int, after: int, limit: int) -> Page:
        head = self.head(room_id)
        if head - after > self.too_far:
            return Page([], after, False, True)
        frames = [f for f in self.events.get(room_id, []) if f["event_seq"] > after][:limit]
        last = frames[-1]["event_seq"] if frames else after
        return Page(frames, last, last < head)

    async def events_since(
        self, principal: Principal, room_id: RoomId, after_event_seq: int, limit: int = 200
    ) -> Page:
        self.calls.append(("since", room_id, after_event_seq))
        if principal.user.id not in self.members.get(room_id, set()):
            raise NotFound("room_not_found", "No such room.")
        return self._page(room_id, after_event_seq, limit)

    async def events_after(self, room_id: RoomId, after_event_seq: int, limit: int = 200) -> Page:
        self.calls.append(("after", room_id, after_event_seq))
        return self._page(room_id, after_event_seq, limit)


@dataclass
class FakeDirectory:
    """Who is in which room; each room's head is the head of ``log`` (0 without one)."""

    rooms: dict[int, list[RoomId]] = field(default_factory=dict)
    log: FakeEventLog | None = None
    head_queries: list[set[int]] = field(default_factory=list)

    def head(self, room_id: int) -> int:
        return self.log.head(room_id) if self.log is not None else 0

    async def list_member_room_heads(self, user_id: UserId) -> dict[RoomId, int]:
        return {room_id: self.head(room_id) for room_id in self.rooms.get(user_id, [])}

    async def room_heads(self, room_ids: set[int]) -> dict[RoomId, int]:
        self.head_queries.append(set(room_ids))
        return {RoomId(room_id): self.head(room_id) for room_id in room_ids}
