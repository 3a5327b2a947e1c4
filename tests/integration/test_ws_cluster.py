"""Two server nodes on one database and one bus: fan-out, presence and membership across nodes,
and a bus that loses or repeats events (F5, F9), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import pytest

from sodam.bus.base import Handler
from sodam.bus.memory import MemoryBus
from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.messaging import make_group, new_client_msg_id, room_list
from tests.support.ws import Live, WsClient, live_server


@dataclass
class FlakyBus:
    """One shared in-memory bus; ``drop``/``repeat`` pick room events by their event_seq."""

    inner: MemoryBus = field(default_factory=MemoryBus)
    drop: set[int] = field(default_factory=set)
    repeat: set[int] = field(default_factory=set)

    async def start(self, handler: Handler) -> None:
        await self.inner.start(handler)

    async def publish(self, topic: str, payload: bytes) -> None:
        seq = orjson.loads(payload).get("event_seq") if topic.startswith("room:") else None
        if seq in self.drop:
            return
        await self.inner.publish(topic, payload)
        if seq in self.repeat:
            await self.inner.publish(topic, payload)

    async def close(self) -> None:
        await self.inner.close()


@dataclass
class Cluster:
    a: Live
    b: Live
    bus: FlakyBus


@pytest.fixture
async def cluster(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Cluster]:
    bus = FlakyBus()
    limits = GatewayLimits(heads_check_s=0.2)
    async with (
        live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, limits, bus) as a,
        live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, limits, bus) as b,
    ):
        yield Cluster(a, b, bus)


async def resume_all(live: Live, ws: WsClient, who: object) -> None:
    rooms = (await room_list(live.http, who))["rooms"]  # type: ignore[arg-type]
    answer = await ws.request(
        {"type": "resume", "cursors": {str(r["id"]): r["last_event_seq"] for r in rooms}}
    )
    assert answer["type"] == "resumed"


def send_frame(room_id: int, body: str) -> dict[str, object]:
    return {"type": "send", "room_id": room_id, "client_msg_id": new_client_msg_id(), "body": body}


async def test_a_message_sent_on_one_node_reaches_a_member_on_the_other(cluster: Cluster) -> None:
    alice, bob = await cluster.a.user(), await cluster.a.user()
    room = await make_group(cluster.a.http, alice, [bob])
    async with cluster.a.session(alice) as wa, cluster.b.session(bob) as wb:
        await resume_all(cluster.a, wa, alice)
        await resume_all(cluster.b, wb, bob)
        ack = await wa.request(send_frame(room["id"], "다른 노드로"))
        got = await wb.expect("event", room_id=room["id"])
        assert got["event"]["message"]["id"] == ack["message"]["id"]


async def test_events_lost_or_repeated_by_the_bus_are_repaired_in_order(cluster: Cluster) -> None:
    alice, bob = await cluster.a.user(), await cluster.a.user()
    room = await make_group(cluster.a.http, alice, [bob])
    head = {r["id"]: r["last_event_seq"] for r in (await room_list(cluster.a.http, bob))["rooms"]}
    start = head[room["id"]]
    cluster.bus.drop = {start + 2, start + 3}  # Redis restarted mid-flight
    cluster.bus.repeat = {start + 1, start + 4}
    async with cluster.a.session(alice) as wa, cluster.b.session(bob) as wb:
        await resume_all(cluster.a, wa, alice)
        await resume_all(cluster.b, wb, bob)
        acks = [await wa.request(send_frame(room["id"], f"m{i}")) for i in range(5)]
        await wb.expect("event", event_seq=acks[-1]["message"]["event_seq"])
        seqs = [f["event_seq"] for f in wb.frames if f.get("type") == "event"]
    assert seqs == [a["message"]["event_seq"] for a in acks]
    assert cluster.b.gateway.hub.gaps_filled >= 1


async def test_a_lost_last_event_is_repaired_without_waiting_for_another(
    cluster: Cluster,
) -> None:
    alice, bob = await cluster.a.user(), await cluster.a.user()
    room = await make_group(cluster.a.http, alice, [bob])
    async with cluster.a.session(alice) as wa, cluster.b.session(bob) as wb:
        await resume_all(cluster.a, wa, alice)
        await resume_all(cluster.b, wb, bob)
        first = await wa.request(send_frame(room["id"], "전달됨"))
        await wb.expect("event", event_seq=first["message"]["event_seq"])
        cluster.bus.drop = {first["message"]["event_seq"] + 1}  # Redis FLUSHALL mid-flight
        last = await wa.request(send_frame(room["id"], "마지막"))
        got = await wb.expect("event", event_seq=last["message"]["event_seq"], within=20)
        assert got["event"]["message"]["id"] == last["message"]["id"]
    assert cluster.b.gateway.hub.heads_behind >= 1


async def test_presence_is_the_best_status_over_nodes(cluster: Cluster) -> None:
    alice, bob = await cluster.a.user(), await cluster.a.user()
    async with cluster.b.session(bob, {}) as watcher:
        await watcher.request({"type": "presence.watch", "user_ids": [alice.user_id]})
        await watcher.expect("presence", user_id=alice.user_id, status="offline")
        async with cluster.a.session(alice, {}) as phone:
            await watcher.expect("presence", user_id=alice.user_id, status="online")
            async with cluster.b.session(alice, {}) as laptop:
                await laptop.request({"type": "presence", "status": "away"})
                await phone.request({"type": "presence", "status": "away"})
                await watcher.expect("presence", user_id=alice.user_id, status="away")
        await watcher.expect("presence", user_id=alice.user_id, status="offline")


async def test_a_kick_on_one_node_unsubscribes_the_user_on_the_other(cluster: Cluster) -> None:
    alice, bob = await cluster.a.user(), await cluster.a.user()
    room = await make_group(cluster.a.http, alice, [bob])
    async with cluster.a.session(alice) as wa, cluster.b.session(bob) as wb:
        await resume_all(cluster.a, wa, alice)
        await resume_all(cluster.b, wb, bob)
        r = await cluster.a.http.delete(
            f"/api/rooms/{room['id']}/members/{bob.user_id}", headers=alice.headers
        )
        assert r.status_code == 204, r.text
        await wb.expect("room.removed", room_id=room["id"])
        after = await wa.request(send_frame(room["id"], "비밀"))
        await wa.expect("event", event_seq=after["message"]["event_seq"])
        await wb.send({"type": "ping"})
        await wb.expect("pong")
        assert all(f.get("event_seq") != after["message"]["event_seq"] for f in wb.frames)
