"""Typed events published on the bus after commit.

Each event serialises once (``encode``) however many receivers it has. Realtime turns them into
WebSocket frames; see docs/protocol.md for the wire shapes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from sodam.domain.ids import SessionId, UserId


@dataclass(frozen=True, slots=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}

    def encode(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class SessionsRevoked(Event):
    """Sessions ended by logout, revocation or deactivation: their sockets must close at once."""

    type: ClassVar[str] = "sessions.revoked"
    user_id: UserId
    session_ids: tuple[SessionId, ...]
    all_sessions: bool
    reason: str


# --- the per-room event log (ADR 0001) -------------------------------------------------------

ROOM_EVENT_KINDS = (
    "message.created",  # carried by the messages row itself (messages.event_seq)
    "message.updated",  # edited | unsent | hidden | unhidden: rendered from the current message
    "reaction.updated",  # rendered from the message's current reactions
    "room.updated",  # name, topic, avatar, history visibility, notice
    "member.joined",
    "member.left",  # left (quietly or not) or kicked
    "member.role_changed",
    "pins.updated",
)


@dataclass(frozen=True, slots=True)
class StoredRoomEvent:
    """A row of room_events: a durable change other than a new message."""

    room_id: int
    event_seq: int
    kind: str
    actor_id: int | None
    message_id: int | None
    subject_user_id: int | None
    payload: dict[str, Any]
    created_at: Any


def room_frame(room_id: int, event_seq: int, event: dict[str, Any]) -> dict[str, Any]:
    """The WebSocket/bus frame of a durable room event (docs/protocol.md)."""
    return {"type": "event", "room_id": room_id, "event_seq": event_seq, "event": event}


def encode_frame(frame: dict[str, Any]) -> bytes:
    """Serialise a frame once; the same bytes go to every receiver."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode()
