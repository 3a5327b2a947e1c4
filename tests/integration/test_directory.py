"""Several profiles at once, and the limits a client learns from /api/server-info."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.services.passwords import PasswordHasher
from tests.support.factories import LoggedIn, create_user


async def test_profiles_of_several_people_in_one_request(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    kim = await create_user(client, admin, display_name="김민수")
    lee = await create_user(client, admin, display_name="이영희")
    r = await client.patch(
        "/api/me/profile",
        json={"status_message": "회의 중", "work_status": "meeting"},
        headers=lee.headers,
    )
    assert r.status_code == 200, r.text

    r = await client.get(
        "/api/profiles",
        params=[("ids", lee.user_id), ("ids", kim.user_id), ("ids", 999_999)],
        headers=kim.headers,
    )

    assert r.status_code == 200, r.text
    got = [
        (p["user_id"], p["display_name"], p["work_status"], p["status_message"]) for p in r.json()
    ]
    assert got == [
        (lee.user_id, "이영희", "meeting", "회의 중"),
        (kim.user_id, "김민수", "working", None),
    ]


async def test_profiles_need_a_session_and_at_most_200_ids(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    assert (await client.get("/api/profiles", params={"ids": 1})).status_code == 401
    r = await client.get(
        "/api/profiles", params=[("ids", i) for i in range(1, 202)], headers=admin.headers
    )
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"


async def test_server_info_tells_the_configured_limits(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/server-info")
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["message_max_chars"] == 10_000
    assert info["edit_window_s"] == 24 * 3600
    assert info["unsend_window_s"] == 24 * 3600
    assert info["attachment_max_bytes"] == 300 * 1024 * 1024
    assert info["virus_scanning"] is False


async def test_server_info_tells_whether_files_are_scanned(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> None:
    scanning = settings.model_copy(
        update={"files": settings.files.model_copy(update={"clamd_url": "tcp://127.0.0.1:9"})}
    )
    application = build_app(scanning, Overrides(clock=clock, hasher=fast_hasher))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.get("/api/server-info")
    assert r.status_code == 200, r.text
    assert r.json()["virus_scanning"] is True
