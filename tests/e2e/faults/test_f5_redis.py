"""F5: Redis restarted (everything in flight on pub/sub lost) and FLUSHALL, with two nodes under
load. Clients on both nodes converge without doing anything but the protocol: the nodes fill the
gaps they see, and their heads check repairs rooms whose *last* events were lost."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.scenario import Load, scenario

pytestmark = pytest.mark.e2e


async def redis_restart_and_flushall(cluster: Cluster) -> dict[str, object]:
    async with scenario(cluster) as s:
        users = cluster.users
        rooms = [await s.room(users[0], users[1:4]), await s.room(users[4], users[5:8])]
        senders = []
        for i, who in enumerate([*users[0:4], *users[4:8]]):
            room = rooms[0] if i < 4 else rooms[1]
            client = await s.client(who, node=i % 2, rooms=[room])
            if i % 4 < 2:
                senders.append((client, room))
        await s.all_live()
        before = await repairs(cluster)
        load = Load(senders, rate=5)
        load.start()
        await asyncio.sleep(1.5)  # load before the fault (a duration, not a synchronisation)
        cluster.redis.kill()  # in-flight pub/sub messages are gone
        await asyncio.sleep(2.0)  # Redis down for 2 s
        cluster.redis.start()
        await asyncio.sleep(1.5)
        assert cluster.redis.command(b"FLUSHALL") == b"+OK"
        await asyncio.sleep(1.5)
        await load.stop()
        await s.converge(live_within=30)
        repaired = {k: v - before.get(k, 0) for k, v in (await repairs(cluster)).items()}
        # The fault really lost events, and the nodes themselves put them back.
        assert sum(repaired.values()) > 0, repaired
        return {**s.report, "sent": load.sent, "node_repairs": repaired}


async def repairs(cluster: Cluster) -> dict[str, float]:
    """Gap fills and rooms found behind, per node, so far."""
    out: dict[str, float] = {}
    for node in cluster.nodes:
        metrics = await asyncio.to_thread(node.metrics)
        for name in ("sodam_ws_gap_fills_total", "sodam_ws_rooms_behind_total"):
            out[f"{node.name} {name}"] = metrics.get(name, 0.0)
    return out


def test_f5_redis_restart_and_flushall_lose_nothing(cluster: Cluster) -> None:
    report = asyncio.run(redis_restart_and_flushall(cluster))
    print(f"F5 {report}")  # noqa: T201 -- figures for the report (pytest -s)
