"""User name rules and the small rules on users and sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from sodam.domain.accounts import Session, User, is_valid_username, normalise_username
from sodam.domain.ids import SessionId, UserId

T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("Kim.MinSu", "kim.minsu"), ("  lee  ", "lee"), ("PARK_01", "park_01"), ("", "")],
)
def test_user_names_are_compared_trimmed_and_in_lower_case(raw: str, normalised: str) -> None:
    assert normalise_username(raw) == normalised


@pytest.mark.parametrize(
    "name",
    ["kim", "kim.minsu", "lee_jiwoo", "park-01", "a1", "0park", "x" * 64, "a.", "a-"],
)
def test_valid_user_names(name: str) -> None:
    assert is_valid_username(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "k",  # too short
        "x" * 65,  # too long
        "Kim",  # not normalised
        "김민수",  # Hangul belongs in the display name
        "kim minsu",
        ".kim",
        "_kim",
        "-kim",
        "kim@corp",
        "kim/../admin",
        "kim\n",
        "kim\x00",
        "ｋｉｍ",  # full-width Latin
    ],
)
def test_invalid_user_names(name: str) -> None:
    assert not is_valid_username(name)


def _user(**changes: object) -> User:
    values: dict[str, object] = {
        "id": UserId(1),
        "username": "kim",
        "display_name": "김민수",
        "is_admin": False,
        "is_bot": False,
        "deactivated_at": None,
        "created_at": T0,
    }
    values.update(changes)
    return User(**values)  # type: ignore[arg-type]


def test_a_user_is_active_until_deactivated() -> None:
    assert _user().is_active
    assert not _user(deactivated_at=T0).is_active


def _session(**changes: object) -> Session:
    values: dict[str, object] = {
        "id": SessionId("s1"),
        "user_id": UserId(1),
        "device_name": "회사 PC",
        "user_agent": None,
        "ip_address": "203.0.113.7",
        "created_at": T0,
        "last_seen_at": T0,
        "expires_at": T0 + dt.timedelta(days=30),
        "revoked_at": None,
    }
    values.update(changes)
    return Session(**values)  # type: ignore[arg-type]


def test_a_session_is_live_until_it_expires_or_is_revoked() -> None:
    session = _session()
    assert session.is_live(T0)
    assert session.is_live(T0 + dt.timedelta(days=30) - dt.timedelta(seconds=1))
    assert not session.is_live(T0 + dt.timedelta(days=30))
    assert not _session(revoked_at=T0).is_live(T0)


def test_domain_values_are_frozen() -> None:
    user = _user()
    with pytest.raises(AttributeError):
        user.username = "root"  # type: ignore[misc]
