"""F8: a reconnect storm. A few hundred sockets (16 users, 20 devices each, in 4 rooms) are on
node A when it is killed; while it is down the rooms move on (messages sent through node B); when
it comes back every socket reconnects at once (backoff with jitter), resumes from its cursors and
gets what it missed, paged. The node stays up, every client converges (I1–I5), and the node's
connections, queues and tasks return to idle (I6). Also measures the memory of an idle socket.
(The 2,000-socket version is the benchmark's: bench/chat.)"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.faults.clients import Client
from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.scenario import rest_send, scenario

pytestmark = pytest.mark.e2e
DEVICES = 20
MISSED_PER_ROOM = 20


async def storm(cluster: Cluster, devices: int) -> dict[str, object]:
    node_a = cluster.nodes[0]
    async with scenario(cluster) as s:
        users = cluster.users
        halves = [users[:8], users[8:16]]
        rooms = [await s.room(half[0], half[1:]) for half in halves for _ in range(2)]
        rss_before = node_a.rss_kib()
        storm_clients: list[Client] = []
        for i, who in enumerate(users):
            mine = rooms[:2] if i < 8 else rooms[2:]
            first = await s.client(who, node=0, rooms=mine)
            storm_clients.append(first)
            for _ in range(devices - 1):
                storm_clients.append(await s.client(who, node=0, rooms=mine, twin=first))
        for client in storm_clients:
            client.pinned = True
        await s.all_live(within=120)
        await wait_quiet(cluster)  # every replay written: what is left is idle sockets
        per_socket_kib = (node_a.rss_kib() - rss_before) / len(storm_clients)
        sender = await s.client(users[0], node=1, rooms=rooms[:2])
        sender_b = await s.client(users[8], node=1, rooms=rooms[2:])
        node_a.kill9()
        for n in range(MISSED_PER_ROOM):  # the rooms move on while node A is away
            for room, who in zip(rooms, [sender, sender, sender_b, sender_b], strict=True):
                assert await rest_send(who, room, f"놓친 메시지 {n}") is not None
        loop = asyncio.get_running_loop()
        node_a.ensure_running()
        back = loop.time()
        await s.all_live(within=120)
        live_s = loop.time() - back
        assert node_a.running and cluster.nodes[1].running
        await s.converge(live_within=60)
        return {
            **s.report,
            "sockets_in_storm": len(storm_clients),
            "all_resumed_after_restart_s": round(live_s, 2),
            "idle_socket_kib": round(per_socket_kib, 1),
        }


async def wait_quiet(cluster: Cluster) -> None:
    node = cluster.nodes[0]
    for _ in range(300):
        metrics = await asyncio.to_thread(node.metrics)
        if not metrics["sodam_ws_queued_frames"] and not metrics["sodam_ws_background_tasks"]:
            return
        await asyncio.sleep(0.1)  # polling a gauge
    raise AssertionError("node A never went quiet")


def test_f8_reconnect_storm_converges(cluster: Cluster) -> None:
    report = asyncio.run(storm(cluster, DEVICES))
    print(f"F8 {report}")  # noqa: T201 -- figures for the report (pytest -s)
