"""The WebSocket handshake and framing rules (reliability.md §4 "WebSocket"), on SQLite and
PostgreSQL, over a real socket to a real uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.frames import CloseCode
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.ws import Live, WsClient, live_server, wait_for, ws_url

LIMITS = GatewayLimits(auth_timeout_s=0.5, heartbeat_s=1.0, frame_max_bytes=16 * 1024)


@pytest.fixture
async def live(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Live]:
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, LIMITS) as server:
        yield server


async def test_auth_frame_opens_the_session(live: Live) -> None:
    alice = await live.user()
    async with live.connect() as ws:
        await ws.send({"type": "auth", "token": alice.access_token, "ref": "a1"})
        ready = await ws.expect("ready")
        assert ready["user_id"] == alice.user_id
        assert ready["session_id"] == alice.session_id
        assert ready["heartbeat_s"] == LIMITS.heartbeat_s
        assert ready["ref"] == "a1"
        await ws.send({"type": "ping"})
        assert (await ws.expect("pong"))["type"] == "pong"


async def test_no_auth_within_the_timeout_closes_1008(live: Live) -> None:
    async with live.connect() as ws:
        assert await ws.closed() == (CloseCode.POLICY, "auth_timeout")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"type": "auth", "token": "not-a-jwt"}, "token_invalid"),
        ({"type": "ping"}, "auth_required"),
        ({"type": "auth"}, "auth_required"),
    ],
)
async def test_bad_or_missing_auth_closes_1008(
    live: Live, frame: dict[str, str], reason: str
) -> None:
    async with live.connect() as ws:
        await ws.send(frame)
        assert await ws.closed() == (CloseCode.POLICY, reason)


async def test_a_token_in_the_url_is_not_a_login(live: Live) -> None:
    alice = await live.user()
    url = ws_url(live.url) + f"?access_token={alice.access_token}&token={alice.access_token}"
    async with connect(url) as conn:
        ws = WsClient(conn)
        await ws.send({"type": "ping"})
        assert await ws.closed() == (CloseCode.POLICY, "auth_required")


async def test_logged_out_session_cannot_authenticate(live: Live) -> None:
    alice = await live.user()
    r = await live.http.post("/api/auth/logout", headers=alice.headers)
    assert r.status_code == 204, r.text
    async with live.connect() as ws:
        await ws.send({"type": "auth", "token": alice.access_token})
        assert await ws.closed() == (CloseCode.POLICY, "session_ended")


async def test_cross_origin_handshake_is_refused_before_upgrade(live: Live) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with live.connect(origin="https://evil.example.com"):
            pass
    assert info.value.response.status_code == 403


async def test_same_origin_and_native_clients_are_allowed(live: Live) -> None:
    alice = await live.user()
    for origin in (live.url, None):
        async with live.connect(origin=origin) as ws:
            await ws.send({"type": "auth", "token": alice.access_token})
            await ws.expect("ready")


async def test_oversized_frame_closes_1009(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice) as ws:
        await ws.send({"type": "ping", "pad": "x" * (LIMITS.frame_max_bytes + 1)})
        assert (await ws.closed())[0] == CloseCode.TOO_BIG


@pytest.mark.parametrize("as_text", [True, False])
async def test_invalid_utf8_closes_1007(live: Live, as_text: bool) -> None:
    alice = await live.user()
    async with live.session(alice) as ws:
        await ws.conn.send(b'{"type":"ping","x":"\xff\xfe"}', text=as_text)
        assert (await ws.closed())[0] == CloseCode.INVALID_PAYLOAD


@pytest.mark.parametrize(
    "raw", ["{not json", '{"type":"ping","type":"ping"}', "[" * 3000 + "]" * 3000, '{"n":NaN}']
)
async def test_malformed_json_closes_1007(live: Live, raw: str) -> None:
    alice = await live.user()
    async with live.session(alice) as ws:
        await ws.conn.send(raw)
        assert (await ws.closed())[0] == CloseCode.INVALID_PAYLOAD


async def test_an_invalid_request_gets_an_error_and_the_socket_stays_open(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice) as ws:
        error = await ws.request({"type": "send", "room_id": "one", "body": 1})
        assert error["type"] == "error"
        assert error["code"] == "invalid_frame"
        assert set(error) == {"type", "ref", "code", "message", "data"}
        unknown = await ws.request({"type": "teleport"})
        assert unknown["code"] == "unknown_frame"
        await ws.send({"type": "ping"})
        await ws.expect("pong")


async def test_a_silent_client_is_closed_and_its_state_freed(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice) as ws:
        await wait_for(lambda: live.gateway.hub.connection_count(alice.user_id) == 1, "register")
        # The client now sends nothing at all: two heartbeat intervals later it is gone.
        code, reason = await ws.closed()
        assert (code, reason) == (CloseCode.HEARTBEAT_TIMEOUT, "heartbeat_timeout")
    await wait_for(lambda: not live.gateway.hub.users, "hub emptied")
    assert live.gateway.hub.rooms == {}


async def test_pings_keep_a_quiet_client_alive(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice) as ws:
        # Time has to pass here (the point is that the idle timer does not fire): five pings
        # half a heartbeat apart span more than the two-heartbeat idle timeout.
        for _ in range(5):
            await asyncio.sleep(LIMITS.heartbeat_s / 2)
            await ws.send({"type": "ping"})
            await ws.expect("pong")
        assert live.gateway.hub.connection_count(alice.user_id) == 1


async def test_shutdown_tells_clients_to_reconnect(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice, cursors={}) as ws:
        await live.gateway.close()
        assert await ws.closed() == (CloseCode.SERVICE_RESTART, "service_restart")
    async with live.connect() as late:
        assert (await late.closed())[0] == CloseCode.SERVICE_RESTART
