"""The caller's own account and profile, people, and the admin's user management."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from sodam.api.deps import Accounts, AdminPrincipal, CurrentPrincipal
from sodam.api.strictjson import StrictJSONRoute
from sodam.domain.accounts import Profile, User
from sodam.domain.ids import UserId

router = APIRouter(prefix="/api", tags=["users"], route_class=StrictJSONRoute)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    is_admin: bool
    is_bot: bool
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            is_admin=user.is_admin,
            is_bot=user.is_bot,
            active=user.is_active,
            created_at=user.created_at,
        )


class ProfileOut(BaseModel):
    user_id: int
    display_name: str
    title: str | None
    email: str | None
    phone: str | None
    status_message: str | None
    work_status: str = Field(description="working | meeting | vacation | off")
    locale: str
    last_seen_at: dt.datetime | None

    @classmethod
    def of(cls, p: Profile) -> ProfileOut:
        return cls(
            user_id=p.user_id,
            display_name=p.display_name,
            title=p.title,
            email=p.email,
            phone=p.phone,
            status_message=p.status_message,
            work_status=p.work_status,
            locale=p.locale,
            last_seen_at=p.last_seen_at,
        )


class MeOut(BaseModel):
    user: UserOut
    profile: ProfileOut
    session_id: str


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    status_message: str | None = Field(default=None, max_length=200)
    work_status: str | None = Field(default=None, max_length=20)
    title: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=50)
    locale: str | None = Field(default=None, pattern="^(ko|en)$")


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class UserCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str | None = Field(default=None, max_length=100)
    is_admin: bool = False


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=1024)


@router.get("/me", operation_id="me_get", response_model=MeOut)
async def get_me(principal: CurrentPrincipal, accounts: Accounts) -> MeOut:
    """The caller's account and profile."""
    profile = await accounts.get_profile(principal.user.id)
    return MeOut(
        user=UserOut.of(principal.user),
        profile=ProfileOut.of(profile),
        session_id=principal.session_id,
    )


@router.patch("/me/profile", operation_id="me_update_profile", response_model=ProfileOut)
async def update_profile(
    body: ProfileIn, principal: CurrentPrincipal, accounts: Accounts
) -> ProfileOut:
    """Change the caller's display name, status message (상태 메시지), work status and contacts."""
    changes = body.model_dump(exclude_unset=True)
    return ProfileOut.of(await accounts.update_own_profile(principal, changes))


@router.post(
    "/me/password", operation_id="me_change_password", status_code=status.HTTP_204_NO_CONTENT
)
async def change_password(
    body: PasswordChangeIn, principal: CurrentPrincipal, accounts: Accounts
) -> None:
    """Change the caller's password; every other session of theirs ends."""
    await accounts.change_own_password(principal, body.current_password, body.new_password)


@router.get("/users", operation_id="users_list", response_model=list[UserOut])
async def list_users(
    _principal: CurrentPrincipal,
    accounts: Accounts,
    after_id: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[UserOut]:
    """Active people, by id (keyset paging with ``after_id``)."""
    users = await accounts.list_users(after_id=after_id, limit=limit)
    return [UserOut.of(u) for u in users]


@router.get("/profiles", operation_id="users_get_profiles", response_model=list[ProfileOut])
async def get_profiles(
    _principal: CurrentPrincipal,
    accounts: Accounts,
    ids: Annotated[list[Annotated[int, Field(ge=1, le=2**53)]], Query(max_length=200)],
) -> list[ProfileOut]:
    """Profiles of several people at once (``?ids=1&ids=2``, at most 200); unknown ids are left
    out. For the people list and presence: status message and work status included."""
    found = await accounts.get_profiles(set(ids))
    return [ProfileOut.of(found[UserId(i)]) for i in dict.fromkeys(ids) if UserId(i) in found]


@router.get("/users/{user_id}/profile", operation_id="users_get_profile", response_model=ProfileOut)
async def get_profile(
    user_id: Annotated[int, Path(ge=1, le=2**53)], _principal: CurrentPrincipal, accounts: Accounts
) -> ProfileOut:
    return ProfileOut.of(await accounts.get_profile(UserId(user_id)))


@router.get(
    "/admin/users", operation_id="admin_users_list", response_model=list[UserOut], tags=["admin"]
)
async def admin_list_users(
    _admin: AdminPrincipal,
    accounts: Accounts,
    after_id: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[UserOut]:
    """Every user, deactivated ones included."""
    users = await accounts.list_users(after_id=after_id, limit=limit, include_inactive=True)
    return [UserOut.of(u) for u in users]


@router.post(
    "/admin/users",
    operation_id="admin_users_create",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
)
async def admin_create_user(
    body: UserCreateIn, admin: AdminPrincipal, accounts: Accounts
) -> UserOut:
    user = await accounts.create_user(
        admin,
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        is_admin=body.is_admin,
    )
    return UserOut.of(user)


@router.post(
    "/admin/users/{username}/deactivate",
    operation_id="admin_users_deactivate",
    response_model=UserOut,
    tags=["admin"],
)
async def admin_deactivate(
    username: Annotated[str, Path(max_length=64)], admin: AdminPrincipal, accounts: Accounts
) -> UserOut:
    """Deactivate a user: all their sessions and sockets end at once."""
    return UserOut.of(await accounts.deactivate(admin, username))


@router.post(
    "/admin/users/{username}/reactivate",
    operation_id="admin_users_reactivate",
    response_model=UserOut,
    tags=["admin"],
)
async def admin_reactivate(
    username: Annotated[str, Path(max_length=64)], admin: AdminPrincipal, accounts: Accounts
) -> UserOut:
    return UserOut.of(await accounts.reactivate(admin, username))


@router.post(
    "/admin/users/{username}/password",
    operation_id="admin_users_reset_password",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
)
async def admin_reset_password(
    username: Annotated[str, Path(max_length=64)],
    body: PasswordResetIn,
    admin: AdminPrincipal,
    accounts: Accounts,
) -> None:
    """Set a new password; the user's sessions end."""
    await accounts.set_password(admin, username, body.password)
