"""The gateway's gauges and counters on /metrics follow the sockets (I6 is checked with them)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.messaging import make_group, new_client_msg_id
from tests.support.ws import Live, live_server


@pytest.fixture
async def live(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Live]:
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, GatewayLimits()) as s:
        yield s


async def metric(live: Live, name: str) -> float:
    r = await live.http.get("/metrics")
    assert r.status_code == 200
    found = re.search(rf"^{name} (\S+)$", r.text, re.MULTILINE)
    assert found, name
    return float(found.group(1))


async def settled(live: Live, name: str, expected: float) -> None:
    """Scrapes until the gauge shows ``expected`` (closing a socket finishes asynchronously)."""
    for _ in range(500):
        if await metric(live, name) == expected:
            return
    raise AssertionError(f"{name} never became {expected}: {await metric(live, name)}")


async def test_connection_gauge_and_delivered_events_follow_the_sockets(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    delivered_before = await metric(live, "sodam_ws_events_delivered_total")
    at = {room["id"]: room["last_event_seq"]}  # resumed at the head: nothing is replayed
    async with live.session(alice, at) as wa, live.session(bob, at) as wb:
        async with live.session(bob, at):
            assert await metric(live, "sodam_websocket_connections") == 3
        await settled(live, "sodam_websocket_connections", 2)
        assert await metric(live, "sodam_ws_rooms_tracked") == 1
        ack = await wa.request(
            {
                "type": "send",
                "room_id": room["id"],
                "client_msg_id": new_client_msg_id(),
                "body": "세어 주세요",
            }
        )
        await wa.expect("event", event_seq=ack["message"]["event_seq"])
        await wb.expect("event", event_seq=ack["message"]["event_seq"])
        # Two event frames written (one per member); the ack is an answer, not an event.
        await settled(live, "sodam_ws_events_delivered_total", delivered_before + 2)
    await settled(live, "sodam_websocket_connections", 0)
    await settled(live, "sodam_ws_rooms_tracked", 0)
    await settled(live, "sodam_ws_queued_frames", 0)
    await settled(live, "sodam_ws_background_tasks", 0)
