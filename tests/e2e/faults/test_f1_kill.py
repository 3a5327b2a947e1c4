"""F1: ``kill -9`` of the node serving a send, at three moments (failpoints, docs/fault-tests.md):
before its commit, after its commit but before the answer, and after the answer but before the
fan-out. The client reconnects to the other node (two nodes on PostgreSQL + Redis) or to the
restarted node (the embedded server on SQLite) and retries the same client_msg_id: the message
exists exactly once, with the seq the retry reports, and every member converges (I1–I6)."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.scenario import Load, scenario

pytestmark = pytest.mark.e2e

FAILPOINT = {
    "before_commit": "send.before_commit=kill",
    "after_commit": "send.after_commit=kill",
    "after_answer": "send.before_fanout=drop",  # the test kills the node once the ack is in
}


async def wait_exit(cluster: Cluster, within: float = 30) -> None:
    node = cluster.nodes[0]
    for _ in range(int(within / 0.05)):
        if not node.running:
            node.reap()
            return
        await asyncio.sleep(0.05)  # polling for the process to die
    raise AssertionError("node A did not die at its failpoint")


async def kill_mid_send(cluster: Cluster, point: str) -> dict[str, object]:
    node_a = cluster.nodes[0]
    async with scenario(cluster) as s:
        users = cluster.users
        room = await s.room(users[0], users[1:5])
        victim = await s.client(users[0], node=0, rooms=[room])
        for i, who in enumerate(users[1:5]):
            await s.client(who, node=i % len(cluster.nodes), rooms=[room])
        await s.all_live()
        load = Load([(s.clients[2], room)], rate=3)  # a bystander keeps talking meanwhile
        load.start()
        assert await victim.send(room, "먼저 보낸 메시지") is not None
        cmid = f"f1-{point}-victim"
        node_a.arm(f"{FAILPOINT[point]}@{cmid}")
        attempt = asyncio.create_task(victim.send_as(cmid, room, "죽는 순간의 메시지", within=90))
        if point == "after_answer":
            for _ in range(600):  # the ack arrives; the fan-out never happened
                if any(a["client_msg_id"] == cmid for a in victim.acks):
                    break
                await asyncio.sleep(0.05)
            node_a.kill9()
        else:
            await wait_exit(cluster)
        if len(cluster.nodes) == 1:  # embedded: the client retries once the server is back
            await asyncio.to_thread(node_a.ensure_running)
        first = await attempt
        assert first is not None, "the send was never acknowledged, even after the retry"
        retry = await victim.send_as(cmid, room, "죽는 순간의 메시지", within=60)
        assert retry is not None
        assert victim.prefer == len(cluster.nodes) - 1  # node B, or the restarted embedded node
        acks = [a for a in victim.acks if a["client_msg_id"] == cmid]
        assert {(a["id"], a["seq"]) for a in acks} == {(first["id"], first["seq"])}
        assert acks[-1]["duplicate"] is True
        assert acks[0]["duplicate"] is (point == "after_commit")  # nothing stored before commit
        node_a.ensure_running()
        await asyncio.sleep(1.0)  # some load with both nodes up again
        await load.stop()
        await s.converge(live_within=30)
        return {**s.report, "point": point}


@pytest.mark.parametrize("point", list(FAILPOINT))
def test_f1_kill_mid_send_then_retry_on_the_other_node(cluster: Cluster, point: str) -> None:
    report = asyncio.run(kill_mid_send(cluster, point))
    print(f"F1 {report}")  # noqa: T201 -- figures for the report (pytest -s)


@pytest.mark.parametrize("point", list(FAILPOINT))
def test_f1_kill_mid_send_then_retry_on_sqlite(embedded: Cluster, point: str) -> None:
    report = asyncio.run(kill_mid_send(embedded, point))
    print(f"F1-sqlite {report}")  # noqa: T201 -- figures for the report (pytest -s)
