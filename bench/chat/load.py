"""Message load: N clients in M rooms sending at a rate, or as fast as acks allow, for T seconds.

Every client connects, authenticates and resumes before the clock starts. Senders then either
send ``rate`` messages/s each at fixed times (phases spread evenly so the room sees a steady
stream), or keep ``window`` sends unanswered (closed loop: the next send goes when an ack comes
back). The server handles one socket's frames in order, so the effective concurrency of a
closed loop is the number of sending sockets. After T seconds sending stops and the run waits up
to ``drain_s`` for the last acks and deliveries; server CPU is counted over the T seconds only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.chat.client import Client, ClientSpec, Recorder
from bench.chat.procstats import ProcSampler
from bench.chat.setup import World
from bench.chat.stats import percentiles


@dataclass
class LoadParams:
    duration_s: float = 30.0
    rate: float | None = None  # messages/s per sender; None = closed loop
    window: int = 1  # unanswered sends per sender in closed loop
    senders: int | None = None  # the first K users send; None = everyone
    drain_s: float = 10.0
    compression: str | None = None
    connect_concurrency: int = 200


def client_specs(world: World, node_ws_urls: list[str]) -> list[ClientSpec]:
    rooms_of = world.rooms_of()
    specs: list[ClientSpec] = []
    for i, user in enumerate(world.users):
        mine = rooms_of.get(user.id, [])
        specs.append(
            ClientSpec(
                url=node_ws_urls[i % len(node_ws_urls)],
                user_id=user.id,
                token=user.token,
                cursors={r.id: r.head for r in mine},
                send_rooms=[r.id for r in mine],
            )
        )
    return specs


async def connect_all(
    specs: list[ClientSpec], rec: Recorder, *, compression: str | None, concurrency: int
) -> tuple[list[Client], list[asyncio.Task[None]], float]:
    """Connects and resumes every client; returns them, their reader tasks and the seconds
    it took."""
    started = time.perf_counter()
    gate = asyncio.Semaphore(concurrency)
    clients = [Client(s, rec, compression=compression) for s in specs]
    readers: list[asyncio.Task[None]] = []

    async def one(client: Client) -> None:
        async with gate:
            await client.connect()
            readers.append(asyncio.create_task(client.run()))
            await asyncio.wait_for(client.resumed.wait(), 120)

    await asyncio.gather(*(one(c) for c in clients))
    return clients, readers, time.perf_counter() - started


async def close_all(clients: list[Client], readers: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


async def run_load(
    world: World, node_ws_urls: list[str], params: LoadParams, sampler: ProcSampler
) -> dict[str, Any]:
    rec = Recorder()
    specs = client_specs(world, node_ws_urls)
    room_size = {r.id: len(r.member_ids) for r in world.rooms}
    clients, readers, connect_s = await connect_all(
        specs, rec, compression=params.compression, concurrency=params.connect_concurrency
    )
    senders = clients[: params.senders] if params.senders else clients
    await asyncio.sleep(1.0)  # let the resume handshakes settle before the clock starts
    start = time.perf_counter() + 0.2
    end = start + params.duration_s
    rec.window = (start, end)
    sampler.mark()
    n = len(senders)
    if params.rate is not None:
        rate = params.rate
        tasks = [
            asyncio.create_task(c.send_paced(rate, start, end, phase=(i / n) / rate))
            for i, c in enumerate(senders)
        ]
    else:
        window = params.window

        async def closed_loop(c: Client) -> None:
            delay = start - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await c.send_window(window, end)

        tasks = [asyncio.create_task(closed_loop(c)) for c in senders]
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    server = sampler.report()
    await asyncio.gather(*tasks, return_exceptions=True)
    # Drain: wait for outstanding acks and for every acked message to reach every member.
    deadline = time.perf_counter() + params.drain_s
    while time.perf_counter() < deadline:
        outstanding = sum(len(c.pending) for c in clients)
        delivered = sum(int(v[0]) for v in rec.per_message.values())
        expected = _expected_deliveries(clients, rec, room_size)
        if outstanding == 0 and delivered >= expected:
            break
        await asyncio.sleep(0.1)
    await close_all(clients, readers)
    return summarise(rec, clients, room_size, params, server, connect_s)


def _expected_deliveries(clients: list[Client], rec: Recorder, room_size: dict[int, int]) -> int:
    return sum(
        (room_size[room] - 1) * count for c in clients for room, count in c.acked_by_room.items()
    )


def summarise(
    rec: Recorder,
    clients: list[Client],
    room_size: dict[int, int],
    params: LoadParams,
    server: dict[str, Any],
    connect_s: float,
) -> dict[str, Any]:
    expected_receivers: dict[int, int] = {}
    for c in clients:
        for message_id, room in c.acked_ids.items():
            expected_receivers[message_id] = room_size[room] - 1
    complete = [
        worst
        for mid, (count, worst, _sent_at) in rec.per_message.items()
        if count >= expected_receivers.get(mid, 1 << 30)
    ]
    # The slowest messages and when they were sent (seconds into the run): periodic stalls
    # (the 60 s session re-check, the 30 s presence refresh) show up as regular offsets.
    slowest = sorted(rec.per_message.values(), key=lambda v: v[1], reverse=True)[:8]
    incomplete = sum(
        1
        for mid, want in expected_receivers.items()
        if rec.per_message.get(mid, [0, 0.0, 0.0])[0] < want
    )
    return {
        "clients": len(clients),
        "connect_s": round(connect_s, 2),
        "duration_s": params.duration_s,
        "acked_msgs_per_s": round(rec.acks_in_window / params.duration_s, 1),
        "deliveries_per_s": round(rec.deliveries_in_window / params.duration_s, 1),
        "send_to_ack_ms": percentiles(rec.ack_ms),
        "send_to_delivered_ms": percentiles(rec.delivered_ms),
        "send_to_last_member_ms": percentiles(complete),
        "messages": {
            "sent": rec.sent,
            "acked": rec.acks,
            "acked_in_window": rec.acks_in_window,
            "delivered_to_every_member": len(complete),
            "not_delivered_to_every_member": incomplete,
            "deliveries": rec.deliveries,
        },
        "slowest_messages": [
            {"sent_at_s": round(sent_at - rec.window[0], 2), "last_member_ms": round(worst, 1)}
            for _count, worst, sent_at in slowest
        ],
        "errors": dict(rec.errors),
        "closes": dict(rec.closes),
        "order_violations": {
            "gaps": rec.gaps,
            "repeats": rec.repeats,
            "gap_examples": rec.gap_examples,  # (user, room, expected seq, received seq)
        },
        "server": server,
    }
