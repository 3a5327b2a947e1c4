"""Resume after a disconnect (docs/protocol.md "Resume"), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.factories import LoggedIn
from tests.support.messaging import all_events, make_group, room_list, send
from tests.support.ws import Live, WsClient, live_server

JSON = dict[str, Any]
LIMITS = GatewayLimits(resume_page_size=3, resume_max_events=40)


@pytest.fixture
async def live(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Live]:
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, LIMITS) as server:
        yield server


async def head(live: Live, who: LoggedIn, room_id: int) -> int:
    rooms = {r["id"]: r for r in (await room_list(live.http, who))["rooms"]}
    last: int = rooms[room_id]["last_event_seq"]
    return last


async def resume(ws: WsClient, cursors: dict[int, int]) -> list[JSON]:
    """Sends resume and returns the frames up to ``resumed``."""
    start = len(ws.frames)
    answer = await ws.request(
        {"type": "resume", "cursors": {str(k): v for k, v in cursors.items()}}
    )
    assert answer["type"] == "resumed", answer
    return [f for f in ws.frames[start:] if f.get("type") != "resumed"]


async def test_resume_gets_exactly_the_missed_events_in_order(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    cursor = await head(live, bob, room["id"])
    async with live.session(bob, {room["id"]: cursor}):
        pass  # bob goes offline
    sent = [await send(live.http, alice, room["id"], f"메시지 {i}") for i in range(7)]
    async with live.connect() as ws:
        await ws.send({"type": "auth", "token": bob.access_token})
        await ws.expect("ready")
        replay = await resume(ws, {room["id"]: cursor})
    assert [f["event_seq"] for f in replay] == [m["event_seq"] for m in sent]
    assert [f["event"]["message"]["body"] for f in replay] == [f"메시지 {i}" for i in range(7)]
    assert replay == await all_events(live.http, bob, room["id"], cursor)


async def test_too_far_behind_gets_resync_required(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    cursor = await head(live, bob, room["id"])
    for i in range(LIMITS.resume_max_events + 5):
        await send(live.http, alice, room["id"], f"{i}")
    async with live.session(bob) as ws:
        frames = await resume(ws, {room["id"]: cursor})
    assert frames[-1] == {"type": "resync_required", "room_id": room["id"]}
    assert len(frames) <= LIMITS.resume_max_events + 1


async def test_rooms_left_or_joined_while_offline(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    left = await make_group(live.http, alice, [bob], name="나간 방")
    old_cursor = await head(live, bob, left["id"])
    r = await live.http.delete(f"/api/rooms/{left['id']}/members/me", headers=bob.headers)
    assert r.status_code == 204, r.text
    await send(live.http, alice, left["id"], "bob 이 나간 뒤의 비밀")
    joined = await make_group(live.http, alice, [bob], name="새 방")
    async with live.session(bob) as ws:
        frames = await resume(ws, {left["id"]: old_cursor})
    assert frames == [
        {"type": "room.removed", "room_id": left["id"], "reason": "not_member"},
        {"type": "room.added", "room_id": joined["id"]},
    ]


async def test_live_events_during_a_resume_arrive_once_and_in_order(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    cursor = await head(live, bob, room["id"])
    for i in range(10):
        await send(live.http, alice, room["id"], f"before {i}")

    async def keep_sending() -> None:
        for i in range(15):
            await send(live.http, alice, room["id"], f"during {i}")

    async with live.session(bob) as ws:
        sender = asyncio.create_task(keep_sending())
        await resume(ws, {room["id"]: cursor})
        await sender
        final = await head(live, bob, room["id"])
        await ws.expect("event", event_seq=final)
        seqs = [f["event_seq"] for f in ws.frames if f.get("type") == "event"]
    assert seqs == list(range(cursor + 1, final + 1))


async def test_a_second_resume_on_one_socket_is_refused(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice, {}) as ws:
        again = await ws.request({"type": "resume", "cursors": {}})
        assert (again["type"], again["code"]) == ("error", "already_resumed")
