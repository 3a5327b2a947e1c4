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
