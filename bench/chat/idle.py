"""Idle connections: memory per connection and the CPU cost of heartbeats.

A warm-up of 100 connections is opened and closed first (so imports, caches and pools are in
place), the server's RSS is read, then every client connects, authenticates and resumes. After
5 s of settling the RSS is read again: (after - before) / connections is the memory per idle
connection. The clients then stay idle for ``duration_s``, each sending the protocol's ``ping``
every ``heartbeat_s`` (20 s); the server's CPU over that window, as a percentage of one core,
is the idle cost (heartbeats, the 60 s session re-check of every socket, the 30 s presence
refresh).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench.chat.client import Recorder
from bench.chat.load import client_specs, close_all, connect_all
from bench.chat.procstats import ProcSampler, status_field
from bench.chat.scenarios import Scenario
from bench.chat.setup import World

WARMUP = 100
SETTLE_S = 5.0


async def run_idle(
    world: World,
    ws_urls: list[str],
    sc: Scenario,
    sampler: ProcSampler,
    *,
    compression: str | None,
) -> dict[str, Any]:
    rec = Recorder()
    specs = client_specs(world, ws_urls)
    warm, warm_readers, _ = await connect_all(
        specs[:WARMUP], rec, compression=compression, concurrency=50
    )
    await close_all(warm, warm_readers)
    await asyncio.sleep(SETTLE_S)
    before = sampler.rss("server")
    clients, readers, connect_s = await connect_all(
        specs, rec, compression=compression, concurrency=200
    )
    await asyncio.sleep(SETTLE_S)
    after = sampler.rss("server")
    sampler.mark()
    await asyncio.sleep(sc.duration_s)
    server = sampler.report()
    open_at_end = sum(1 for task in readers if not task.done())
    generator_rss = status_field(os.getpid(), "VmRSS") or 0
    started = time.perf_counter()
    await close_all(clients, readers)
    close_s = time.perf_counter() - started
    server_stats = server["server"]
    assert isinstance(server_stats, dict)
    n = len(clients)
    return {
        "clients": n,
        "connect_s": round(connect_s, 1),
        "connections_per_s": round(n / connect_s, 1),
        "server_rss_before_mb": round(before / 2**20, 1),
        "server_rss_after_mb": round(after / 2**20, 1),
        "kb_per_connection": round((after - before) / n / 1024, 1),
        "idle_window_s": sc.duration_s,
        "idle_cpu_pct_of_core": server_stats["cpu_pct_of_core"],
        "still_open_at_end": open_at_end,
        "close_all_s": round(close_s, 1),
        "generator_rss_mb": round(generator_rss / 2**20, 1),
        "errors": dict(rec.errors),
        "closes": dict(rec.closes),
        "server": server,
    }
