"""F14: SIGTERM to a node under load (a rolling restart). Its WebSocket clients are told 1012 and
resume on the other node without loss; REST requests in flight either finish or fail in a way a
client retries (no answer, or 503), never a 500; the node exits cleanly and comes back (I1–I6)."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from tests.e2e.faults.clients import Client
from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.scenario import Load, Scenario, scenario

pytestmark = pytest.mark.e2e


async def rolling_restart(cluster: Cluster) -> dict[str, object]:
    node_a = cluster.nodes[0]
    async with scenario(cluster) as s:
        users = cluster.users
        room = await s.room(users[0], users[1:8])
        clients = [await s.client(who, node=i % 2, rooms=[room]) for i, who in enumerate(users[:8])]
        await s.all_live()
        on_a = [c for c in clients if c.prefer == 0]
        load = Load([(c, room) for c in clients[:4]], rate=6)
        load.start()
        await asyncio.sleep(1.5)  # load before the restart
        sockets_on_a = {c.name: c.sockets[-1] for c in on_a}
        node_a.arm("db.slow=sleep:1")  # requests take a second: some are in flight at SIGTERM
        inflight = [asyncio.create_task(post(s, clients[i], room, i)) for i in range(6)]
        await asyncio.sleep(0.3)
        node_a.terminate()
        code = await asyncio.to_thread(node_a.reap)
        assert code in (0, -signal.SIGTERM), node_a.output()
        outcomes = await asyncio.gather(*inflight)
        assert set(outcomes) <= {"finished", "retried"}, outcomes
        await asyncio.sleep(1.0)  # load while node A is away
        node_a.ensure_running()
        await asyncio.sleep(1.5)  # load with node A back
        await load.stop()
        codes = {name: sock.close_code for name, sock in sockets_on_a.items()}
        assert set(codes.values()) == {1012}, codes
        assert all(c.prefer == 1 for c in on_a)  # resumed on the other node
        await s.converge(live_within=30)
        return {
            **s.report,
            "sent": load.sent,
            "in_flight_at_sigterm": {o: outcomes.count(o) for o in set(outcomes)},
            "close_codes": codes,
        }


async def post(s: Scenario, client: Client, room: int, i: int) -> str:
    """A REST send to node A that is in flight when it gets SIGTERM: it either finishes (2xx)
    or fails so that a client retries it (no answer, or 503): then retried on node B."""
    cmid = f"f14-inflight-{i}"
    body = {"client_msg_id": cmid, "body": f"종료 중 {i}"}
    url = f"{s.cluster.nodes[0].url}/api/rooms/{room}/messages"
    try:
        r = await s.rest.http.post(url, headers=client.who.headers, json=body)
    except httpx.TransportError:
        outcome = "retried"
    else:
        if r.status_code < 300:
            client.acks.append({**r.json()["message"], "duplicate": r.json()["duplicate"]})
            return "finished"
        assert r.status_code == 503, r.text
        outcome = "retried"
    path = f"/api/rooms/{room}/messages"
    answer = await s.rest.must("POST", path, client.who, prefer=1, json=body)
    client.acks.append({**answer["message"], "duplicate": answer["duplicate"]})
    return outcome


def test_f14_sigterm_under_load_loses_nothing(cluster: Cluster) -> None:
    report = asyncio.run(rolling_restart(cluster))
    print(f"F14 {report}")  # noqa: T201 -- figures for the report (pytest -s)
