"""Bad input at the HTTP edge (reliability.md §4): malformed or hostile JSON, oversized bodies,
wrong shapes. Every refusal is a stable code in the ``{"code", "message", "data"}`` shape, never a
500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sodam.config import Settings
from tests.support.factories import LoggedIn

JSON = {"Content-Type": "application/json"}


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "data"}, body
    assert body["code"] == code, body
    return body


async def _post_raw(client: httpx.AsyncClient, path: str, content: bytes) -> httpx.Response:
    return await client.post(path, content=content, headers=JSON)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"username": "admin", "password": ', id="truncated"),
        pytest.param(b"{'username': 'admin'}", id="single-quotes"),
        pytest.param(b'{"username": "admin", "password": "x",}', id="trailing-comma"),
        pytest.param(
            b'{"username": "admin", "username": "root", "password": "x"}', id="duplicate-key"
        ),
        pytest.param(b'{"username": "admin", "password": NaN}', id="nan"),
        pytest.param(b'{"username": "admin", "password": Infinity}', id="infinity"),
        pytest.param(b'{"username": "admin", "password": -Infinity}', id="minus-infinity"),
        pytest.param(b'{"username": "admin", "password": 1e999}', id="float-overflow"),
        pytest.param(b'{"username": "admin", "password": 1' + b"0" * 30 + b"}", id="huge-int"),
        pytest.param(b'{"username": "admin", "password": -1' + b"0" * 30 + b"}", id="huge-neg"),
        pytest.param(b'{"username": "\xff\xfe", "password": "x"}', id="invalid-utf8"),
        pytest.param(b"[" * 40 + b"]" * 40, id="nested-40"),
        pytest.param(b'{"a":' * 40 + b"1" + b"}" * 40, id="nested-objects-40"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-100k"),
    ],
)
async def test_hostile_json_is_refused_as_invalid_json(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    for path in ("/api/auth/login", "/api/auth/refresh"):
        assert_error(await _post_raw(client, path, raw), 400, "invalid_json")


async def test_hostile_json_is_refused_on_authenticated_routes_too(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await client.patch(
        "/api/me/profile",
        content=b'{"title": "a", "title": "b"}',
        headers={**JSON, **admin.headers},
    )
    assert_error(r, 400, "invalid_json")


async def test_moderate_nesting_is_parsed_and_then_validated(client: httpx.AsyncClient) -> None:
    # Nesting below the limit is valid JSON: the schema, not the parser, refuses it.
    raw = b'{"username": "admin", "password": ' + b"[" * 10 + b"]" * 10 + b"}"
    assert_error(await _post_raw(client, "/api/auth/login", raw), 422, "validation_failed")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"username": "admin"}, id="missing-field"),
        pytest.param({"username": "admin", "password": "x", "is_admin": True}, id="extra-field"),
        pytest.param({"username": ["admin"], "password": "x"}, id="wrong-type"),
        pytest.param({"username": "", "password": "x"}, id="empty"),
        pytest.param({"username": "a" * 65, "password": "x"}, id="too-long"),
        pytest.param(["admin", "x"], id="array"),
    ],
)
async def test_well_formed_json_of_the_wrong_shape_fails_validation(
    client: httpx.AsyncClient, body: Any
) -> None:
    r = await client.post("/api/auth/login", json=body)
    data = assert_error(r, 422, "validation_failed")["data"]
    assert data["errors"], data


async def test_json_without_a_json_content_type_fails_validation(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/auth/login",
        content=b'{"username": "admin", "password": "x"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_error(r, 422, "validation_failed")


# --- body size -----------------------------------------------------------------------------------


def _padded_login(size: int) -> bytes:
    """A syntactically valid login body of exactly ``size`` bytes (padded with whitespace)."""
    core = b'{"username": "nobody", "password": "wrong-password"}'
    assert size >= len(core)
    return core[:-1] + b" " * (size - len(core)) + b"}"


async def test_body_at_the_limit_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    body = _padded_login(settings.limits.request_body_max_bytes)
    assert_error(await _post_raw(client, "/api/auth/login", body), 401, "invalid_credentials")


async def test_body_over_the_limit_by_content_length_is_413(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.limits.request_body_max_bytes
    r = await _post_raw(client, "/api/auth/login", _padded_login(limit + 1))
    body = assert_error(r, 413, "payload_too_large")
    assert body["data"] == {"max_bytes": limit}


async def test_streamed_body_without_content_length_is_cut_at_the_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.limits.request_body_max_bytes
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"username": "nobody", "password": "'
        # Far more than the limit: the server must stop reading long before the end.
        for _ in range(64):
            sent += 64 * 1024
            yield b"x" * (64 * 1024)
        yield b'"}'

    request = client.build_request("POST", "/api/auth/login", content=chunks(), headers=JSON)
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    r = await client.send(request)
    body = assert_error(r, 413, "payload_too_large")
    assert body["data"] == {"max_bytes": limit}
    assert sent <= limit + 64 * 1024, "the server read the whole oversized body"


async def test_streamed_body_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "nobody", '
        yield b'"password": "wrong-password"}'

    r = await client.post("/api/auth/login", content=chunks(), headers=JSON)
    assert_error(r, 401, "invalid_credentials")


# --- the error shape everywhere ------------------------------------------------------------------


async def test_unknown_route_and_wrong_method_use_the_error_shape(
    client: httpx.AsyncClient,
) -> None:
    assert_error(await client.get("/api/no-such-thing"), 404, "not_found")
    assert_error(await client.get("/api/auth/login"), 405, "method_not_allowed")
