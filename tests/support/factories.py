"""Test data builders that take keyword overrides, and small HTTP helpers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass
class LoggedIn:
    user_id: int
    username: str
    password: str
    access_token: str
    refresh_token: str
    session_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def login(
    client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD, **extra: Any
) -> LoggedIn:
    r = await client.post(
        "/api/auth/login", json={"username": username, "password": password, **extra}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return LoggedIn(
        user_id=body["user_id"],
        username=username,
        password=password,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        session_id=body["session_id"],
    )


async def create_user(client: httpx.AsyncClient, admin: LoggedIn, **overrides: Any) -> LoggedIn:
    """Creates a user through the admin API and logs them in."""
    n = next(_counter)
    body = {"username": f"user{n}", "password": DEFAULT_PASSWORD, "display_name": f"사용자{n}"}
    body.update(overrides)
    r = await client.post("/api/admin/users", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    return await login(client, body["username"], body["password"])
