"""Reconnect storm: every client reconnects at once after missing messages in each of its rooms.

1. Every client connects and resumes (it was online), then all disconnect.
2. While they are away, the first member of each room sends ``missed_per_room`` messages into it
   (real sends through the gateway, acknowledged, so they are in the event log).
3. All clients reconnect at the same moment, each with its old cursors, and resume. A client has
   converged when the server said ``resumed`` and, for every one of its rooms, it holds every
   event up to the room's newest, in order (the client checks seqs: gaps and repeats are errors).

Reported: the time until the last client converged, per-client percentiles, and errors (error
frames, closes, failed connections, ``resync_required``, gaps, repeats).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.chat.client import Client, Recorder
from bench.chat.load import client_specs, close_all, connect_all
from bench.chat.procstats import ProcSampler
from bench.chat.scenarios import Scenario
from bench.chat.setup import World
from bench.chat.stats import percentiles


async def post_missed(
    world: World, ws_urls: list[str], per_room: int, compression: str | None
) -> dict[int, int]:
    """Each room's first member sends ``per_room`` messages; returns each room's new head."""
    rec = Recorder()
    by_user = {u.id: i for i, u in enumerate(world.users)}
    specs_all = client_specs(world, ws_urls)
    posters: dict[int, list[int]] = {}
    for room in world.rooms:
        posters.setdefault(room.member_ids[0], []).append(room.id)
    specs = []
    for user_id, rooms in posters.items():
        spec = specs_all[by_user[user_id]]
        spec.send_rooms = rooms
        specs.append(spec)
    clients, readers, _ = await connect_all(specs, rec, compression=compression, concurrency=100)
    heads: dict[int, int] = {}

    async def post(c: Client) -> None:
        for room_id in c.spec.send_rooms:
            for _ in range(per_room):
                await c.send_one(room_id)
                while c.pending:
                    c.slot.clear()
                    await c.slot.wait()

    await asyncio.gather(*(post(c) for c in clients))
    for c in clients:
        heads.update(c.acked_heads)
    await asyncio.sleep(0.5)
    await close_all(clients, readers)
    if rec.errors or rec.acks != per_room * len(world.rooms):
        raise RuntimeError(f"posting the missed messages failed: {rec.errors}, acks {rec.acks}")
    return heads


async def run_storm(
    world: World,
    ws_urls: list[str],
    sc: Scenario,
    sampler: ProcSampler,
    *,
    compression: str | None,
) -> dict[str, Any]:
    per_room = int(sc.extra["missed_per_room"])
    rec = Recorder()
    specs = client_specs(world, ws_urls)
    online, online_readers, first_connect_s = await connect_all(
        specs, rec, compression=compression, concurrency=200
    )
    cursors = [dict(c.cursors) for c in online]
    await close_all(online, online_readers)
    await asyncio.sleep(2.0)
    heads = await post_missed(world, ws_urls, per_room, compression)
    await asyncio.sleep(2.0)

    storm_rec = Recorder()
    done_at: list[float] = []
    failures: list[str] = []
    clients: list[Client] = []
    readers: list[asyncio.Task[None]] = []
    for spec, cursor in zip(specs, cursors, strict=True):
        spec.cursors = cursor
        clients.append(Client(spec, storm_rec, compression=compression))

    async def reconnect(c: Client, t0: float) -> None:
        remaining = {room for room in c.spec.cursors if c.cursors[room] < heads.get(room, 0)}
        caught_up = asyncio.Event()

        def on_event(client: Client, room: int, seq: int) -> None:
            if room in remaining and seq >= heads.get(room, 0):
                remaining.discard(room)
                if not remaining:
                    caught_up.set()

        c.on_event = on_event
        if not remaining:
            caught_up.set()
        try:
            await c.connect()
        except Exception as exc:  # a failed connection is a result, not a crash
            failures.append(type(exc).__name__)
            return
        readers.append(asyncio.create_task(c.run()))
        await asyncio.wait_for(asyncio.gather(c.resumed.wait(), caught_up.wait()), 120)
        done_at.append(time.perf_counter() - t0)

    sampler.mark()
    t0 = time.perf_counter()
    outcome = await asyncio.gather(*(reconnect(c, t0) for c in clients), return_exceptions=True)
    converged_s = time.perf_counter() - t0
    server = sampler.report()
    timeouts = sum(1 for o in outcome if isinstance(o, BaseException))
    await asyncio.sleep(0.5)
    await close_all(clients, readers)
    errors = sum(storm_rec.errors.values()) + sum(storm_rec.closes.values())
    errors += len(failures) + timeouts + storm_rec.gaps + storm_rec.repeats
    return {
        "clients": len(clients),
        "rooms_per_client": sc.rooms_per_user,
        "missed_per_room": per_room,
        "missed_events_per_client": per_room * sc.rooms_per_user,
        "first_connect_s": round(first_connect_s, 1),
        "converged_s": round(converged_s, 2) if len(done_at) == len(clients) else None,
        "converged_clients": len(done_at),
        "per_client_s": percentiles(done_at),
        "error_count": errors,
        "errors": dict(storm_rec.errors),
        "closes": dict(storm_rec.closes),
        "connect_failures": failures,
        "timeouts": timeouts,
        "order_violations": {"gaps": storm_rec.gaps, "repeats": storm_rec.repeats},
        "server": server,
    }
