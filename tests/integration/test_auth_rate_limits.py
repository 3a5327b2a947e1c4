"""Login rate limits per account and per address (reliability.md §4, "passwords")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from tests.support.factories import LoggedIn

PER_ACCOUNT = 3
PER_ADDRESS = 5
WINDOW_S = 600


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    # ``database_url`` is named so pytest keeps its SQLite/PostgreSQL parametrisation.
    assert settings.database_url == database_url
    auth = settings.auth.model_copy(
        update={
            "login_max_failures_per_account": PER_ACCOUNT,
            "login_max_failures_per_address": PER_ADDRESS,
            "login_window_s": WINDOW_S,
        }
    )
    return settings.model_copy(update={"auth": auth})


@pytest.fixture
async def other_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client at another address than ``client``."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def _fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        r = await _login(client, username, "wrong-password")
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "invalid_credentials"


def _assert_rate_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json() == {
        "code": "login_rate_limited",
        "message": r.json()["message"],
        "data": {"retry_after_s": WINDOW_S},
    }
    assert r.headers["retry-after"] == str(WINDOW_S)


async def test_too_many_failures_lock_the_account_even_for_the_right_password(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await _fail(client, "admin", PER_ACCOUNT)
    _assert_rate_limited(await _login(client, "admin", admin.password))
    # The limit is on the account, so another address does not get around it.
    _assert_rate_limited(await _login(other_client, "admin", admin.password))


async def test_one_failure_below_the_limit_still_lets_the_right_password_in(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await _fail(client, "admin", PER_ACCOUNT - 1)
    assert (await _login(client, "admin", admin.password)).status_code == 200


async def test_account_lock_lifts_after_the_window(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    await _fail(client, "admin", PER_ACCOUNT)
    _assert_rate_limited(await _login(client, "admin", admin.password))
    clock.advance(WINDOW_S + 1)
    assert (await _login(client, "admin", admin.password)).status_code == 200


async def test_a_successful_login_clears_the_accounts_failures(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await _fail(client, "admin", PER_ACCOUNT - 1)
    assert (await _login(client, "admin", admin.password)).status_code == 200
    await _fail(client, "admin", PER_ACCOUNT - 1)
    assert (await _login(client, "admin", admin.password)).status_code == 200


async def test_unknown_user_names_are_rate_limited_like_real_ones(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await _fail(client, "nobody", PER_ACCOUNT)
    _assert_rate_limited(await _login(client, "nobody", "wrong-password"))


async def test_too_many_failures_from_one_address_block_every_account_from_it(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    # Spread over several user names, so no single account reaches its own limit.
    for n in range(PER_ADDRESS):
        await _fail(client, f"guess{n}", 1)
    _assert_rate_limited(await _login(client, "admin", admin.password))
    # Another address is not affected.
    assert (await _login(other_client, "admin", admin.password)).status_code == 200
