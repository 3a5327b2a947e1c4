"""Login, refresh-token rotation, logout, sessions and devices (product.md O2, O3).

Security choices:
- The same ``invalid_credentials`` answer, after the same argon2 work, for an unknown user, a wrong
  password and a deactivated user: no user enumeration.
- Failures are counted in the database per account and per address, so the limit holds across
  nodes; over either limit, login answers ``login_rate_limited`` even for the right password.
- Refresh tokens rotate on every use. Presenting a token that was already rotated means it leaked:
  the whole session is revoked (its live sockets close too) and the answer is ``token_reused``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from sodam.bus.base import Bus, user_topic
from sodam.config import AuthSettings
from sodam.db import audit as audit_repo
from sodam.db import sessions as sessions_repo
from sodam.db import users as users_repo
from sodam.db.engine import Database
from sodam.domain.accounts import Session, User, normalise_username
from sodam.domain.clock import Clock
from sodam.domain.events import SessionsRevoked
from sodam.domain.ids import SessionId, UserId
from sodam.errors import AppError, NotFound, RateLimited, Unauthenticated
from sodam.services.context import ClientInfo, Principal
from sodam.services.passwords import PasswordHasher
from sodam.services.tokens import (
    AccessClaims,
    TokenCodec,
    TokenType,
    hash_refresh_token,
    new_refresh_token,
    new_session_id,
)

logger = logging.getLogger(__name__)

INVALID_CREDENTIALS = ("invalid_credentials", "The user name or password is wrong.")
SESSION_BATCH = 500  # sessions read per statement by authenticate_many


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: SessionId
    user_id: UserId


class AuthService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        bus: Bus,
        settings: AuthSettings,
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher
        self._tokens = tokens
        self._bus = bus
        self._settings = settings

    async def login(self, username: str, password: str, client: ClientInfo) -> TokenPair:
        """Checks the password and opens a new session with its first refresh token."""
        username = normalise_username(username)[:64]
        now = self._clock.now()
        since = now - dt.timedelta(seconds=self._settings.login_window_s)

        def lookup_txn(conn: sa.Connection) -> tuple[int, int, tuple[User, str | None] | None]:
            by_user, by_ip = sessions_repo.count_login_failures(
                conn, username=username, ip_address=client.ip_address, since=since
            )
            return by_user, by_ip, users_repo.select_user_with_hash_by_username(conn, username)

        by_user, by_ip, found = await self._db.read(lookup_txn)
        if (
            by_user >= self._settings.login_max_failures_per_account
            or by_ip >= self._settings.login_max_failures_per_address
        ):
            raise RateLimited(
                "login_rate_limited",
                "Too many failed logins; try again later.",
                {"retry_after_s": self._settings.login_window_s},
            )
        user, password_hash = found if found else (None, None)
        ok = await self._hasher.verify(password_hash, password)
        if not ok or user is None or not user.is_active:
            actor = user.id if user else None

            def failure_txn(conn: sa.Connection) -> None:
                sessions_repo.insert_login_failure(conn, username, client.ip_address, now)
                audit_repo.insert_audit_log(
                    conn,
                    at=now,
                    actor_id=actor,
                    action="auth.login_failed",
                    target_type="user",
                    target_id=username,
                    ip_address=client.ip_address,
                )

            await self._db.write(failure_txn)
            raise Unauthenticated(*INVALID_CREDENTIALS)
        assert password_hash is not None  # noqa: S101 -- verify() is False without a hash
        new_hash = (
            await self._hasher.hash(password) if self._hasher.needs_rehash(password_hash) else None
        )
        session_id = new_session_id()
        refresh, refresh_hash = new_refresh_token()
        user_id = user.id

        def session_txn(conn: sa.Connection) -> None:
            sessions_repo.insert_session(
                conn,
                session_id=session_id,
                user_id=user_id,
                device_name=client.device_name,
                user_agent=client.user_agent,
                ip_address=client.ip_address,
                auth_method="password",
                now=now,
                expires_at=now + dt.timedelta(seconds=self._settings.refresh_token_ttl_s),
            )
            sessions_repo.insert_refresh_token(conn, session_id, refresh_hash, now)
            sessions_repo.delete_login_failures(conn, username=username)
            if new_hash:
                users_repo.update_password_hash(conn, user_id, new_hash, now)
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=user_id,
                action="auth.login",
                target_type="session",
                target_id=session_id,
                ip_address=client.ip_address,
            )

        await self._db.write(session_txn)
        return self._pair(user_id, session_id, refresh, now)

    async def refresh(self, refresh_token: str, client: ClientInfo) -> TokenPair:
        """Rotates a refresh token; a reused one revokes its whole session."""
        now = self._clock.now()
        token_hash = hash_refresh_token(refresh_token)
        refresh, refresh_hash = new_refresh_token()

        def rotate_txn(conn: sa.Connection) -> tuple[Session, SessionsRevoked | None]:
            found = sessions_repo.select_refresh_token(conn, token_hash)
            if found is None:
                raise Unauthenticated("refresh_invalid", "The refresh token is not valid.")
            token_id, session_id, used_at = found
            live = sessions_repo.select_live_session_and_user_state(conn, session_id, now)
            if live is None or not live[1]:
                raise Unauthenticated("refresh_invalid", "The refresh token is not valid.")
            session = live[0]
            if used_at is not None or not sessions_repo.mark_refresh_token_used(
                conn, token_id, now
            ):
                sessions_repo.revoke_session(conn, session_id, now, "refresh_reuse")
                audit_repo.insert_audit_log(
                    conn,
                    at=now,
                    actor_id=session.user_id,
                    action="auth.refresh_reused",
                    target_type="session",
                    target_id=session_id,
                    ip_address=client.ip_address,
                )
                return session, SessionsRevoked(
                    user_id=session.user_id,
                    session_ids=(session_id,),
                    all_sessions=False,
                    reason="refresh_reuse",
                )
            sessions_repo.insert_refresh_token(conn, session_id, refresh_hash, now)
            sessions_repo.update_session_seen(
                conn,
                session_id,
                now,
                client.ip_address,
                now + dt.timedelta(seconds=self._settings.refresh_token_ttl_s),
            )
            return session, None

        session, revoked = await self._db.write(rotate_txn)
        if revoked is not None:
            # The revocation committed; tell open sockets, then refuse.
            await self._bus.publish(user_topic(revoked.user_id), revoked.encode())
            raise Unauthenticated(
                "token_reused", "This refresh token was already used; the session has ended."
            )
        return self._pair(session.user_id, session.id, refresh, now)

    async def authenticate(self, access_token: str, typ: TokenType = "access") -> Principal:
        """The caller of an access token, if its session is live and its user active.
        ``typ="media"``: a media token (file downloads only)."""
        now = self._clock.now()
        claims = self._tokens.decode_access(access_token, now, typ)
        found = await self._db.read(
            lambda conn: sessions_repo.select_session_user(conn, claims.session_id, now)
        )
        if found is None or found[0].user_id != claims.user_id:
            raise Unauthenticated("session_ended", "The session has ended; log in again.")
        user = found[1]
        if not user.is_active:
            raise Unauthenticated("user_deactivated", "This account is deactivated.")
        return Principal(user=user, session_id=claims.session_id)

    async def authenticate_many(
        self, access_tokens: list[str]
    ) -> list[Principal | Unauthenticated | None]:
        """``authenticate`` for many tokens (the WebSocket gateway's periodic re-check): the
        sessions are read in a few statements instead of one transaction per token. Answers
        in the order of ``access_tokens``. When the database cannot answer, the tokens that
        fail by themselves (expired, forged) are still refused and the others answer None
        (unknown)."""
        now = self._clock.now()
        answers: list[Principal | Unauthenticated | None] = []
        claims_of: list[tuple[int, AccessClaims]] = []
        for i, token in enumerate(access_tokens):
            try:
                claims_of.append((i, self._tokens.decode_access(token, now)))
                answers.append(None)
            except Unauthenticated as exc:
                answers.append(exc)
        wanted = sorted({claims.session_id for _, claims in claims_of})

        def read(conn: sa.Connection) -> dict[SessionId, tuple[Session, User]]:
            found: dict[SessionId, tuple[Session, User]] = {}
            for start in range(0, len(wanted), SESSION_BATCH):
                batch = wanted[start : start + SESSION_BATCH]
                found.update(sessions_repo.select_session_users(conn, batch, now))
            return found

        try:
            found = await self._db.read(read) if wanted else {}
        except AppError:
            logger.warning("session re-check: the database is unavailable")
            return answers
        for i, claims in claims_of:
            live = found.get(claims.session_id)
            if live is None or live[0].user_id != claims.user_id:
                answers[i] = Unauthenticated(
                    "session_ended", "The session has ended; log in again."
                )
            elif not live[1].is_active:
                answers[i] = Unauthenticated("user_deactivated", "This account is deactivated.")
            else:
                answers[i] = Principal(user=live[1], session_id=claims.session_id)
        return answers

    def media_token(self, user_id: UserId, session_id: SessionId) -> str:
        """A token only file downloads accept, for the browser's ``sodam_media`` cookie."""
        return self._tokens.issue_access(user_id, session_id, self._clock.now(), typ="media")

    async def logout(self, principal: Principal, client: ClientInfo) -> None:
        await self._revoke(principal.user.id, principal.session_id, "logout", client)

    async def list_sessions(self, principal: Principal) -> list[Session]:
        now = self._clock.now()
        return await self._db.read(
            lambda conn: sessions_repo.select_user_sessions(conn, principal.user.id, now)
        )

    async def revoke_session(
        self, principal: Principal, session_id: SessionId, client: ClientInfo
    ) -> None:
        """Remote logout of one of the caller's own sessions (404 for anyone else's)."""
        await self._revoke(principal.user.id, session_id, "revoked", client)

    async def _revoke(
        self, user_id: UserId, session_id: SessionId, reason: str, client: ClientInfo
    ) -> None:
        now = self._clock.now()

        def revoke_txn(conn: sa.Connection) -> None:
            session = sessions_repo.select_session(conn, session_id)
            if session is None or session.user_id != user_id or session.revoked_at is not None:
                raise NotFound("session_not_found", "No such session.")
            sessions_repo.revoke_session(conn, session_id, now, reason)
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=user_id,
                action=f"auth.{reason}",
                target_type="session",
                target_id=session_id,
                ip_address=client.ip_address,
            )

        await self._db.write(revoke_txn)
        event = SessionsRevoked(
            user_id=user_id, session_ids=(session_id,), all_sessions=False, reason=reason
        )
        await self._bus.publish(user_topic(user_id), event.encode())

    def _pair(
        self, user_id: UserId, session_id: SessionId, refresh: str, now: dt.datetime
    ) -> TokenPair:
        return TokenPair(
            access_token=self._tokens.issue_access(user_id, session_id, now),
            refresh_token=refresh,
            expires_in=self._tokens.access_ttl_s,
            session_id=session_id,
            user_id=user_id,
        )
