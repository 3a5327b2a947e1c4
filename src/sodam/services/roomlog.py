"""Appending to a room's event log inside a use case's transaction, and publishing after commit.

Every durable change of a room takes the room's next ``event_seq`` in the same transaction that
makes the change (ADR 0001). Frames are collected during the transaction and published on the bus
only after it commits: a client never hears of a change that could still roll back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from sodam.bus.base import Bus, room_topic, user_topic
from sodam.db import messages as messages_repo
from sodam.db import rooms as rooms_repo
from sodam.domain.events import encode_frame, room_frame
from sodam.domain.ids import MessageId, RoomId, UserId


@dataclass
class Outgoing:
    """Frames to publish once the transaction has committed."""

    room: list[tuple[RoomId, dict[str, Any]]] = field(default_factory=list)
    user: list[tuple[UserId, dict[str, Any]]] = field(default_factory=list)

    def to_room(self, room_id: RoomId, frame: dict[str, Any]) -> None:
        self.room.append((room_id, frame))

    def to_user(self, user_id: UserId, frame: dict[str, Any]) -> None:
        self.user.append((user_id, frame))

    async def publish(self, bus: Bus) -> None:
        for room_id, frame in self.room:
            await bus.publish(room_topic(room_id), encode_frame(frame))
        for user_id, frame in self.user:
            await bus.publish(user_topic(user_id), encode_frame(frame))


def append_event_txn(
    conn: sa.Connection,
    out: Outgoing,
    *,
    room_id: RoomId,
    kind: str,
    payload: dict[str, Any],
    now: dt.datetime,
    actor_id: UserId | None = None,
    message_id: MessageId | None = None,
    subject_user_id: UserId | None = None,
    live_event: dict[str, Any] | None = None,
) -> int:
    """Stores one room event and queues its frame; returns its event_seq.

    ``payload`` is what is stored (and replayed); ``live_event`` (default: the payload) is what
    the live frame carries, e.g. with the current message view already rendered.
    """
    _, event_seq = rooms_repo.next_seqs(conn, room_id, message=False, now=now)
    messages_repo.insert_room_event(
        conn,
        room_id=room_id,
        event_seq=event_seq,
        kind=kind,
        actor_id=actor_id,
        message_id=message_id,
        subject_user_id=subject_user_id,
        payload=payload,
        now=now,
    )
    out.to_room(room_id, room_frame(room_id, event_seq, {"kind": kind, **(live_event or payload)}))
    return event_seq
