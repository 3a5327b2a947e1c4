"""Typed FastAPI dependencies: the services, the caller and where the request came from."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sodam.config import Settings
from sodam.errors import Forbidden, Unauthenticated
from sodam.observability.context import user_id_var
from sodam.services.accounts import AccountService
from sodam.services.auth import AuthService
from sodam.services.container import Services
from sodam.services.context import ClientInfo, Principal

bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /api/auth/login")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def auth_service(request: Request) -> AuthService:
    return get_services(request).auth


# Dependencies are coroutine functions, however trivial: FastAPI runs a plain ``def`` dependency
# in its thread pool, a round trip through another thread (and the GIL) on every request.
async def get_auth_service(request: Request) -> AuthService:
    return auth_service(request)


async def get_account_service(request: Request) -> AccountService:
    return get_services(request).accounts


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The peer address, or the last untrusted X-Forwarded-For hop behind a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


async def get_client_info(request: Request) -> ClientInfo:
    settings = get_settings(request)
    return ClientInfo(
        ip_address=client_ip(request, settings.trusted_proxies),
        user_agent=(request.headers.get("user-agent") or "")[:300] or None,
        device_name=(request.headers.get("x-device-name") or "")[:100] or None,
    )


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("unauthenticated", "An access token is required.")
    principal = await auth_service(request).authenticate(credentials.credentials)
    user_id_var.set(principal.user.id)
    return principal


async def get_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.user.is_admin:
        raise Forbidden("admin_required", "Only an administrator can do this.")
    return principal


Auth = Annotated[AuthService, Depends(get_auth_service)]
Accounts = Annotated[AccountService, Depends(get_account_service)]
Client = Annotated[ClientInfo, Depends(get_client_info)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AdminPrincipal = Annotated[Principal, Depends(get_admin)]
