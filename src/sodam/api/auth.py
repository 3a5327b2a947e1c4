"""Login, token refresh, logout, and the caller's sessions and devices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sodam.api.deps import Auth, Client, CurrentPrincipal
from sodam.api.strictjson import StrictJSONRoute
from sodam.domain.ids import SessionId, UserId
from sodam.services.auth import AuthService

MEDIA_COOKIE = "sodam_media"
MEDIA_COOKIE_PATH = "/api/files"


def set_media_cookie(
    request: Request, response: Response, auth: AuthService, user_id: int, session_id: str, ttl: int
) -> None:
    """The browser's credential for <img src> and download links (docs/files.md): a media-only
    token, HttpOnly, SameSite=Strict, sent only to /api/files."""
    settings = request.app.state.settings
    secure = request.url.scheme == "https" or str(settings.public_base_url or "").startswith(
        "https:"
    )
    response.set_cookie(
        MEDIA_COOKIE,
        auth.media_token(UserId(user_id), SessionId(session_id)),
        max_age=ttl,
        path=MEDIA_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=StrictJSONRoute)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    device_name: str | None = Field(
        default=None, max_length=100, description="Shown in the sessions list, e.g. '회사 PC'"
    )


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=200)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int = Field(description="Seconds until the access token expires")
    token_type: str = "Bearer"  # noqa: S105 -- the scheme name, not a secret
    session_id: str
    user_id: int


class SessionOut(BaseModel):
    id: str
    device_name: str | None
    user_agent: str | None
    ip_address: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "invalid_credentials, refresh_invalid, token_reused"},
    429: {"description": "login_rate_limited"},
}


@router.post("/login", operation_id="auth_login", response_model=TokensOut, responses=ERRORS)
async def login(
    body: LoginIn, auth: Auth, client: Client, request: Request, response: Response
) -> TokensOut:
    """Log in with a user name and password; opens a session (a device). Also sets the
    ``sodam_media`` cookie browsers use for file downloads."""
    if body.device_name:
        client = type(client)(client.ip_address, client.user_agent, body.device_name)
    pair = await auth.login(body.username, body.password, client)
    set_media_cookie(request, response, auth, pair.user_id, pair.session_id, pair.expires_in)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        session_id=pair.session_id,
        user_id=pair.user_id,
    )


@router.post("/refresh", operation_id="auth_refresh", response_model=TokensOut, responses=ERRORS)
async def refresh(
    body: RefreshIn, auth: Auth, client: Client, request: Request, response: Response
) -> TokensOut:
    """Exchange a refresh token for new tokens. Each refresh token works once; using one twice
    ends the session. Renews the ``sodam_media`` cookie."""
    pair = await auth.refresh(body.refresh_token, client)
    set_media_cookie(request, response, auth, pair.user_id, pair.session_id, pair.expires_in)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        session_id=pair.session_id,
        user_id=pair.user_id,
    )


@router.post("/logout", operation_id="auth_logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: CurrentPrincipal, auth: Auth, client: Client, response: Response
) -> None:
    """End the current session; its WebSocket connections close at once."""
    await auth.logout(principal, client)
    response.delete_cookie(MEDIA_COOKIE, path=MEDIA_COOKIE_PATH, httponly=True, samesite="strict")


@router.get("/sessions", operation_id="auth_list_sessions", response_model=list[SessionOut])
async def list_sessions(principal: CurrentPrincipal, auth: Auth) -> list[SessionOut]:
    """The caller's live sessions (devices), most recently used first."""
    sessions = await auth.list_sessions(principal)
    return [
        SessionOut(
            id=s.id,
            device_name=s.device_name,
            user_agent=s.user_agent,
            ip_address=s.ip_address,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            current=s.id == principal.session_id,
        )
        for s in sessions
    ]


@router.delete(
    "/sessions/{session_id}",
    operation_id="auth_revoke_session",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def revoke_session(
    session_id: Annotated[str, Path(max_length=32)],
    principal: CurrentPrincipal,
    auth: Auth,
    client: Client,
) -> None:
    """Remote logout of one of the caller's sessions."""
    await auth.revoke_session(principal, SessionId(session_id), client)
