"""Log lines never contain passwords or tokens (STYLE.md 10, reliability.md §4).

Everything logged while logging in, refreshing, changing a password and logging out goes through
the production JSON formatter at DEBUG level (the most verbose an operator can choose).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from sodam.observability.logging import JsonFormatter
from tests.support.factories import LoggedIn, create_user, login

NEW_PASSWORD = "a-brand-new-password-42"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_login_refresh_and_logout_log_no_tokens_or_passwords(
    client: httpx.AsyncClient, admin: LoggedIn, log_output: io.StringIO
) -> None:
    user = await create_user(client, admin)
    wrong = await client.post(
        "/api/auth/login", json={"username": user.username, "password": "wrong-password-77"}
    )
    assert wrong.status_code == 401
    session = await login(client, user.username)
    r = await client.post("/api/auth/refresh", json={"refresh_token": session.refresh_token})
    assert r.status_code == 200, r.text
    rotated = r.json()
    reused = await client.post("/api/auth/refresh", json={"refresh_token": session.refresh_token})
    assert reused.status_code == 401
    again = await login(client, user.username)
    r = await client.post(
        "/api/me/password",
        json={"current_password": user.password, "new_password": NEW_PASSWORD},
        headers=again.headers,
    )
    assert r.status_code == 204, r.text
    r = await client.post("/api/auth/logout", headers=again.headers)
    assert r.status_code == 204, r.text

    output = log_output.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    # The capture works: the request log saw every call, by route template.
    routes = {line["msg"] for line in lines if line["logger"] == "sodam.access"}
    assert {"POST /api/auth/login 200", "POST /api/auth/refresh 401"} <= routes

    secrets = {
        "admin access token": admin.access_token,
        "admin refresh token": admin.refresh_token,
        "access token": session.access_token,
        "refresh token": session.refresh_token,
        "rotated access token": rotated["access_token"],
        "rotated refresh token": rotated["refresh_token"],
        "later access token": again.access_token,
        "later refresh token": again.refresh_token,
        "password": user.password,
        "wrong password": "wrong-password-77",
        "new password": NEW_PASSWORD,
        "admin password": admin.password,
    }
    leaked = [name for name, value in secrets.items() if value in output]
    assert leaked == []


async def test_a_token_in_a_log_message_is_masked(log_output: io.StringIO) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwic2lkIjoiYWJjIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    logging.getLogger("sodam.test").warning("client sent Authorization: Bearer %s", token)
    logging.getLogger("sodam.test").info("retrying", extra={"refresh_token": "opaque-value"})
    output = log_output.getvalue()
    assert token not in output
    assert "opaque-value" not in output
    assert output.count("[REDACTED]") == 2
