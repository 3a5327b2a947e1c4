"""The services one app instance uses, built by ``sodam.app`` and handed to the edges."""

from __future__ import annotations

from dataclasses import dataclass

from sodam.services.accounts import AccountService
from sodam.services.auth import AuthService
from sodam.services.health import HealthService


@dataclass(frozen=True, slots=True)
class Services:
    auth: AuthService
    accounts: AccountService
    health: HealthService
