"""Rooms and memberships as values, and the rules about them (roles, direct-room keys)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sodam.domain.ids import MessageId, RoomId, UserId

RoomKind = Literal["direct", "self", "group"]
Role = Literal["owner", "admin", "member"]
HistoryVisibility = Literal["all", "joined"]

ROLE_RANK: dict[str, int] = {"member": 0, "admin": 1, "owner": 2}
GROUP_MAX_MEMBERS = 5000
MENTION_ALL_FREE_MAX_MEMBERS = 50  # above this, only the owner and admins may @all


@dataclass(frozen=True, slots=True)
class Room:
    id: RoomId
    kind: RoomKind
    name: str | None
    topic: str | None
    history_visibility: HistoryVisibility
    created_by: UserId | None
    created_at: dt.datetime
    last_seq: int
    last_event_seq: int
    last_message_at: dt.datetime | None
    member_count: int
    notice_message_id: MessageId | None
    archived_at: dt.datetime | None
    members_can_invite: bool = True


@dataclass(frozen=True, slots=True)
class Membership:
    room_id: RoomId
    user_id: UserId
    role: Role
    joined_at: dt.datetime
    joined_seq: int
    visible_from_seq: int
    joined_event_seq: int
    last_read_seq: int
    muted: bool
    favourite: bool
    archived: bool

    @property
    def replay_floor(self) -> int:
        """The event_seq before which this member gets no events (history policy 'joined')."""
        return 0 if self.visible_from_seq == 0 else self.joined_event_seq

    def can_moderate(self) -> bool:
        """Owner (방장) and admins may rename, kick, pin, set the notice and hide messages."""
        return ROLE_RANK[self.role] >= ROLE_RANK["admin"]

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


def direct_key(a: UserId, b: UserId) -> str:
    """The unique key of the 1:1 room of two users (or of 나와의 채팅 when a == b)."""
    low, high = sorted((int(a), int(b)))
    return f"{low}:{high}"


def may_mention_all(membership: Membership, member_count: int) -> bool:
    return member_count <= MENTION_ALL_FREE_MAX_MEMBERS or membership.can_moderate()


@dataclass(frozen=True, slots=True)
class RoomSummary:
    """A room as one member's room list shows it (R1)."""

    room: Room
    membership: Membership
    display_name: str | None  # the peer's name for 1:1 rooms, the room name for groups
    peer_user_id: UserId | None
    last_message: dict[str, Any] | None  # MessageView.to_wire() of the newest message
    unread_count: int
    unread_mentions: int

    def to_wire(self) -> dict[str, Any]:
        r, m = self.room, self.membership
        return {
            "id": r.id,
            "kind": r.kind,
            "name": self.display_name,
            "topic": r.topic,
            "history_visibility": r.history_visibility,
            "member_count": r.member_count,
            "role": m.role,
            "last_seq": r.last_seq,
            "last_event_seq": r.last_event_seq,
            "last_read_seq": m.last_read_seq,
            "visible_from_seq": m.visible_from_seq,
            "last_message": self.last_message,
            "last_message_at": r.last_message_at.isoformat() if r.last_message_at else None,
            "unread_count": self.unread_count,
            "unread_mentions": self.unread_mentions,
            "muted": m.muted,
            "favourite": m.favourite,
            "archived": m.archived,
            "notice_message_id": r.notice_message_id,
            "members_can_invite": r.members_can_invite,
            "peer_user_id": self.peer_user_id,
            "created_at": r.created_at.isoformat(),
        }
