"""Presence with the real services, on SQLite and PostgreSQL: last seen is stored and served from
the profile, profile changes reach watchers, and a watch costs one profile query."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.ws import Live, live_server, wait_for


@pytest.fixture
async def live(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Live]:
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, GatewayLimits()) as s:
        yield s


async def profile_of(live: Live, user_id: int) -> dict[str, object]:
    r = await live.http.get(f"/api/users/{user_id}/profile", headers=live.admin.headers)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


async def test_last_seen_is_stored_when_the_last_socket_closes(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice, {}), live.session(alice, {}):
        pass
    closed_at = live.clock.now()
    profile: dict[str, object] = {}

    async def stored() -> bool:
        profile.update(await profile_of(live, alice.user_id))
        return profile["last_seen_at"] is not None

    for _ in range(200):  # the write runs after the close, beside the socket's teardown
        if await stored():
            break
        await wait_for(lambda: True, "a turn of the loop")
    assert dt.datetime.fromisoformat(str(profile["last_seen_at"])) == closed_at
    # A watcher on a node that never saw alice (here: after the node forgot her) reads it back.
    bob = await live.user()
    async with live.session(bob, {}) as wb:
        await wb.request({"type": "presence.watch", "user_ids": [alice.user_id]})
        got = await wb.expect("presence", user_id=alice.user_id)
    assert (got["status"], got["last_seen_at"]) == ("offline", closed_at.isoformat())


async def test_a_profile_change_reaches_watchers_and_the_users_other_devices(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    async with live.session(bob, {}) as wb, live.session(alice, {}) as wa:
        await wb.request({"type": "presence.watch", "user_ids": [alice.user_id]})
        await wb.expect("presence", user_id=alice.user_id, status="online")
        r = await live.http.patch(
            "/api/me/profile",
            headers=alice.headers,
            json={
                "display_name": "김민수 과장",
                "work_status": "meeting",
                "status_message": "외근",
            },
        )
        assert r.status_code == 200, r.text
        changed = await wb.expect("profile.updated", user_id=alice.user_id)
        assert (changed["display_name"], changed["work_status"], changed["status_message"]) == (
            "김민수 과장",
            "meeting",
            "외근",
        )
        presence = await wb.expect("presence", user_id=alice.user_id, work_status="meeting")
        assert presence["status"] == "online"
        own = await wa.expect("profile.updated", user_id=alice.user_id)
        assert own["display_name"] == "김민수 과장"


async def test_watching_many_users_costs_one_profile_query(live: Live) -> None:
    watcher = await live.user()
    others = [await live.user() for _ in range(12)]
    accounts = live.app.state.services.accounts
    calls: list[set[int]] = []
    original = accounts.get_profiles

    async def counting(user_ids: set[int]) -> object:
        calls.append(set(user_ids))
        return await original(user_ids)

    accounts.get_profiles = counting  # a spy on the real service, not a replacement
    try:
        async with live.session(watcher, {}) as ws:
            ids = [o.user_id for o in others]
            answer = await ws.request({"type": "presence.watch", "user_ids": ids})
            assert answer["type"] == "ok"
            frames = ws.unread("presence")
    finally:
        del accounts.get_profiles
    assert calls == [set(ids)]
    assert sorted(f["user_id"] for f in frames) == sorted(ids)
