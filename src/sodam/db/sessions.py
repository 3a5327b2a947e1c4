"""Repository for login sessions, refresh tokens and login failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from sodam.db.tables import login_failures, refresh_tokens, sessions, users
from sodam.db.users import USER_COLUMNS_NO_ID, USER_FROM, user_from_row
from sodam.domain.accounts import Session, User
from sodam.domain.ids import SessionId, UserId


def _session(row: Any) -> Session:
    return Session(
        id=SessionId(row.id),
        user_id=UserId(row.user_id),
        device_name=row.device_name,
        user_agent=row.user_agent,
        ip_address=row.ip_address,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


_b = sa.bindparam

# Built once with bind parameters (see db/messages.py); the session lookups run on every request
# and every WebSocket session re-check.
_INSERT_SESSION = sa.insert(sessions)
_INSERT_REFRESH_TOKEN = sa.insert(refresh_tokens)
_REFRESH_TOKEN = sa.select(
    refresh_tokens.c.id, refresh_tokens.c.session_id, refresh_tokens.c.used_at
).where(refresh_tokens.c.token_hash == _b("token_hash"))
_MARK_REFRESH_TOKEN_USED = (
    sa.update(refresh_tokens)
    .where(refresh_tokens.c.id == _b("token_id"), refresh_tokens.c.used_at.is_(None))
    .values(used_at=_b("set_used_at", type_=refresh_tokens.c.used_at.type))
)
_SESSION = sa.select(sessions).where(sessions.c.id == _b("session_id"))
_LIVE = (
    sessions.c.id == _b("session_id"),
    sessions.c.revoked_at.is_(None),
    sessions.c.expires_at > _b("now", type_=sessions.c.expires_at.type),
)
_LIVE_SESSION_AND_USER_STATE = (
    sa.select(sessions, users.c.deactivated_at.label("user_deactivated_at"))
    .join(users, users.c.id == sessions.c.user_id)
    .where(*_LIVE)
)
_SESSION_USER = (
    sa.select(sessions, *USER_COLUMNS_NO_ID)
    .select_from(sessions.join(USER_FROM, users.c.id == sessions.c.user_id))
    .where(*_LIVE)
)
_SESSION_USERS = (
    sa.select(sessions, *USER_COLUMNS_NO_ID)
    .select_from(sessions.join(USER_FROM, users.c.id == sessions.c.user_id))
    .where(
        sessions.c.id.in_(_b("session_ids", expanding=True)),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > _b("now", type_=sessions.c.expires_at.type),
    )
)
_USER_SESSIONS = (
    sa.select(sessions)
    .where(
        sessions.c.user_id == _b("user_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > _b("now", type_=sessions.c.expires_at.type),
    )
    .order_by(sessions.c.last_seen_at.desc())
)
_UPDATE_SESSION_SEEN = (
    sa.update(sessions)
    .where(sessions.c.id == _b("session_id"))
    .values(
        last_seen_at=_b("set_last_seen_at", type_=sessions.c.last_seen_at.type),
        ip_address=_b("set_ip_address", type_=sessions.c.ip_address.type),
        expires_at=_b("set_expires_at", type_=sessions.c.expires_at.type),
    )
)
_REVOKE_SESSION = (
    sa.update(sessions)
    .where(sessions.c.id == _b("session_id"), sessions.c.revoked_at.is_(None))
    .values(
        revoked_at=_b("set_revoked_at", type_=sessions.c.revoked_at.type),
        revoked_reason=_b("set_revoked_reason", type_=sessions.c.revoked_reason.type),
    )
)


def insert_session(
    conn: sa.Connection,
    *,
    session_id: SessionId,
    user_id: UserId,
    device_name: str | None,
    user_agent: str | None,
    ip_address: str | None,
    auth_method: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    conn.execute(
        _INSERT_SESSION,
        {
            "id": session_id,
            "user_id": user_id,
            "device_name": device_name,
            "user_agent": user_agent,
            "ip_address": ip_address,
            "auth_method": auth_method,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": expires_at,
        },
    )


def insert_refresh_token(
    conn: sa.Connection, session_id: SessionId, token_hash: str, now: dt.datetime
) -> None:
    conn.execute(
        _INSERT_REFRESH_TOKEN,
        {"session_id": session_id, "token_hash": token_hash, "created_at": now},
    )


def select_refresh_token(
    conn: sa.Connection, token_hash: str
) -> tuple[int, SessionId, dt.datetime | None] | None:
    row = conn.execute(_REFRESH_TOKEN, {"token_hash": token_hash}).first()
    return (row.id, SessionId(row.session_id), row.used_at) if row else None


def mark_refresh_token_used(conn: sa.Connection, token_id: int, now: dt.datetime) -> bool:
    """Marks the token used; False when another request used it first (a concurrent reuse)."""
    result = conn.execute(_MARK_REFRESH_TOKEN_USED, {"token_id": token_id, "set_used_at": now})
    return result.rowcount == 1


def select_session(conn: sa.Connection, session_id: SessionId) -> Session | None:
    row = conn.execute(_SESSION, {"session_id": session_id}).first()
    return _session(row) if row else None


def select_live_session_and_user_state(
    conn: sa.Connection, session_id: SessionId, now: dt.datetime
) -> tuple[Session, bool] | None:
    """The session if it is neither revoked nor expired, and whether its user is active."""
    row = conn.execute(_LIVE_SESSION_AND_USER_STATE, {"session_id": session_id, "now": now}).first()
    if row is None:
        return None
    return _session(row), row.user_deactivated_at is None


def select_session_user(
    conn: sa.Connection, session_id: SessionId, now: dt.datetime
) -> tuple[Session, User] | None:
    """A live (unrevoked, unexpired) session and its user, in one statement (every request)."""
    row = conn.execute(_SESSION_USER, {"session_id": session_id, "now": now}).first()
    if row is None:
        return None
    return _session(row), user_from_row(row, user_id=row.user_id)


def select_session_users(
    conn: sa.Connection, session_ids: list[SessionId], now: dt.datetime
) -> dict[SessionId, tuple[Session, User]]:
    """``select_session_user`` for many sessions in one statement: the live ones, by id."""
    rows = conn.execute(_SESSION_USERS, {"session_ids": session_ids, "now": now})
    found: dict[SessionId, tuple[Session, User]] = {}
    for row in rows:
        session = _session(row)
        found[session.id] = (session, user_from_row(row, user_id=row.user_id))
    return found


def select_user_sessions(conn: sa.Connection, user_id: UserId, now: dt.datetime) -> list[Session]:
    rows = conn.execute(_USER_SESSIONS, {"user_id": user_id, "now": now})
    return [_session(row) for row in rows]


def update_session_seen(
    conn: sa.Connection,
    session_id: SessionId,
    now: dt.datetime,
    ip_address: str | None,
    expires_at: dt.datetime,
) -> None:
    conn.execute(
        _UPDATE_SESSION_SEEN,
        {
            "session_id": session_id,
            "set_last_seen_at": now,
            "set_ip_address": ip_address,
            "set_expires_at": expires_at,
        },
    )


def revoke_session(
    conn: sa.Connection, session_id: SessionId, now: dt.datetime, reason: str
) -> bool:
    result = conn.execute(
        _REVOKE_SESSION,
        {"session_id": session_id, "set_revoked_at": now, "set_revoked_reason": reason},
    )
    return result.rowcount == 1


def revoke_user_sessions(
    conn: sa.Connection,
    user_id: UserId,
    now: dt.datetime,
    reason: str,
    *,
    keep: SessionId | None = None,
) -> list[SessionId]:
    """Revokes every live session of the user except ``keep``; returns the revoked ids."""
    query = sa.select(sessions.c.id).where(
        sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(sessions.c.id != keep)
    ids = [SessionId(sid) for sid in (conn.execute(query)).scalars()]
    if ids:
        conn.execute(
            sa.update(sessions)
            .where(sessions.c.id.in_(ids))
            .values(revoked_at=now, revoked_reason=reason)
        )
    return ids


def insert_login_failure(
    conn: sa.Connection, username: str, ip_address: str, now: dt.datetime
) -> None:
    conn.execute(
        sa.insert(login_failures).values(username=username, ip_address=ip_address, failed_at=now)
    )


def count_login_failures(
    conn: sa.Connection, *, username: str, ip_address: str, since: dt.datetime
) -> tuple[int, int]:
    """Recent failures for the account and for the address."""
    by_user = (
        sa.select(sa.func.count())
        .where(login_failures.c.username == username, login_failures.c.failed_at > since)
        .scalar_subquery()
    )
    by_ip = (
        sa.select(sa.func.count())
        .where(login_failures.c.ip_address == ip_address, login_failures.c.failed_at > since)
        .scalar_subquery()
    )
    row = (conn.execute(sa.select(by_user.label("u"), by_ip.label("a")))).one()
    return int(row.u), int(row.a)


def delete_login_failures(conn: sa.Connection, *, username: str) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.username == username))


def delete_login_failures_before(conn: sa.Connection, before: dt.datetime) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.failed_at < before))
