"""What a use case needs to know about its caller."""

from __future__ import annotations

from dataclasses import dataclass

from sodam.domain.accounts import User
from sodam.domain.ids import SessionId


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request or a WebSocket connection."""

    user: User
    session_id: SessionId

    @property
    def user_id(self) -> int:
        return self.user.id


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from (for sessions, rate limits and audit)."""

    ip_address: str
    user_agent: str | None = None
    device_name: str | None = None
