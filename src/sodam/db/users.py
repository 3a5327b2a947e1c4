"""Repository for users and profiles. Functions take a connection and never commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sodam.db.tables import profiles, users
from sodam.domain.accounts import Profile, User
from sodam.domain.ids import UserId
from sodam.errors import Conflict

USER_COLUMNS_NO_ID = (
    users.c.username,
    profiles.c.display_name,
    users.c.is_admin,
    users.c.is_bot,
    users.c.deactivated_at,
    users.c.created_at.label("user_created_at"),
)
_USER_COLUMNS = (users.c.id, *USER_COLUMNS_NO_ID)
USER_FROM = users.join(profiles, profiles.c.user_id == users.c.id)


_USER = (
    sa.select(*_USER_COLUMNS).select_from(USER_FROM).where(users.c.id == sa.bindparam("user_id"))
)
_USER_WITH_HASH_BY_USERNAME = (
    sa.select(*_USER_COLUMNS, users.c.password_hash)
    .select_from(USER_FROM)
    .where(users.c.username == sa.bindparam("username"))
)
_PROFILE = sa.select(profiles).where(profiles.c.user_id == sa.bindparam("user_id"))
_PROFILES = sa.select(profiles).where(
    profiles.c.user_id.in_(sa.bindparam("user_ids", expanding=True))
)
_ACTIVE_USER_IDS = sa.select(users.c.id).where(
    users.c.id.in_(sa.bindparam("user_ids", expanding=True)), users.c.deactivated_at.is_(None)
)


def user_from_row(row: Any, *, user_id: int) -> User:
    return User(
        id=UserId(user_id),
        username=row.username,
        display_name=row.display_name,
        is_admin=row.is_admin,
        is_bot=row.is_bot,
        deactivated_at=row.deactivated_at,
        created_at=row.user_created_at,
    )


def _user(row: Any) -> User:
    return user_from_row(row, user_id=row.id)


def insert_user(
    conn: sa.Connection,
    *,
    username: str,
    display_name: str,
    password_hash: str | None,
    is_admin: bool,
    now: dt.datetime,
) -> User:
    try:
        user_id = (
            conn.execute(
                sa.insert(users)
                .values(
                    username=username,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    password_changed_at=now if password_hash else None,
                    created_at=now,
                )
                .returning(users.c.id)
            )
        ).scalar_one()
    except IntegrityError as exc:
        raise Conflict("username_taken", "That user name is already taken.") from exc
    conn.execute(
        sa.insert(profiles).values(user_id=user_id, display_name=display_name, updated_at=now)
    )
    return User(
        id=UserId(user_id),
        username=username,
        display_name=display_name,
        is_admin=is_admin,
        is_bot=False,
        deactivated_at=None,
        created_at=now,
    )


def select_user(conn: sa.Connection, user_id: UserId) -> User | None:
    row = conn.execute(_USER, {"user_id": user_id}).first()
    return _user(row) if row else None


def select_user_with_hash_by_username(
    conn: sa.Connection, username: str
) -> tuple[User, str | None] | None:
    row = conn.execute(_USER_WITH_HASH_BY_USERNAME, {"username": username}).first()
    return (_user(row), row.password_hash) if row else None


def select_users(
    conn: sa.Connection, *, after_id: int, limit: int, include_inactive: bool
) -> list[User]:
    query = (
        sa.select(*_USER_COLUMNS)
        .select_from(USER_FROM)
        .where(users.c.id > after_id)
        .order_by(users.c.id)
        .limit(limit)
    )
    if not include_inactive:
        query = query.where(users.c.deactivated_at.is_(None))
    return [_user(row) for row in conn.execute(query)]


def count_users(conn: sa.Connection) -> int:
    return int((conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one())


def update_password_hash(
    conn: sa.Connection, user_id: UserId, password_hash: str, now: dt.datetime
) -> bool:
    result = conn.execute(
        sa.update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )
    return result.rowcount == 1


def update_user_deactivated(
    conn: sa.Connection, user_id: UserId, deactivated_at: dt.datetime | None
) -> bool:
    result = conn.execute(
        sa.update(users).where(users.c.id == user_id).values(deactivated_at=deactivated_at)
    )
    return result.rowcount == 1


def select_profile(conn: sa.Connection, user_id: UserId) -> Profile | None:
    row = conn.execute(_PROFILE, {"user_id": user_id}).first()
    return _profile(row) if row is not None else None


def _profile(row: Any) -> Profile:
    return Profile(
        user_id=UserId(row.user_id),
        display_name=row.display_name,
        title=row.title,
        email=row.email,
        phone=row.phone,
        status_message=row.status_message,
        work_status=row.work_status,
        locale=row.locale,
        last_seen_at=row.last_seen_at,
    )


def update_profile(
    conn: sa.Connection, user_id: UserId, values: dict[str, Any], now: dt.datetime
) -> None:
    conn.execute(
        sa.update(profiles).where(profiles.c.user_id == user_id).values(**values, updated_at=now)
    )


def select_profiles(conn: sa.Connection, user_ids: set[int]) -> dict[UserId, Profile]:
    if not user_ids:
        return {}
    rows = conn.execute(_PROFILES, {"user_ids": sorted(user_ids)})
    return {UserId(r.user_id): _profile(r) for r in rows}


def update_last_seen(conn: sa.Connection, user_id: UserId, at: dt.datetime) -> None:
    conn.execute(sa.update(profiles).where(profiles.c.user_id == user_id).values(last_seen_at=at))


def select_active_user_ids(conn: sa.Connection, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    rows = conn.execute(_ACTIVE_USER_IDS, {"user_ids": sorted(user_ids)})
    return {int(u) for u in rows.scalars()}
