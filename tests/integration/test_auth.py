"""Login, access tokens, refresh rotation, logout and the caller's sessions, over HTTP.

Runs on SQLite and PostgreSQL (the ``database_url`` fixture is parametrised).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from tests.support.factories import DEFAULT_PASSWORD, LoggedIn, create_user, login

ATTACKER_KEY = "attacker-controlled-key-that-is-long-enough-0123456789"


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "data"}, body
    assert body["code"] == code, body
    return body


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    """The claims of one of our own tokens (to forge a copy that differs only in its signing)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/me", headers=_bearer(token))


# --- login ---------------------------------------------------------------------------------------


async def test_login_answers_an_access_token_a_refresh_token_and_its_lifetime(
    client: httpx.AsyncClient, admin: LoggedIn, settings: Settings
) -> None:
    r = await client.post("/api/auth/login", json={"username": "admin", "password": admin.password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"access_token", "refresh_token", "expires_in"} <= set(body)
    assert body["expires_in"] == settings.auth.access_token_ttl_s
    assert body["token_type"] == "Bearer"
    me = await _me(client, body["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["user"]["username"] == "admin"
    assert me.json()["session_id"] == body["session_id"]


async def test_user_names_are_case_insensitive_at_login(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await create_user(client, admin, username="kim.minsu")
    logged_in = await login(client, "  Kim.MinSu ")
    assert (await _me(client, logged_in.access_token)).json()["user"]["username"] == "kim.minsu"


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    wrong = await client.post(
        "/api/auth/login", json={"username": "admin", "password": "not-the-password"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"username": "nobody", "password": "not-the-password"}
    )
    assert_error(wrong, 401, "invalid_credentials")
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


async def test_deactivated_user_cannot_log_in_and_gets_the_wrong_password_answer(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    r = await client.post(f"/api/admin/users/{user.username}/deactivate", headers=admin.headers)
    assert r.status_code == 200, r.text

    right = await client.post(
        "/api/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    wrong = await client.post(
        "/api/auth/login", json={"username": user.username, "password": "not-the-password"}
    )
    assert_error(right, 401, "invalid_credentials")
    assert right.json() == wrong.json()


# --- access tokens -------------------------------------------------------------------------------


async def test_missing_authorization_is_401_with_www_authenticate(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/me")
    assert_error(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"].lower().startswith("bearer")


async def test_access_token_works_until_it_expires(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock, settings: Settings
) -> None:
    clock.advance(settings.auth.access_token_ttl_s - 1)
    assert (await _me(client, admin.access_token)).status_code == 200

    clock.advance(settings.auth.token_leeway_s + 2)
    r = await _me(client, admin.access_token)
    assert_error(r, 401, "token_expired")
    assert "www-authenticate" in r.headers


async def test_token_signed_with_another_key_is_invalid(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    forged = jwt.encode(_claims(admin.access_token), ATTACKER_KEY, algorithm="HS256")
    assert_error(await _me(client, forged), 401, "token_invalid")


async def test_unsigned_alg_none_token_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    claims = _claims(admin.access_token)
    for alg in ("none", "None", "NONE"):
        unsigned = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}."
        assert_error(await _me(client, unsigned), 401, "token_invalid")


async def test_key_carried_in_the_token_header_is_never_used(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    claims = _claims(admin.access_token)
    attacker_jwk = {
        "kty": "oct",
        "k": base64.urlsafe_b64encode(ATTACKER_KEY.encode()).rstrip(b"=").decode(),
    }
    with_jwk = jwt.encode(claims, ATTACKER_KEY, algorithm="HS256", headers={"jwk": attacker_jwk})
    with_jku = jwt.encode(
        claims,
        ATTACKER_KEY,
        algorithm="HS256",
        headers={"jku": "http://attacker.example/jwks.json", "kid": "attacker"},
    )
    with_x5u = jwt.encode(
        claims, ATTACKER_KEY, algorithm="HS256", headers={"x5u": "http://attacker.example/c.pem"}
    )
    rsa_header = {
        "alg": "RS256",
        "typ": "JWT",
        "jwk": {
            "kty": "RSA",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp",
            "e": "AQAB",
        },
    }
    rs256_with_jwk = f"{_b64(rsa_header)}.{_b64(claims)}.c2lnbmF0dXJl"
    for token in (with_jwk, with_jku, with_x5u, rs256_with_jwk):
        assert_error(await _me(client, token), 401, "token_invalid")


async def test_token_with_wrong_audience_or_issuer_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn, settings: Settings
) -> None:
    key = settings.resolved_secret_key()
    claims = _claims(admin.access_token)
    for change in ({"aud": "another-api"}, {"iss": "https://idp.example"}, {"typ": "refresh"}):
        forged = jwt.encode({**claims, **change}, key, algorithm="HS256")
        assert_error(await _me(client, forged), 401, "token_invalid")


async def test_garbage_bearer_token_is_invalid(client: httpx.AsyncClient) -> None:
    assert_error(await _me(client, "not.a.jwt"), 401, "token_invalid")


# --- refresh rotation ----------------------------------------------------------------------------


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": refresh_token})


async def test_refresh_rotates_the_refresh_token_in_the_same_session(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await _refresh(client, admin.refresh_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refresh_token"] != admin.refresh_token
    assert body["session_id"] == admin.session_id
    assert (await _me(client, body["access_token"])).status_code == 200


async def test_reused_refresh_token_revokes_the_session(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    first = await _refresh(client, admin.refresh_token)
    assert first.status_code == 200, first.text
    newest = first.json()

    reuse = await _refresh(client, admin.refresh_token)
    assert_error(reuse, 401, "token_reused")

    # The whole session ended: its newest access token and newest refresh token are dead too.
    assert_error(await _me(client, newest["access_token"]), 401, "session_ended")
    assert_error(await _me(client, admin.access_token), 401, "session_ended")
    assert_error(await _refresh(client, newest["refresh_token"]), 401, "refresh_invalid")


async def test_reuse_ends_only_the_session_it_belongs_to(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    other = await login(client, "admin", admin.password)
    assert (await _refresh(client, admin.refresh_token)).status_code == 200
    assert_error(await _refresh(client, admin.refresh_token), 401, "token_reused")
    assert (await _me(client, other.access_token)).status_code == 200


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_error(await _refresh(client, "no-such-token"), 401, "refresh_invalid")


async def test_refresh_token_expires_after_its_lifetime(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock, settings: Settings
) -> None:
    clock.advance(settings.auth.refresh_token_ttl_s + 1)
    assert_error(await _refresh(client, admin.refresh_token), 401, "refresh_invalid")


# --- logout and sessions -------------------------------------------------------------------------


async def test_logout_refuses_the_access_token_at_once(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await client.post("/api/auth/logout", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert_error(await _me(client, admin.access_token), 401, "session_ended")
    assert_error(await _refresh(client, admin.refresh_token), 401, "refresh_invalid")


async def test_sessions_list_shows_device_names_and_the_current_session(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    pc = await login(client, user.username, device_name="회사 PC")
    phone = await login(client, user.username, device_name="휴대폰")

    r = await client.get("/api/auth/sessions", headers=phone.headers)
    assert r.status_code == 200, r.text
    by_id = {s["id"]: s for s in r.json()}
    assert set(by_id) == {user.session_id, pc.session_id, phone.session_id}
    assert by_id[pc.session_id]["device_name"] == "회사 PC"
    assert by_id[phone.session_id]["device_name"] == "휴대폰"
    assert [sid for sid, s in by_id.items() if s["current"]] == [phone.session_id]


async def test_revoking_one_of_my_sessions_logs_that_device_out(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    other = await login(client, user.username, device_name="노트북")

    r = await client.delete(f"/api/auth/sessions/{other.session_id}", headers=user.headers)
    assert r.status_code == 204, r.text
    assert_error(await _me(client, other.access_token), 401, "session_ended")
    assert_error(await _refresh(client, other.refresh_token), 401, "refresh_invalid")
    assert (await _me(client, user.access_token)).status_code == 200
    listed = await client.get("/api/auth/sessions", headers=user.headers)
    assert [s["id"] for s in listed.json()] == [user.session_id]


async def test_another_users_session_cannot_be_revoked_and_looks_absent(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    foreign = await client.delete(f"/api/auth/sessions/{admin.session_id}", headers=user.headers)
    missing = await client.delete(f"/api/auth/sessions/{'0' * 32}", headers=user.headers)
    assert_error(foreign, 404, "session_not_found")
    assert foreign.json() == missing.json()
    assert (await _me(client, admin.access_token)).status_code == 200


@pytest.mark.parametrize("device_header", [True, False])
async def test_device_name_can_come_from_a_header(
    client: httpx.AsyncClient, admin: LoggedIn, device_header: bool
) -> None:
    headers = {"X-Device-Name": "Galaxy Tab"} if device_header else {}
    r = await client.post(
        "/api/auth/login",
        json={"username": "admin", "password": admin.password},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    sessions = await client.get("/api/auth/sessions", headers=_bearer(r.json()["access_token"]))
    current = next(s for s in sessions.json() if s["current"])
    assert current["device_name"] == ("Galaxy Tab" if device_header else None)
