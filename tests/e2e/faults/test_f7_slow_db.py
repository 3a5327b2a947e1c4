"""F7: a slow database. Node A's failpoint ``db.slow=sleep:5`` starts each of its transactions
with a 5 s ``pg_sleep``; its statement timeout is 2 s. Requests to node A fail fast with 503
``database_unavailable`` (well before the 5 s), its /readyz fails so a balancer drains it, no
database session stays busy after the fault is gone, and node B serves normally throughout."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.scenario import scenario

pytestmark = pytest.mark.e2e
FAIL_FAST_S = 4.0  # statement timeout 2 s, plus a noisy machine's scheduling


def pg_now(cluster: Cluster) -> str:
    return str(cluster.pg.execute("SELECT clock_timestamp()::text")[0][0])


def left_over(cluster: Cluster, since: str) -> list[tuple[object, ...]]:
    """Sodam's sessions still inside a transaction begun before ``since`` (while the database
    was slow), and any failpoint sleep begun after it. New work after the fault is not counted:
    on a loaded machine the nodes' job runners and session checks keep some session busy most
    of the time, which a count of all non-idle sessions mistook for a hanging writer."""
    return cluster.pg.execute(
        "SELECT pid, state, xact_start::text, query_start::text, left(query, 120) "
        "FROM pg_stat_activity WHERE application_name = 'sodam' AND state <> 'idle' AND "
        f"(xact_start < '{since}'::timestamptz OR "
        f"(query LIKE 'SELECT pg_sleep%' AND query_start >= '{since}'::timestamptz))"
    )


async def slow_database(cluster: Cluster) -> dict[str, object]:
    node_a, node_b = cluster.nodes
    async with scenario(cluster) as s:
        users = cluster.users
        room = await s.room(users[0], users[1:4])
        on_a = await s.client(users[1], node=0, rooms=[room])
        on_b = await s.client(users[2], node=1, rooms=[room])
        await s.all_live()
        http = s.rest.http
        node_a.arm("db.slow=sleep:5")
        loop = asyncio.get_running_loop()
        timings = []
        for i in range(3):
            start = loop.time()
            r = await http.post(
                f"{node_a.url}/api/rooms/{room}/messages",
                headers=users[0].headers,
                json={"client_msg_id": f"f7-rest-{i}", "body": "느린 DB"},
            )
            timings.append(loop.time() - start)
            assert r.status_code == 503 and r.json()["code"] == "database_unavailable", r.text
        start = loop.time()
        sending = asyncio.create_task(on_a.send(room, "느린 DB, 소켓으로", within=60))
        while not any(e.get("code") == "database_unavailable" for e in on_a.errors):
            assert loop.time() - start < 30, "no error frame while the database was slow"
            await asyncio.sleep(0.02)  # polling the client's record
        timings.append(loop.time() - start)  # an error frame, then the client retries
        start = loop.time()
        ready = await http.get(f"{node_a.url}/readyz")
        readyz_s = loop.time() - start
        assert ready.status_code == 503, ready.text
        assert (await http.get(f"{node_b.url}/readyz")).status_code == 200
        ok = await on_b.send(room, "B는 정상", within=10)
        assert ok is not None  # the other node is unaffected
        node_a.arm("")
        disarmed_at = pg_now(cluster)
        assert await asyncio.to_thread(node_a.wait_ready, 30)
        assert await on_a.send(room, "다시 정상", within=30) is not None
        assert await sending is not None  # the retried send went through once it could
        # No writer left hanging in the database: the transactions begun while it was slow end
        # (their statements time out at 2 s), and no new one sleeps.
        for _ in range(300):  # a last guard of 30 s: waits for the state, not for a time
            if not (hanging := left_over(cluster, disarmed_at)):
                break
            await asyncio.sleep(0.1)
        assert not hanging, hanging
        await s.converge(live_within=30)
        assert max(timings) < FAIL_FAST_S, timings
        return {
            **s.report,
            "fail_s": [round(t, 2) for t in timings],
            "readyz_s": round(readyz_s, 2),
        }


def test_f7_slow_database_fails_fast_and_drains(cluster: Cluster) -> None:
    report = asyncio.run(slow_database(cluster))
    print(f"F7 {report}")  # noqa: T201 -- figures for the report (pytest -s)
