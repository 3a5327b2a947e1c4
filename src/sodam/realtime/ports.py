"""What the gateway needs from the services, as structural protocols.

``sodam.app`` hands in the real services (``AuthService``, ``RoomService``, ``SyncService``,
``MessageService``, ``ReadService``, ``AccountService``), which match these by shape; unit tests
hand in small fakes. The bus is not imported here either: the composition root passes its
``publish`` function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sodam.domain.accounts import Profile
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.messages import MessageView
from sodam.errors import Unauthenticated
from sodam.services.context import Principal

Publish = Callable[[str, bytes], Awaitable[None]]


class Authenticator(Protocol):
    async def authenticate(self, access_token: str) -> Principal: ...

    async def authenticate_many(
        self, access_tokens: list[str]
    ) -> list[Principal | Unauthenticated | None]:
        """Each token's principal, or why it is refused, in order; None when the database could
        not say (the token itself is fine)."""
        ...


class RoomDirectory(Protocol):
    async def list_member_room_heads(self, user_id: UserId) -> dict[RoomId, int]:
        """The user's rooms, each with its newest event_seq (one query)."""
        ...

    async def room_heads(self, room_ids: set[int]) -> dict[RoomId, int]:
        """The newest event_seq of each existing room among ``room_ids`` (one query)."""
        ...


class EventPageLike(Protocol):
    @property
    def frames(self) -> list[dict[str, Any]]: ...
    @property
    def next_event_seq(self) -> int: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def too_far_behind(self) -> bool: ...


class EventLog(Protocol):
    async def events_since(
        self, principal: Principal, room_id: RoomId, after_event_seq: int, limit: int = ...
    ) -> EventPageLike: ...

    async def events_after(
        self, room_id: RoomId, after_event_seq: int, limit: int = ...
    ) -> EventPageLike: ...


class SendResultLike(Protocol):
    @property
    def message(self) -> MessageView: ...
    @property
    def duplicate(self) -> bool: ...


class Messaging(Protocol):
    async def send_message(
        self,
        principal: Principal,
        room_id: RoomId,
        *,
        client_msg_id: str,
        body: str | None,
        reply_to_id: MessageId | None = None,
        forward_of_id: MessageId | None = None,
        upload_ids: Sequence[str] = (),
    ) -> SendResultLike: ...


class ReadMarker(Protocol):
    async def mark_read(self, principal: Principal, room_id: RoomId, seq: int) -> object: ...


class Profiles(Protocol):
    async def get_profile(self, user_id: UserId) -> Profile: ...

    async def get_profiles(self, user_ids: set[int]) -> dict[UserId, Profile]:
        """Profiles of many users in one query; unknown ids are left out."""
        ...

    async def touch_last_seen(self, user_id: UserId, at: dt.datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class GatewayDeps:
    """Everything the gateway calls, wired by the composition root."""

    auth: Authenticator
    rooms: RoomDirectory
    events: EventLog
    messages: Messaging
    reads: ReadMarker
    profiles: Profiles
    publish: Publish
