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
    """Profiles in memory, shared by every node (the database); counts the queries."""

    def __init__(self) -> None:
        self.last_seen: dict[int, dt.datetime] = {
            7: dt.datetime(2025, 12, 31, 18, 0, tzinfo=dt.UTC)
        }
        self.queries: list[set[int]] = []
        self.touched: list[tuple[int, dt.datetime]] = []

    def _profile(self, user_id: int) -> Profile:
        return Profile(
            user_id=UserId(user_id),
            display_name="x",
            title=None,
            email=None,
            phone=None,
            status_message=None,
            work_status="vacation",
            locale="ko",
            last_seen_at=self.last_seen.get(user_id),
        )

    async def get_profile(self, user_id: UserId) -> Profile:
        if user_id == 404:
            raise NotFound("user_not_found", "No such user.")
        return self._profile(user_id)

    async def get_profiles(self, user_ids: set[int]) -> dict[UserId, Profile]:
        self.queries.append(set(user_ids))
        return {UserId(u): self._profile(u) for u in user_ids if u != 404}

    async def touch_last_seen(self, user_id: UserId, at: dt.datetime) -> None:
        self.touched.append((user_id, at))
        self.last_seen[user_id] = at


def cluster(
    count: int, clock: FakeClock, profiles: Profiles | None = None
) -> tuple[Bus, list[Presence]]:
    bus = Bus()
    store = profiles or Profiles()
    bus.nodes = [Presence(f"n{i}", clock, bus.publish, store, LIMITS) for i in range(count)]
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
    await node.watch(connection(1), [7], limit=10)  # remembered while someone watches
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
    node.on_profile_updated(UserId(7), profile_updated(7, "meeting"), "meeting")
    got = await queued(watcher)
    assert [(f["type"], f["work_status"]) for f in got] == [
        ("profile.updated", "meeting"),
        ("presence", "meeting"),
    ]
    await node.disconnected(watcher)
    node.on_profile_updated(UserId(7), profile_updated(7, "off"), "off")
    assert await queued(watcher) == []


def profile_updated(user_id: int, work_status: str, name: str = "김민수") -> str:
    return json.dumps(
        {
            "type": "profile.updated",
            "user_id": user_id,
            "display_name": name,
            "work_status": work_status,
            "status_message": None,
        }
    )


async def test_a_name_change_reaches_watchers_but_not_the_users_own_watching_socket() -> None:
    clock = FakeClock()
    _bus, (node,) = cluster(1, clock)
    watcher, himself = connection(1), connection(7)
    for conn in (watcher, himself):
        await node.watch(conn, [7], limit=10)
        await queued(conn)
    node.on_profile_updated(UserId(7), profile_updated(7, "vacation", "김민수 과장"), "vacation")
    assert [(f["type"], f["display_name"]) for f in await queued(watcher)] == [
        ("profile.updated", "김민수 과장")
    ]
    assert await queued(himself) == []  # their own sockets get it on their user topic


async def test_watch_loads_every_unknown_user_in_one_query() -> None:
    clock = FakeClock()
    profiles = Profiles()
    _bus, (node,) = cluster(1, clock, profiles)
    await node.connected(connection(3), None)
    watcher = connection(1)
    await node.watch(watcher, [3, 5, 6, 7, 404], limit=10)
    assert profiles.queries == [{5, 6, 7, 404}]  # 3 is known: connected here
    frames = {f["user_id"]: f for f in await queued(watcher)}
    assert sorted(frames) == [3, 5, 6, 7, 404]
    assert frames[7]["last_seen_at"] == "2025-12-31T18:00:00+00:00"


async def test_last_seen_is_written_when_the_last_socket_closes_and_read_by_other_nodes() -> None:
    clock = FakeClock()
    profiles = Profiles()
    _bus, (n1, n2) = cluster(2, clock, profiles)
    phone, laptop = connection(9), connection(9)
    await n1.connected(phone, None)
    await n1.connected(laptop, None)
    await n1.disconnected(phone)
    assert profiles.touched == []  # still connected here
    clock.advance(30)
    await n1.disconnected(laptop)
    assert profiles.touched == [(9, clock.now())]
    # Another node that never saw the user (or restarted since) serves it from the profile.
    watcher = connection(1)
    await n2.watch(watcher, [9], limit=10)
    (frame,) = await queued(watcher)
    assert (frame["status"], frame["last_seen_at"]) == ("offline", clock.now().isoformat())


async def test_offline_users_nobody_watches_are_forgotten() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    watcher = connection(1)
    await n1.watch(watcher, [7, 8], limit=10)
    for user in (20, 21, 22):
        conn = connection(user)
        await n2.connected(conn, None)
        await n2.disconnected(conn)
    await n1.disconnected(watcher)
    assert n1._seen == {} and n2._seen == {}


async def test_shutdown_takes_the_nodes_users_offline() -> None:
    clock = FakeClock()
    _bus, (n1, n2) = cluster(2, clock)
    await n1.connected(connection(7), None)
    await n1.close()
    assert n2.status_of(UserId(7)) == "offline"
