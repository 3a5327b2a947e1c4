"""Catching up on a room by its event seq (resume; ADR 0001).

Every durable change of a room has a gap-free ``event_seq``: new messages carry theirs in the
messages row, everything else is a room_events row. "Everything after cursor C" is therefore two
indexed range scans merged by event_seq, rendered with the *current* state of each message so a
replay never shows text that was since unsent or hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sodam.db import messages as messages_repo
from sodam.db import rooms as rooms_repo
from sodam.db.engine import Database
from sodam.domain.events import room_frame
from sodam.domain.ids import MessageId, RoomId
from sodam.domain.messages import Message, MessageView
from sodam.errors import NotFound
from sodam.services.context import Principal
from sodam.services.rooms import get_room_for_member_txn
from sodam.services.views import build_views_txn

MAX_RESUME_EVENTS = 2000  # further behind than this: refetch over REST instead of replaying
PAGE_MAX = 500


@dataclass(frozen=True, slots=True)
class EventPage:
    frames: list[dict[str, Any]]
    next_event_seq: int  # the cursor to ask with next
    has_more: bool
    too_far_behind: bool


class SyncService:
    def __init__(self, db: Database, *, requires_clean: bool = True) -> None:
        self._db = db
        self._requires_clean = requires_clean  # files.download_requires_clean

    async def events_since(
        self, principal: Principal, room_id: RoomId, after_event_seq: int, limit: int = 200
    ) -> EventPage:
        """The caller's missed events of a room, in order, one page at a time."""

        def since_txn(conn: sa.Connection) -> EventPage:
            room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            cursor = max(after_event_seq, membership.replay_floor)
            if room.last_event_seq - cursor > MAX_RESUME_EVENTS:
                return EventPage([], cursor, False, True)
            return self._page_txn(
                conn, room_id, room.last_event_seq, cursor, limit, membership.visible_from_seq
            )

        return await self._db.read(since_txn)

    async def events_after(
        self, room_id: RoomId, after_event_seq: int, limit: int = 200
    ) -> EventPage:
        """A node-level replay (the gateway filling a gap in what the bus delivered). Quotes
        are rendered for the most restricted member, since the frames go to every member."""

        def after_txn(conn: sa.Connection) -> EventPage:
            room = rooms_repo.select_room(conn, room_id)
            if room is None:
                raise NotFound("room_not_found", "No such room.")
            if room.last_event_seq - after_event_seq > MAX_RESUME_EVENTS:
                return EventPage([], after_event_seq, False, True)
            strictest = rooms_repo.select_max_visible_from(conn, room_id)
            return self._page_txn(
                conn, room_id, room.last_event_seq, after_event_seq, limit, strictest
            )

        return await self._db.read(after_txn)

    def _page_txn(
        self,
        conn: sa.Connection,
        room_id: RoomId,
        last_event_seq: int,
        cursor: int,
        limit: int,
        visible_from: int,
    ) -> EventPage:
        limit = max(1, min(limit, PAGE_MAX))
        msgs, events = messages_repo.select_events_after(conn, room_id, cursor, limit)
        merged: list[tuple[int, Message | Any]] = sorted(
            [(m.event_seq, m) for m in msgs] + [(e.event_seq, e) for e in events],
            key=lambda pair: pair[0],
        )[:limit]
        referenced = [
            e.message_id
            for _, e in merged
            if not isinstance(e, Message)
            and e.message_id is not None
            and e.kind in ("message.updated", "reaction.updated")
        ]
        current = messages_repo.select_messages_by_id(conn, referenced)
        wanted: dict[MessageId, Message] = {m.id: m for _, m in merged if isinstance(m, Message)}
        wanted.update(current)
        views = {
            v.message.id: v
            for v in build_views_txn(
                conn,
                room_id,
                list(wanted.values()),
                viewer_visible_from_seq=visible_from,
                requires_clean=self._requires_clean,
            )
        }
        frames = [_frame(room_id, seq, item, views, visible_from) for seq, item in merged]
        next_cursor = merged[-1][0] if merged else cursor
        return EventPage(frames, next_cursor, next_cursor < last_event_seq, False)


def _frame(
    room_id: RoomId,
    event_seq: int,
    item: Any,
    views: dict[MessageId, MessageView],
    visible_from: int,
) -> dict[str, Any]:
    if isinstance(item, Message):
        return room_frame(
            room_id, event_seq, {"kind": "message.created", "message": views[item.id].to_wire()}
        )
    if item.kind in ("message.updated", "reaction.updated"):
        view = views.get(item.message_id)
        if view is None or view.message.seq < visible_from:
            # A change to a message before the reader's visible history: say that something
            # changed, never what (the reader cannot fetch that message anyway).
            return room_frame(room_id, event_seq, restricted_change(item.kind, item.payload))
        wire = view.to_wire()
        if item.kind == "message.updated":
            return room_frame(
                room_id,
                event_seq,
                {
                    "kind": item.kind,
                    "change": item.payload.get("change"),
                    "message": wire,
                },
            )
        return room_frame(
            room_id,
            event_seq,
            {
                "kind": item.kind,
                "message_id": item.message_id,
                "reactions": wire["reactions"],
            },
        )
    return room_frame(room_id, event_seq, {"kind": item.kind, **item.payload})


def restricted_change(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The content-free form of a message.updated / reaction.updated event."""
    event: dict[str, Any] = {
        "kind": kind,
        "message_id": payload.get("message_id"),
        "restricted": True,
    }
    if kind == "message.updated":
        event["change"] = payload.get("change")
    return event
