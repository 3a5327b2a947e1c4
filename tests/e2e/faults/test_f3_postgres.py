"""F3: PostgreSQL stopped at once (``pg_ctl stop -m immediate``) under load, started again after
5 s (and 60 s in the slow variant). Writes meanwhile answer 503 ``database_unavailable``
(retryable), never a 500 and never a false success; both nodes recover without a restart (same
processes); seqs are never reused; every client converges (I1–I6)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.scenario import Load, scenario

pytestmark = pytest.mark.e2e


async def probe_outage(cluster: Cluster, http: httpx.AsyncClient, room: int) -> None:
    """While the database is down: a write answers 503 database_unavailable and /readyz 503."""
    who = cluster.users[0]
    for node in cluster.nodes:
        for _ in range(100):
            r = await http.post(
                f"{node.url}/api/rooms/{room}/messages",
                headers=who.headers,
                json={"client_msg_id": f"f3-probe-{node.name}", "body": "DB가 없을 때"},
            )
            if r.status_code == 503:
                break
            assert r.status_code in (200, 201), r.text  # only before the stop took effect
            await asyncio.sleep(0.05)
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable", r.text
        assert "Retry-After" in r.headers
        ready = await http.get(f"{node.url}/readyz")
        assert ready.status_code == 503, ready.text


async def postgres_outage(cluster: Cluster, down_s: float) -> dict[str, object]:
    pids = [n.process.pid for n in cluster.nodes if n.process]
    async with scenario(cluster) as s:
        users = cluster.users
        rooms = [await s.room(users[0], users[1:4]), await s.room(users[4], users[5:8])]
        senders = []
        for i, who in enumerate(users[:8]):
            client = await s.client(who, node=i % 2, rooms=[rooms[i // 4]])
            if i % 4 < 2:
                senders.append((client, rooms[i // 4]))
        await s.all_live()
        load = Load(senders, rate=5)
        load.start()
        await asyncio.sleep(1.5)  # load before the fault
        cluster.pg.stop_immediately()
        await probe_outage(cluster, s.rest.http, rooms[0])
        await asyncio.sleep(down_s)  # the outage
        cluster.pg.start()
        for node in cluster.nodes:  # the pool reconnects by itself
            assert await asyncio.to_thread(node.wait_ready, 60), node.output()
        await asyncio.sleep(1.5)  # load after the recovery
        await load.stop()
        await s.converge(live_within=30)
        assert [n.process.pid for n in cluster.nodes if n.process] == pids  # no restart
        assert not s.rest.broken  # no 500, no 503 with another code (probe_outage saw the 503s)
        unavailable = sum(
            1 for c in s.clients for e in c.errors if e.get("code") == "database_unavailable"
        )
        return {**s.report, "sent": load.sent, "ws_503": unavailable, "rest": s.rest.statuses}


def test_f3_postgres_down_5s_answers_503_and_recovers(cluster: Cluster) -> None:
    report = asyncio.run(postgres_outage(cluster, 5))
    print(f"F3 {report}")  # noqa: T201 -- figures for the report (pytest -s)


@pytest.mark.slow
def test_f3_postgres_down_60s_answers_503_and_recovers(cluster: Cluster) -> None:
    report = asyncio.run(postgres_outage(cluster, 60))
    print(f"F3-60s {report}")  # noqa: T201 -- figures for the report (pytest -s)
