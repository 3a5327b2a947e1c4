"""Presence across nodes: per-node status, best status wins, expiry of silent nodes, watchers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson

from sodam.domain.accounts import Profile
from sodam.domain.clock import FakeClock
from sodam.domain.ids import UserId
from sodam.errors import NotFound
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.presence import Presence
from tests.unit.realtime.fakes import connection, queued

LIMITS = GatewayLimits(presence_refresh_s=10)


class Bus:
    """Delivers every publish to every node's presence, as the real bus does."""

    def __init__(self) -> None:
        self.nodes: list[Presence] = []
        self.published: list[dict[str, Any]] = []

    async def publish(self, topic: str, payload: bytes) -> None:
        assert topic == "presence"
        message = orjson.loads(payload)
        self.published.append(message)
        for node in self.nodes:
            node.on_bus_message(message)


class Profiles:
    async def get_profile(self, user_id: UserId) -> Profile:
        if user_id == 404:
            raise NotFound("user_not_found", "No such user.")
        return Profile(
            user_id=user_id,
            display_name="x",
            title=None,
            email=None,
            phone=None,
            status_message=None,
            work_status="vacation",
            locale="ko",
            last_seen_at=dt.datetime(2025, 12, 31, 18, 0, tzinfo=dt.UTC),
        )


def cluster(count: int, clock: FakeClock) -> tuple[Bus, list[Presence]]:
    bus = Bus()
    bus.nodes = [Presence(f"n{i}", clock, bus.publish, Profiles(), LIMITS) for i in range(count)]
    return bus, bus.nodes


async def presence_frames(conn: Any) -> list[tuple[int, str]]:
    return [(f["user_id"], f["status"]) for f in await queued(conn) if f["type"] == "presence"]


async def test_user_is_online_while_any_node_has_an_online_socket() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    phone, laptop = connection(7), connection(7)
    await n1.connected(phone, "working")
    await n2.connected(laptop, None)
    await n2.set_status(laptop, "away")
    assert n1.status_of(UserId(7)) == n2.status_of(UserId(7)) == "online"
    await n1.disconnected(phone)
    assert n1.status_of(UserId(7)) == n2.status_of(UserId(7)) == "away"
    await n2.disconnected(laptop)
    assert n1.status_of(UserId(7)) == "offline"


async def test_offline_records_last_seen_and_only_the_last_socket_counts() -> None:
    clock = FakeClock()
    bus, (node,) = cluster(1, clock)
    a, b = connection(7), connection(7)
    await node.connected(a, "working")
    await node.connected(b, "working")
    assert [m["status"] for m in bus.published] == ["online"]  # the second socket changed nothing
    clock.advance(60)
    await node.disconnected(a)
    await node.disconnected(b)
    assert [m["status"] for m in bus.published] == ["online", "offline"]
    frame = json.loads(node.frame(UserId(7)))
    assert frame["status"] == "offline"
    assert frame["last_seen_at"] == clock.now().isoformat()
    assert frame["work_status"] == "working"


async def test_watchers_get_a_snapshot_then_changes_serialised_once() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    watcher1, watcher2 = connection(1), connection(2)
    await n1.watch(watcher1, [7, 404], limit=10)
    await n1.watch(watcher2, [7], limit=10)
    snapshot = [json.loads(await watcher1.queue.get()) for _ in range(2)]
    assert {(f["user_id"], f["status"], f["work_status"]) for f in snapshot} == {
        (7, "offline", "vacation"),
        (404, "offline", None),
    }
    await queued(watcher2)
    await n2.connected(connection(7), None)  # the user comes online on the other node
    first, second = await watcher1.queue.get(), await watcher2.queue.get()
    assert first is second  # one string for every watcher
    assert json.loads(first)["status"] == "online"


async def test_a_node_that_stops_refreshing_expires() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    await n2.connected(connection(7), "working")
    assert n1.status_of(UserId(7)) == "online"
    clock.advance(LIMITS.presence_ttl_s - 1)
    await n1.refresh()
    assert n1.status_of(UserId(7)) == "online"
    clock.advance(2)  # n2 died without saying goodbye: it never refreshed
    await n1.refresh()
    assert n1.status_of(UserId(7)) == "offline"


async def test_refresh_keeps_a_live_nodes_users() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    await n2.connected(connection(7), "working")
    for _ in range(5):
        clock.advance(LIMITS.presence_refresh_s)
        await n2.refresh()
        await n1.refresh()
    assert n1.status_of(UserId(7)) == "online"


async def test_unwatch_on_disconnect_and_work_status_updates() -> None:
    clock = FakeClock()
    _bus, (node,) = cluster(1, clock)
    watcher = connection(1)
    await node.connected(watcher, None)
    await node.watch(watcher, [7], limit=10)
    await queued(watcher)
    node.on_profile_updated(UserId(7), "meeting")
    assert [json.loads(t)["work_status"] for t in [await watcher.queue.get()]] == ["meeting"]
    await node.disconnected(watcher)
    node.on_profile_updated(UserId(7), "off")
    assert await queued(watcher) == []


async def test_shutdown_takes_the_nodes_users_offline() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    await n1.connected(connection(7), None)
    await n1.close()
    assert n2.status_of(UserId(7)) == "offline"
