"""The shape every fault test shares: rooms and clients spread over both nodes, a steady load of
sends (over the socket and over REST) with some edits and reactions, then the fault, then the
oracle. ``Scenario`` owns the clients and stops them whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.faults.clients import Client
from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.oracle import (
    assert_idle,
    check_invariants,
    final_resume,
    wait_live_convergence,
)
from tests.e2e.faults.rest import Account, Rest

JSON = dict[str, Any]
_names = itertools.count(1)


@dataclass
class Scenario:
    cluster: Cluster
    rest: Rest
    clients: list[Client] = field(default_factory=list)
    room_ids: list[int] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    async def room(self, owner: Account, members: list[Account]) -> int:
        body = {
            "kind": "group",
            "name": f"장애 시험 {next(_names)}",
            "member_ids": [m.user_id for m in members],
            "history_visibility": "all",
        }
        created = await self.rest.must("POST", "/api/rooms", owner, json=body)
        room_id = int(created["id"])
        self.cluster.rooms.owners[room_id] = owner
        self.room_ids.append(room_id)
        return room_id

    async def client(
        self, who: Account, node: int, rooms: list[int], twin: Client | None = None
    ) -> Client:
        """A connected, resumed client of ``who`` on ``node`` following ``rooms``."""
        client = Client(f"{who.username}.{len(self.clients)}", who, self.rest, prefer=node)
        if twin is not None:
            client.copy_state_from(twin)
        else:
            await client.load(rooms)
        self.clients.append(client)
        client.start()
        return client

    async def all_live(self, within: float = 60) -> None:
        await asyncio.gather(*(c.wait_live(within) for c in self.clients))

    async def converge(self, *, live_within: float = 30, prefer: int | None = None) -> None:
        """The oracle: live convergence (no client action but the gap rule), then each client's
        final resume, then I1–I5; then the clients leave and I6 is checked on the nodes."""
        live = await wait_live_convergence(
            self.clients, self.rest, self.cluster.rooms, self.room_ids, live_within
        )
        await final_resume(self.clients, prefer)
        self.report.update(
            await check_invariants(self.rest, self.cluster.rooms, self.room_ids, self.clients)
        )
        self.report["live_convergence_s"] = round(live, 2)
        await self.stop_clients()
        running = [n for n in self.cluster.nodes if n.running]
        await assert_idle(running, self.cluster.fds)

    async def stop_clients(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.clients), return_exceptions=True)


@asynccontextmanager
async def scenario(cluster: Cluster) -> AsyncIterator[Scenario]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        s = Scenario(cluster, Rest(cluster.urls, http))
        try:
            yield s
        finally:
            await s.stop_clients()


class Load:
    """Each sender keeps sending to its room, ``rate`` messages/s, until stopped; every fifth
    message goes over REST instead of the socket, and now and then a sender edits one of its
    messages or reacts to one. REST sends retry like a client (same client_msg_id)."""

    def __init__(self, senders: list[tuple[Client, int]], rate: float = 4.0) -> None:
        self.senders = senders
        self.rate = rate
        self.sent = 0
        self.unacked = 0
        self.latencies: list[float] = []  # send to ack, seconds, of socket sends
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(c, r)) for c, r in self.senders]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _run(self, client: Client, room_id: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            body = f"{client.name} 메시지 {n}"
            if n % 5 == 0:
                await rest_send(client, room_id, body)
            else:
                started = asyncio.get_running_loop().time()
                acked = await client.send(room_id, body, within=90)
                self.unacked += acked is None
                if acked is not None:
                    self.latencies.append(asyncio.get_running_loop().time() - started)
            self.sent += 1
            if n % 7 == 0:
                await self._change_something(client, room_id, n)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), random.expovariate(self.rate))

    async def _change_something(self, client: Client, room_id: int, n: int) -> None:
        mine = [a for a in client.acks if a["room_id"] == room_id]
        if not mine:
            return
        target = random.choice(mine)["id"]
        path = f"/api/rooms/{room_id}/messages/{target}"
        if n % 2:
            await client.rest.call("PATCH", path, client.who, json={"body": f"고침 {n}"})
        else:
            await client.rest.call(
                "PUT", f"{path}/reaction", client.who, json={"reaction": "heart"}
            )


async def rest_send(client: Client, room_id: int, body: str, within: float = 90) -> JSON | None:
    """A send over REST, retried through outages with the same client_msg_id."""
    cmid = f"{client.name}-rest-{next(_names):06d}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    delay = 0.1
    while loop.time() < deadline:
        r = await client.rest.call(
            "POST",
            f"/api/rooms/{room_id}/messages",
            client.who,
            prefer=client.prefer,
            json={"client_msg_id": cmid, "body": body},
        )
        if r is not None and r.status_code in (200, 201):
            answer: JSON = r.json()
            client.acks.append({**answer["message"], "duplicate": answer["duplicate"]})
            return answer
        if r is not None and r.status_code != 503:
            client.violations.append(f"REST send {cmid}: {r.status_code} {r.text[:200]}")
            return None
        await asyncio.sleep(random.uniform(delay / 2, delay))
        delay = min(delay * 2, 2.0)
    return None
