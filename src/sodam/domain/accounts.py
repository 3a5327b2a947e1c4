"""Users, profiles and login sessions as frozen values, plus the rules about them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sodam.domain.ids import SessionId, UserId

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
WORK_STATUSES = ("working", "meeting", "vacation", "off")  # 근무 중, 회의 중, 휴가, 퇴근


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    username: str
    display_name: str
    is_admin: bool
    is_bot: bool
    deactivated_at: dt.datetime | None
    created_at: dt.datetime

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: UserId
    display_name: str
    title: str | None
    email: str | None
    phone: str | None
    status_message: str | None
    work_status: str
    locale: str
    last_seen_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Session:
    id: SessionId
    user_id: UserId
    device_name: str | None
    user_agent: str | None
    ip_address: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def is_live(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


def normalise_username(raw: str) -> str:
    """User names are case-insensitive: stored and compared in lower case."""
    return raw.strip().lower()


def is_valid_username(username: str) -> bool:
    return USERNAME_RE.fullmatch(username) is not None
