"""Local user accounts: creation, passwords, deactivation, profiles and the first admin.

Admin-only use cases take the acting ``Principal`` and check ``is_admin`` here, the one choke point;
the CLI acts as the system (``actor=None``) because it runs with the server's own credentials.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sodam.bus.base import Bus, user_topic
from sodam.config import AuthSettings
from sodam.db import audit as audit_repo
from sodam.db import sessions as sessions_repo
from sodam.db import users as users_repo
from sodam.db.engine import Database
from sodam.domain.accounts import (
    WORK_STATUSES,
    Profile,
    User,
    is_valid_username,
    normalise_username,
)
from sodam.domain.clock import Clock
from sodam.domain.events import SessionsRevoked, encode_frame
from sodam.domain.ids import SessionId, UserId
from sodam.errors import Forbidden, InvalidInput, NotFound
from sodam.services.context import Principal
from sodam.services.passwords import PasswordHasher

FIRST_ADMIN_USERNAME = "admin"


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    user: User
    generated_password: str | None  # set only when Sodam generated it (printed once)


class AccountService:
    def __init__(
        self, db: Database, clock: Clock, hasher: PasswordHasher, bus: Bus, settings: AuthSettings
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher
        self._bus = bus
        self._settings = settings

    def check_password_policy(self, password: str) -> None:
        if len(password) < self._settings.password_min_length:
            raise InvalidInput(
                "password_too_short",
                f"The password must have at least {self._settings.password_min_length} characters.",
                {"min_length": self._settings.password_min_length},
            )
        if len(password) > 1024:
            raise InvalidInput(
                "password_too_long", "The password is too long.", {"max_length": 1024}
            )

    async def create_user(
        self,
        actor: Principal | None,
        *,
        username: str,
        password: str,
        display_name: str | None = None,
        is_admin: bool = False,
    ) -> User:
        """Creates a local user (admins only; ``actor=None`` is the CLI)."""
        _require_admin(actor)
        username = normalise_username(username)
        if not is_valid_username(username):
            raise InvalidInput(
                "username_invalid",
                "User names are 2-64 characters: lower-case letters, digits, '.', '_', '-'.",
            )
        self.check_password_policy(password)
        name = (display_name or username).strip()[:100] or username
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()

        def _txn(conn: sa.Connection) -> User:
            user = users_repo.insert_user(
                conn,
                username=username,
                display_name=name,
                password_hash=password_hash,
                is_admin=is_admin,
                now=now,
            )
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=actor.user.id if actor else None,
                action="user.create",
                target_type="user",
                target_id=str(user.id),
                data={"is_admin": is_admin},
            )
            return user

        user = await self._db.write(_txn)
        return user

    async def ensure_first_admin(self, password: str | None) -> FirstAdmin | None:
        """Creates ``admin`` when there are no users yet; None when users already exist."""
        if await self._db.read(users_repo.count_users) > 0:
            return None
        generated = None
        if password is None:
            generated = password = secrets.token_urlsafe(12)
        user = await self.create_user(
            None,
            username=FIRST_ADMIN_USERNAME,
            password=password,
            display_name="관리자",
            is_admin=True,
        )
        return FirstAdmin(user=user, generated_password=generated)

    async def set_password(self, actor: Principal | None, username: str, password: str) -> User:
        """An admin (or the CLI) resets a user's password; the user's sessions end."""
        _require_admin(actor)
        self.check_password_policy(password)
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()

        def _txn(conn: sa.Connection) -> tuple[User, list[SessionId]]:
            user = self._user_by_name_txn(conn, username)
            users_repo.update_password_hash(conn, user.id, password_hash, now)
            revoked = sessions_repo.revoke_user_sessions(conn, user.id, now, "password_reset")
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=actor.user.id if actor else None,
                action="user.password_reset",
                target_type="user",
                target_id=str(user.id),
            )
            return user, revoked

        user, revoked = await self._db.write(_txn)
        await self._publish_revoked(user.id, revoked, "password_reset")
        return user

    async def change_own_password(self, principal: Principal, current: str, new: str) -> None:
        """The user changes their own password; their other sessions end."""
        self.check_password_policy(new)

        def _lookup_txn(conn: sa.Connection) -> tuple[User, str | None] | None:
            found = users_repo.select_user_with_hash_by_username(conn, principal.user.username)
            return found

        found = await self._db.read(_lookup_txn)
        if found is None or not await self._hasher.verify(found[1], current):
            raise Forbidden("current_password_wrong", "The current password is wrong.")
        password_hash = await self._hasher.hash(new)
        now = self._clock.now()

        def _change_txn(conn: sa.Connection) -> list[SessionId]:
            users_repo.update_password_hash(conn, principal.user.id, password_hash, now)
            revoked = sessions_repo.revoke_user_sessions(
                conn, principal.user.id, now, "password_changed", keep=principal.session_id
            )
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=principal.user.id,
                action="user.password_change",
                target_type="user",
                target_id=str(principal.user.id),
            )
            return revoked

        revoked = await self._db.write(_change_txn)
        await self._publish_revoked(principal.user.id, revoked, "password_changed")

    async def deactivate(self, actor: Principal | None, username: str) -> User:
        """Deactivates a user: every session and socket of theirs ends at once."""
        _require_admin(actor)
        now = self._clock.now()

        def _txn(conn: sa.Connection) -> tuple[User, list[SessionId]]:
            user = self._user_by_name_txn(conn, username)
            if actor is not None and user.id == actor.user.id:
                raise InvalidInput("cannot_deactivate_self", "You cannot deactivate yourself.")
            users_repo.update_user_deactivated(conn, user.id, now)
            revoked = sessions_repo.revoke_user_sessions(conn, user.id, now, "deactivated")
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=actor.user.id if actor else None,
                action="user.deactivate",
                target_type="user",
                target_id=str(user.id),
            )
            return user, revoked

        user, revoked = await self._db.write(_txn)
        await self._publish_revoked(user.id, revoked, "deactivated", all_sessions=True)
        return dataclasses.replace(user, deactivated_at=now)

    async def reactivate(self, actor: Principal | None, username: str) -> User:
        _require_admin(actor)
        now = self._clock.now()

        def _txn(conn: sa.Connection) -> User:
            user = self._user_by_name_txn(conn, username)
            users_repo.update_user_deactivated(conn, user.id, None)
            audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=actor.user.id if actor else None,
                action="user.reactivate",
                target_type="user",
                target_id=str(user.id),
            )
            return user

        user = await self._db.write(_txn)
        return dataclasses.replace(user, deactivated_at=None)

    async def list_users(
        self, *, after_id: int = 0, limit: int = 100, include_inactive: bool = False
    ) -> list[User]:
        return await self._db.read(
            lambda conn: users_repo.select_users(
                conn, after_id=after_id, limit=limit, include_inactive=include_inactive
            )
        )

    async def get_user(self, user_id: UserId) -> User:
        def _txn(conn: sa.Connection) -> User | None:
            user = users_repo.select_user(conn, user_id)
            return user

        user = await self._db.read(_txn)
        if user is None:
            raise NotFound("user_not_found", "No such user.")
        return user

    async def get_profile(self, user_id: UserId) -> Profile:
        def _txn(conn: sa.Connection) -> Profile | None:
            profile = users_repo.select_profile(conn, user_id)
            return profile

        profile = await self._db.read(_txn)
        if profile is None:
            raise NotFound("user_not_found", "No such user.")
        return profile

    async def update_own_profile(self, principal: Principal, changes: dict[str, Any]) -> Profile:
        """Display name, status message, work status, contact details, locale."""
        allowed = {
            "display_name",
            "status_message",
            "work_status",
            "title",
            "email",
            "phone",
            "locale",
        }
        values = {k: v for k, v in changes.items() if k in allowed}
        if "work_status" in values and values["work_status"] not in WORK_STATUSES:
            raise InvalidInput(
                "work_status_invalid", "Unknown work status.", {"allowed": list(WORK_STATUSES)}
            )
        if "display_name" in values and not str(values["display_name"]).strip():
            raise InvalidInput("display_name_empty", "The display name cannot be empty.")

        def _txn(conn: sa.Connection) -> Profile | None:
            if values:
                users_repo.update_profile(conn, principal.user.id, values, self._clock.now())
            profile = users_repo.select_profile(conn, principal.user.id)
            return profile

        profile = await self._db.write(_txn)
        assert profile is not None  # noqa: S101 -- the caller's own profile always exists
        if values:
            # Presence watchers show the work status and name live (docs/protocol.md).
            frame = {
                "type": "profile.updated",
                "user_id": profile.user_id,
                "display_name": profile.display_name,
                "work_status": profile.work_status,
                "status_message": profile.status_message,
            }
            await self._bus.publish(user_topic(profile.user_id), encode_frame(frame))
        return profile

    async def get_profiles(self, user_ids: set[int]) -> dict[UserId, Profile]:
        """Profiles of many users in one statement (unknown ids are left out)."""
        return await self._db.read(lambda conn: users_repo.select_profiles(conn, user_ids))

    async def touch_last_seen(self, user_id: UserId, at: dt.datetime) -> None:
        """Records when the user was last connected (presence "last seen")."""
        await self._db.write(lambda conn: users_repo.update_last_seen(conn, user_id, at))

    def _user_by_name_txn(self, conn: Any, username: str) -> User:
        found = users_repo.select_user_with_hash_by_username(conn, normalise_username(username))
        if found is None:
            raise NotFound("user_not_found", "No such user.")
        return found[0]

    async def _publish_revoked(
        self, user_id: UserId, session_ids: list[Any], reason: str, *, all_sessions: bool = False
    ) -> None:
        if not session_ids and not all_sessions:
            return
        event = SessionsRevoked(
            user_id=user_id,
            session_ids=tuple(session_ids),
            all_sessions=all_sessions,
            reason=reason,
        )
        await self._bus.publish(user_topic(user_id), event.encode())


def _require_admin(actor: Principal | None) -> None:
    if actor is not None and not actor.user.is_admin:
        raise Forbidden("admin_required", "Only an administrator can do this.")
