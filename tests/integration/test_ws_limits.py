"""Flooding, connection limits and session re-checks (reliability.md §4 "WebSocket"), on SQLite
and PostgreSQL. The fake clock does not move unless a test moves it, so token buckets never
refill by accident: the counts below are exact."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from sodam.config import Settings
from sodam.db import sessions as sessions_repo
from sodam.db.tables import users
from sodam.domain.clock import FakeClock
from sodam.domain.ids import SessionId
from sodam.realtime.frames import CloseCode
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.messaging import make_group, new_client_msg_id
from tests.support.ws import Live, live_server, wait_for

LIMITS = GatewayLimits(
    sends_burst=5, frames_burst=40, max_connections_per_user=2, session_check_s=0.05
)


@pytest.fixture
async def live(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Live]:
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, LIMITS) as server:
        yield server


async def test_per_user_connection_limit(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    async with live.session(alice, {}), live.session(alice, {}):
        async with live.connect() as third:
            await third.send({"type": "auth", "token": alice.access_token})
            assert await third.closed() == (CloseCode.TOO_MANY_CONNECTIONS, "too_many_connections")
        async with live.session(bob, {}):  # other users are not counted against alice
            pass


async def test_a_send_flood_is_limited_without_slowing_another_user(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with live.session(alice, {}) as wa, live.session(bob, {}) as wb:
        for i in range(20):  # without waiting for answers
            await wa.send(
                {
                    "type": "send",
                    "ref": f"f{i}",
                    "room_id": room["id"],
                    "client_msg_id": new_client_msg_id(),
                    "body": f"도배 {i}",
                }
            )
        answers = [
            await wa.expect("ack", ref=f"f{i}")
            if i < LIMITS.sends_burst
            else await wa.expect("error", ref=f"f{i}")
            for i in range(20)
        ]
        assert [a["type"] for a in answers] == ["ack"] * 5 + ["error"] * 15
        assert {a["code"] for a in answers[5:]} == {"rate_limited"}
        assert all(a["data"]["retry_after_s"] > 0 for a in answers[5:])
        ack = await wb.request(
            {
                "type": "send",
                "room_id": room["id"],
                "client_msg_id": new_client_msg_id(),
                "body": "저는 괜찮아요",
            }
        )
        assert ack["type"] == "ack"


async def test_a_frame_flood_gets_errors_and_pings_still_work(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice, {}) as ws:
        budget = LIMITS.frames_burst - 1  # the resume frame took one token
        for i in range(budget + 10):
            await ws.send({"type": "presence", "status": "online", "ref": f"p{i}"})
        answers = [
            await ws.expect("ok", ref=f"p{i}")
            if i < budget
            else await ws.expect("error", ref=f"p{i}")
            for i in range(budget + 10)
        ]
        assert {a["code"] for a in answers[budget:]} == {"rate_limited"}
        await ws.send({"type": "ping"})
        await ws.expect("pong")


async def test_an_expired_token_closes_the_socket_unless_renewed(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    async with live.session(alice, {}) as renewed, live.session(bob, {}) as stale:
        live.clock.advance(600)
        r = await live.http.post("/api/auth/refresh", json={"refresh_token": alice.refresh_token})
        assert r.status_code == 200, r.text
        answer = await renewed.request({"type": "auth", "token": r.json()["access_token"]})
        assert answer["type"] == "ok"
        live.clock.advance(600)  # the first tokens are now past their lifetime and leeway
        assert await stale.closed() == (CloseCode.TOKEN_EXPIRED, "token_expired")
        checks = live.gateway.session_checks
        await wait_for(lambda: live.gateway.session_checks >= checks + 2, "two more checks")
        await renewed.send({"type": "ping"})
        await renewed.expect("pong")


async def test_reauth_with_another_users_token_is_refused(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    async with live.session(alice, {}) as ws:
        await ws.send({"type": "auth", "token": bob.access_token})
        assert await ws.closed() == (CloseCode.POLICY, "auth_mismatch")


async def test_the_periodic_check_ends_sockets_of_sessions_ended_without_a_bus_message(
    live: Live,
) -> None:
    """A session revoked and a user deactivated straight in the database (a CLI command, another
    cluster: no bus message) lose their sockets at the next check, read for every socket at
    once; the other sockets stay and keep working."""
    alice, bob, carol = await live.user(), await live.user(), await live.user()
    async with (
        live.session(alice, {}) as ws_alice,
        live.session(bob, {}) as ws_bob,
        live.session(carol, {}) as ws_carol,
    ):
        db = live.app.state.db
        now = live.clock.now()
        await db.write(
            lambda conn: sessions_repo.revoke_session(conn, SessionId(alice.session_id), now, "cli")
        )
        await db.write(
            lambda conn: conn.execute(
                sa.update(users).where(users.c.id == bob.user_id).values(deactivated_at=now)
            )
        )
        assert await ws_alice.closed() == (CloseCode.SESSION_ENDED, "session_ended")
        assert await ws_bob.closed() == (CloseCode.SESSION_ENDED, "user_deactivated")
        checks = live.gateway.session_checks
        await wait_for(lambda: live.gateway.session_checks >= checks + 2, "two more checks")
        await ws_carol.send({"type": "ping"})
        await ws_carol.expect("pong")
