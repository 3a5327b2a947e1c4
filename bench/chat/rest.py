"""REST request latency and server CPU per request: ``python -m bench.chat.rest``.

One client on a keep-alive connection sends requests one after another to a fresh embedded
server (SQLite): a page of history (``GET /api/rooms/{id}/messages?limit=20``), the room
(``GET /api/rooms/{id}``) and a message (``POST /api/rooms/{id}/messages``), in turns. Reported:
each kind's latency percentiles and the server's CPU time per request (its ``/proc`` counters
over the measured requests, all threads), so a change on the request path (a dependency, a
middleware) shows as microseconds of CPU even where the latency hides it. ``--rev`` runs the
server from a git revision, for a before/after on the same machine in the same hour.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from typing import Any

import httpx

from bench.chat.procstats import cpu_seconds
from bench.chat.scenarios import COMMON_LIMITS, UNLIMITED_SENDS
from bench.chat.servers import export_rev, start_embedded
from bench.chat.setup import build_rest
from bench.chat.stats import machine, percentiles, write_result

WARMUP = 300  # requests before measuring (imports, caches, the first thread-pool use)


def _cpu_s(pid: int) -> float:
    seconds = cpu_seconds(pid)
    if seconds is None:
        raise RuntimeError(f"the server (PID {pid}) is gone")
    return seconds


async def _run(url: str, pid: int, admin_password: str, requests: int) -> dict[str, Any]:
    world = await build_rest(url, "admin", admin_password, [[0, 1]], 2, tag=f"rest{os.getpid()}")
    room = world.rooms[0].id
    headers = {"Authorization": f"Bearer {world.users[0].token}"}
    kinds = {
        "history": ("GET", f"/api/rooms/{room}/messages?limit=20"),
        "room": ("GET", f"/api/rooms/{room}"),
        "send": ("POST", f"/api/rooms/{room}/messages"),
    }
    names = list(kinds)
    times: dict[str, list[float]] = {k: [] for k in kinds}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30.0) as http:

        async def one(kind: str) -> float:
            method, path = kinds[kind]
            body = (
                {"client_msg_id": uuid.uuid4().hex, "body": "안녕하세요"}
                if kind == "send"
                else None
            )
            t = time.perf_counter()
            r = await http.request(method, path, json=body)
            ms = (time.perf_counter() - t) * 1000
            r.raise_for_status()
            return ms

        for i in range(WARMUP):
            await one(names[i % len(names)])
        cpu0, t0 = _cpu_s(pid), time.perf_counter()
        for i in range(requests):
            kind = names[i % len(names)]
            times[kind].append(await one(kind))
        wall, cpu = time.perf_counter() - t0, _cpu_s(pid) - cpu0
    return {
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "server_cpu_us_per_request": round(cpu / requests * 1e6, 1),
        "latency_ms": {k: percentiles(v) for k, v in times.items()},
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    p.add_argument("--repeat", type=int, default=3, help="runs, each on a fresh server")
    p.add_argument("--rev", help="run the server from this git revision (git archive)")
    args = p.parse_args()
    if args.rev:
        export_rev(args.rev)
    runs = []
    for i in range(args.repeat):
        stack = start_embedded({**COMMON_LIMITS, **UNLIMITED_SENDS})
        try:
            node = stack.nodes[0]
            run = asyncio.run(_run(node.url, node.pid, stack.admin_password, args.requests))
        finally:
            stack.stop()
        lat = run["latency_ms"]
        print(
            f"[rest] run {i + 1}: {run['requests_per_s']} req/s, "
            f"{run['server_cpu_us_per_request']} µs server CPU/request; p50 ms "
            + ", ".join(f"{k} {v['p50']}" for k, v in lat.items()),
            file=sys.stderr,
        )
        runs.append(run)
    result = {
        "scenario": "rest",
        "backend": "embedded",
        "source": args.rev or "working tree",
        "machine": machine(),
        "runs": runs,
    }
    print(write_result(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
