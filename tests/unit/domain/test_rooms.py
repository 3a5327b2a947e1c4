"""Room rules without I/O: the 1:1 room key, roles, who may @all, the room list wire shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sodam.domain import rooms
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.rooms import (
    MENTION_ALL_FREE_MAX_MEMBERS,
    Membership,
    Room,
    RoomSummary,
    direct_key,
    may_mention_all,
)

T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


def make_membership(**overrides: Any) -> Membership:
    fields: dict[str, Any] = {
        "room_id": RoomId(1),
        "user_id": UserId(2),
        "role": "member",
        "joined_at": T0,
        "joined_seq": 0,
        "visible_from_seq": 0,
        "joined_event_seq": 0,
        "last_read_seq": 0,
        "muted": False,
        "favourite": False,
        "archived": False,
    }
    fields.update(overrides)
    return Membership(**fields)


def make_room(**overrides: Any) -> Room:
    fields: dict[str, Any] = {
        "id": RoomId(1),
        "kind": "group",
        "name": "개발팀",
        "topic": "스프린트",
        "history_visibility": "joined",
        "created_by": UserId(2),
        "created_at": T0,
        "last_seq": 12,
        "last_event_seq": 30,
        "last_message_at": T0 + dt.timedelta(minutes=5),
        "member_count": 4,
        "notice_message_id": MessageId(99),
        "archived_at": None,
    }
    fields.update(overrides)
    return Room(**fields)


# --- direct keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(1, 2), (2, 1), (10, 9), (123456789, 7)])
def test_direct_key_is_the_same_from_both_sides(a: int, b: int) -> None:
    assert direct_key(UserId(a), UserId(b)) == direct_key(UserId(b), UserId(a))


def test_direct_key_sorts_numerically_not_as_text() -> None:
    assert direct_key(UserId(10), UserId(9)) == "9:10"


def test_direct_key_of_oneself_is_the_self_room() -> None:
    assert direct_key(UserId(5), UserId(5)) == "5:5"


def test_direct_keys_of_different_pairs_differ() -> None:
    keys = {direct_key(UserId(a), UserId(b)) for a in range(1, 30) for b in range(a, 30)}
    assert len(keys) == sum(range(1, 30))


def test_direct_key_fits_the_column() -> None:
    big = UserId(2**63 - 1)
    assert len(direct_key(big, big)) <= 41


# --- roles and @all ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "moderates", "owner"),
    [("member", False, False), ("admin", True, False), ("owner", True, True)],
)
def test_roles(role: str, moderates: bool, owner: bool) -> None:
    membership = make_membership(role=role)
    assert membership.can_moderate() is moderates
    assert membership.is_owner is owner


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_anyone_may_mention_all_in_a_room_up_to_the_limit(role: str) -> None:
    membership = make_membership(role=role)
    assert may_mention_all(membership, MENTION_ALL_FREE_MAX_MEMBERS)
    assert may_mention_all(membership, 1)


@pytest.mark.parametrize(("role", "allowed"), [("member", False), ("admin", True), ("owner", True)])
def test_above_the_limit_only_moderators_may_mention_all(role: str, allowed: bool) -> None:
    membership = make_membership(role=role)
    assert may_mention_all(membership, MENTION_ALL_FREE_MAX_MEMBERS + 1) is allowed
    assert may_mention_all(membership, 5000) is allowed


def test_the_mention_all_limit_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rooms, "MENTION_ALL_FREE_MAX_MEMBERS", 3)
    assert not rooms.may_mention_all(make_membership(), 4)


# --- history policy and replay floor -----------------------------------------------------------


def test_a_member_who_sees_all_history_replays_from_the_start() -> None:
    assert make_membership(visible_from_seq=0, joined_event_seq=40).replay_floor == 0


def test_a_member_who_sees_only_new_messages_replays_from_their_join() -> None:
    assert make_membership(visible_from_seq=13, joined_event_seq=40).replay_floor == 40


# --- room list wire shape ----------------------------------------------------------------------


def test_room_summary_wire_shape() -> None:
    summary = RoomSummary(
        room=make_room(),
        membership=make_membership(role="owner", last_read_seq=9, muted=True, visible_from_seq=3),
        display_name="개발팀",
        peer_user_id=None,
        last_message=None,
        unread_count=3,
        unread_mentions=1,
    )
    assert summary.to_wire() == {
        "id": 1,
        "kind": "group",
        "name": "개발팀",
        "topic": "스프린트",
        "history_visibility": "joined",
        "member_count": 4,
        "role": "owner",
        "last_seq": 12,
        "last_event_seq": 30,
        "last_read_seq": 9,
        "visible_from_seq": 3,
        "last_message": None,
        "last_message_at": (T0 + dt.timedelta(minutes=5)).isoformat(),
        "unread_count": 3,
        "unread_mentions": 1,
        "muted": True,
        "favourite": False,
        "archived": False,
        "notice_message_id": 99,
        "members_can_invite": True,
        "peer_user_id": None,
        "created_at": T0.isoformat(),
    }


def test_room_summary_of_a_room_without_messages_has_no_time() -> None:
    summary = RoomSummary(
        room=make_room(last_message_at=None),
        membership=make_membership(),
        display_name=None,
        peer_user_id=UserId(3),
        last_message=None,
        unread_count=0,
        unread_mentions=0,
    )
    assert summary.to_wire()["last_message_at"] is None
