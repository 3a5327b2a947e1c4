"""Application errors with stable machine-readable codes.

Nothing here knows about HTTP: ``sodam.api.errors`` holds the one table that maps codes to statuses,
and the WebSocket gateway sends the same ``{"code", "message", "data"}`` shape in its error frames.

Hierarchy::

    AppError
    ├── InvalidInput         (400-ish: the request itself is wrong)
    │   └── PayloadTooLarge
    ├── Unauthenticated      (no or bad credentials)
    ├── Forbidden            (authenticated, but the action is not allowed)
    ├── NotFound             (absent, or not visible to the caller: never reveals which)
    ├── Conflict             (state does not allow the action)
    ├── RateLimited
    └── Unavailable          (a dependency is down; retryable)

``message`` is an English default; clients translate by ``code`` (Korean first), so codes never
change once released.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class AppError(Exception):
    """Base error: a stable ``code``, a default English ``message`` and structured ``data``."""

    default_code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal error."

    def __init__(
        self,
        code: str | None = None,
        message: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.message = message or self.default_message
        self.data: dict[str, Any] = dict(data or {})
        super().__init__(f"{self.code}: {self.message}")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.data}


class InvalidInput(AppError):
    default_code = "invalid_input"
    default_message = "The request is not valid."


class PayloadTooLarge(InvalidInput):
    default_code = "payload_too_large"
    default_message = "The request is too large."


class Unauthenticated(AppError):
    default_code = "unauthenticated"
    default_message = "Authentication is required."


class Forbidden(AppError):
    default_code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(AppError):
    default_code = "not_found"
    default_message = "Not found."


class Conflict(AppError):
    default_code = "conflict"
    default_message = "The request conflicts with the current state."


class RateLimited(AppError):
    default_code = "rate_limited"
    default_message = "Too many requests; try again later."


class Unavailable(AppError):
    default_code = "unavailable"
    default_message = "The service is temporarily unavailable; try again."
