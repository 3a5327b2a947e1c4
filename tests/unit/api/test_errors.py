"""The one table from error codes to HTTP statuses (sodam.api.errors)."""

from __future__ import annotations

import orjson
import pytest

from sodam.api.errors import CLASS_STATUS, error_response, status_for
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


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput(), 400),
        (PayloadTooLarge(), 413),
        (Unauthenticated(), 401),
        (Forbidden(), 403),
        (NotFound(), 404),
        (Conflict(), 409),
        (RateLimited(), 429),
        (Unavailable(), 503),
        (AppError(), 500),
    ],
)
def test_each_error_class_has_its_status(error: AppError, status: int) -> None:
    assert status_for(error) == status


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("validation_failed"), 422),
        (InvalidInput("unsupported_media_type"), 415),
        (Unavailable("insufficient_storage"), 507),
        (InvalidInput("method_not_allowed"), 405),
    ],
)
def test_listed_codes_override_their_class_status(error: AppError, status: int) -> None:
    assert status_for(error) == status


def test_a_more_specific_class_wins_over_its_parent() -> None:
    # PayloadTooLarge is an InvalidInput, but 413, not 400.
    assert issubclass(PayloadTooLarge, InvalidInput)
    assert status_for(PayloadTooLarge("message_too_long")) == 413


def test_a_new_subclass_inherits_its_parents_status() -> None:
    class RoomNotFound(NotFound):
        default_code = "room_not_found"

    assert status_for(RoomNotFound()) == 404


def test_every_error_class_has_a_distinct_default_code() -> None:
    codes = [cls.default_code for cls in CLASS_STATUS]
    assert len(codes) == len(set(codes))
    assert AppError.default_code not in codes


def test_error_body_has_exactly_code_message_and_data() -> None:
    r = error_response(NotFound("user_not_found", "No such user.", {"id": 3}))
    assert r.status_code == 404
    assert orjson.loads(r.body) == {
        "code": "user_not_found",
        "message": "No such user.",
        "data": {"id": 3},
    }
    assert r.media_type == "application/json"


def test_defaults_fill_message_and_data() -> None:
    body = orjson.loads(error_response(Forbidden()).body)
    assert body == {"code": "forbidden", "message": Forbidden.default_message, "data": {}}


def test_401_asks_for_a_bearer_token() -> None:
    r = error_response(Unauthenticated("token_expired"))
    assert r.headers["www-authenticate"] == 'Bearer realm="sodam"'


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        (RateLimited("login_rate_limited", data={"retry_after_s": 900}), "900"),
        (RateLimited(), "1"),
        (Unavailable("database_unavailable"), "1"),
    ],
)
def test_retryable_errors_say_when_to_retry(error: AppError, retry_after: str) -> None:
    assert error_response(error).headers["retry-after"] == retry_after


def test_other_errors_carry_no_retry_or_auth_headers() -> None:
    headers = error_response(Conflict("username_taken")).headers
    assert "retry-after" not in headers
    assert "www-authenticate" not in headers


def test_app_errors_know_nothing_about_http() -> None:
    error = Conflict("username_taken", "That user name is already taken.")
    assert str(error) == "username_taken: That user name is already taken."
    assert error.to_dict() == {
        "code": "username_taken",
        "message": "That user name is already taken.",
        "data": {},
    }
