"""The one table from error codes to HTTP statuses, and the handlers that apply it.

Every error body has the shape ``{"code", "message", "data"}``; WebSocket error frames reuse it.
A code not listed falls back to its class's status.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sodam.api.wire import WireJSON
from sodam.errors import (
    AppError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    Unavailable,
)

logger = logging.getLogger(__name__)


class ErrorResponse(WireJSON):
    """An ``{"code", "message", "data"}`` body."""


CLASS_STATUS: dict[type[AppError], int] = {
    PayloadTooLarge: 413,
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    Unavailable: 503,
}

# Codes whose status differs from their class's, or that are raised without an AppError class.
CODE_STATUS: dict[str, int] = {
    "validation_failed": 422,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "insufficient_storage": 507,
    "storage_full": 507,
    "upload_content_type_invalid": 415,
    "tus_version_unsupported": 412,
}


def status_for(error: AppError) -> int:
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    for cls in type(error).__mro__:
        if cls in CLASS_STATUS:
            return CLASS_STATUS[cls]
    return 500


def error_response(error: AppError) -> ErrorResponse:
    status = status_for(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="sodam"'
    if status in (429, 503):
        headers["Retry-After"] = str(int(error.data.get("retry_after_s", 1)))
    return ErrorResponse(error.to_dict(), status_code=status, headers=headers)


async def _app_error(_request: Request, exc: Exception) -> ErrorResponse:
    assert isinstance(exc, AppError)  # noqa: S101 -- registered for AppError only
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> ErrorResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors: list[dict[str, Any]] = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            detail = str((err.get("ctx") or {}).get("error", "malformed JSON"))
            return error_response(
                InvalidInput("invalid_json", "The body is not valid JSON.", {"reason": detail})
            )
        errors.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "type": err.get("type"),
                "msg": err.get("msg"),
            }
        )
    return error_response(
        InvalidInput("validation_failed", "Some fields are not valid.", {"errors": errors})
    )


async def _http_error(_request: Request, exc: Exception) -> ErrorResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }.get(exc.status_code, "http_error")
    body = {"code": code, "message": str(exc.detail), "data": {}}
    return ErrorResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(_request: Request, exc: Exception) -> ErrorResponse:
    logger.error("unhandled error", exc_info=exc)
    return ErrorResponse(
        {"code": "internal_error", "message": "Internal error.", "data": {}}, status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
