"""``python -m bench.chat SCENARIO ...``: start a server (or use a running one), build the users
and rooms, run the scenario, write bench/results/<scenario>-<backend>-<time>.json and print the
result against the issue's targets.

Examples::

    python -m bench.chat seed                       # embedded server on SQLite, started here
    python -m bench.chat throughput --backend pg    # PostgreSQL + Redis + two nodes, started here
    python -m bench.chat main                       # the main scenarios, then a summary table
    python -m bench.chat throughput --url http://127.0.0.1:8080 --pid 1234 \\
        --admin-password ...                        # a server someone else started
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.chat import setup as world_setup
from bench.chat.load import LoadParams, run_load
from bench.chat.procstats import ProcSampler
from bench.chat.profiling import ProfilingSampler
from bench.chat.scenarios import COMMON_LIMITS, MAIN, SCENARIOS, Scenario, targets
from bench.chat.servers import (
    PINNING,
    Stack,
    export_rev,
    raise_nofile,
    start_embedded,
    start_pg_two_nodes,
    use_source,
)
from bench.chat.stats import RESULTS_DIR, machine, summary_table, write_result


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__.split("\n")[0])
    p.add_argument("scenarios", nargs="+", help=f"{', '.join(SCENARIOS)} or 'main'")
    p.add_argument("--backend", choices=["embedded", "pg"], default="embedded")
    p.add_argument("--nodes", type=int, default=2, help="pg backend: server nodes (default 2)")
    p.add_argument("--url", action="append", help="use a running server (repeat per node)")
    p.add_argument("--pid", type=int, action="append", help="server PID(s) to measure (--url)")
    p.add_argument("--admin-user", default="admin")
    p.add_argument("--admin-password", help="--url: the admin's password (REST setup)")
    p.add_argument("--database-url", help="--url: the server's database (direct setup)")
    p.add_argument("--secret-key", help="--url: the server's token key (direct setup)")
    p.add_argument("--setup", choices=["auto", "rest", "direct"], default="auto")
    p.add_argument("--users", type=int)
    p.add_argument("--rooms", type=int)
    p.add_argument("--duration", type=float, help="seconds of load (idle: of idling)")
    p.add_argument("--rate", type=float, help="messages/s per sender (0 = as fast as possible)")
    p.add_argument("--window", type=int, help="unanswered sends per sender (closed loop)")
    p.add_argument("--senders", type=int)
    p.add_argument("--rooms-per-user", type=int)
    p.add_argument(
        "--set", action="append", default=[], help="scenario extra, e.g. missed_per_room=50"
    )
    p.add_argument("--compression", choices=["none", "deflate"], default="none")
    p.add_argument("--env", action="append", default=[], help="extra SODAM_X=Y for the server")
    p.add_argument("--profile", help="py-spy record the server into this SVG/speedscope file")
    p.add_argument(
        "--rev", help="run the server from this git revision (git archive), not the working tree"
    )
    p.add_argument("--source", type=Path, help="run the server from this src/ directory")
    p.add_argument("--server-cpus", help="run the server(s) under taskset -c CPUS, e.g. 0")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    p.add_argument("--out", type=Path, default=RESULTS_DIR)
    return p.parse_args(argv)


def scenario_with_overrides(name: str, args: argparse.Namespace) -> Scenario:
    sc = dataclasses.replace(SCENARIOS[name])
    for attr, value in (
        ("users", args.users),
        ("rooms", args.rooms),
        ("duration_s", args.duration),
        ("window", args.window),
        ("senders", args.senders),
        ("rooms_per_user", args.rooms_per_user),
    ):
        if value is not None:
            setattr(sc, attr, value)
    if args.rate is not None:
        sc.rate = args.rate or None
    sc.extra = dict(sc.extra)
    for item in args.set:
        key, _, value = item.partition("=")
        sc.extra[key] = int(value) if value.isdigit() else value
    return sc


def server_limits(sc: Scenario, args: argparse.Namespace) -> dict[str, str]:
    limits = {**COMMON_LIMITS, **sc.limits}
    for item in args.env:
        key, _, value = item.partition("=")
        limits[key] = value
    return limits


async def build_world(
    sc: Scenario, args: argparse.Namespace, stack: Stack | None, urls: list[str]
) -> world_setup.World:
    rooms = world_setup.layout(sc.users, sc.rooms, sc.rooms_per_user)
    tag = f"{sc.name}{int(time.time()) % 100000}"
    mode = args.setup
    database_url = stack.database_url if stack else args.database_url
    secret = stack.secret_key if stack else args.secret_key
    if mode == "auto":
        mode = "direct" if sc.users > 100 and database_url and secret else "rest"
    if mode == "direct":
        if not (database_url and secret):
            raise SystemExit("direct setup needs --database-url and --secret-key")
        return await world_setup.build_direct(database_url, secret, rooms, sc.users, tag=tag)
    password = stack.admin_password if stack else args.admin_password
    if not password:
        raise SystemExit("REST setup needs --admin-password")
    return await world_setup.build_rest(
        urls[0], args.admin_user, password, rooms, sc.users, tag=tag
    )


async def run_scenario(name: str, args: argparse.Namespace) -> dict[str, Any]:
    sc = scenario_with_overrides(name, args)
    backend = sc.backend or args.backend
    limits = server_limits(sc, args)
    stack: Stack | None = None
    sampler = ProfilingSampler(Path(args.profile)) if args.profile else ProcSampler()
    if args.url:
        urls = list(args.url)
        sampler.add("server", list(args.pid or []))
        if isinstance(sampler, ProfilingSampler) and args.pid:
            sampler.pid = args.pid[0]
    else:
        print(f"[{name}] starting the {backend} server ...", file=sys.stderr)
        stack = await asyncio.to_thread(
            start_pg_two_nodes if backend == "pg" else start_embedded,
            limits,
            keep=args.keep,
        )
        urls = [n.url for n in stack.nodes]
        sampler.add("server", [n.pid for n in stack.nodes])
        if isinstance(sampler, ProfilingSampler):
            sampler.pid = stack.nodes[0].pid
        if stack.pg_pid is not None:
            sampler.add("postgres", [stack.pg_pid], with_children=True)
        if stack.redis is not None:
            sampler.add("redis", [stack.redis.pid])
    sampler.start()
    ws_urls = [u.replace("http://", "ws://") + "/api/ws" for u in urls]
    try:
        if sc.kind == "history":
            from bench.chat.history import run_history

            result, setup_info = await run_history(sc, args, stack, urls, sampler)
        else:
            print(f"[{name}] creating {sc.users} users and {sc.rooms} rooms ...", file=sys.stderr)
            world = await build_world(sc, args, stack, urls)
            setup_info = {"setup": world.setup, "setup_s": round(world.setup_s, 1)}
            print(f"[{name}] running ...", file=sys.stderr)
            result = await run_kind(sc, args, world, ws_urls, sampler, urls)
    finally:
        sampler.stop()
        described = stack.describe() if stack else {"mode": "external", "nodes": urls}
        if stack is not None:
            await asyncio.to_thread(stack.stop)
    return {
        "scenario": name,
        "backend": backend if stack else "external",
        "about": sc.about,
        "params": {k: v for k, v in dataclasses.asdict(sc).items() if k != "limits"},
        "server_limits": limits,
        "compression": args.compression,
        "server_cpus": args.server_cpus,
        "machine": machine(),
        "source": args.rev or (str(args.source) if args.source else "working tree"),
        "stack": described,
        "setup": setup_info,
        "result": result,
        "targets": targets(name, backend, result),
        "profile": getattr(sampler, "summary", None),
    }


async def run_kind(
    sc: Scenario,
    args: argparse.Namespace,
    world: world_setup.World,
    ws_urls: list[str],
    sampler: ProcSampler,
    urls: list[str],
) -> dict[str, Any]:
    compression = None if args.compression == "none" else args.compression
    if sc.kind == "load":
        params = LoadParams(
            duration_s=sc.duration_s,
            rate=sc.rate,
            window=sc.window,
            senders=sc.senders,
            compression=compression,
        )
        return await run_load(world, ws_urls, params, sampler)
    if sc.kind == "idle":
        from bench.chat.idle import run_idle

        return await run_idle(world, ws_urls, sc, sampler, compression=compression)
    if sc.kind == "storm":
        from bench.chat.storm import run_storm

        return await run_storm(world, ws_urls, sc, sampler, compression=compression)
    raise SystemExit(f"unknown scenario kind {sc.kind}")


def brief(result: dict[str, Any]) -> str:
    r = result["result"]
    keys = [
        "acked_msgs_per_s",
        "deliveries_per_s",
        "send_to_ack_ms",
        "send_to_delivered_ms",
        "send_to_last_member_ms",
        "messages",
        "errors",
        "closes",
        "kb_per_connection",
        "idle_cpu_pct_of_core",
        "converged_s",
        "room_list_ms",
        "history_latest_ms",
        "history_random_ms",
        "server",
    ]
    return json.dumps({k: r[k] for k in keys if k in r}, ensure_ascii=False, indent=1)


async def amain(args: argparse.Namespace) -> int:
    names: list[str] = []
    for name in args.scenarios:
        names.extend(MAIN if name == "main" else [name])
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    PINNING["cpus"] = args.server_cpus
    if args.rev:
        export_rev(args.rev)
    elif args.source:
        use_source(args.source)
    results = []
    for name in names:
        result = await run_scenario(name, args)
        path = write_result(result, args.out)
        print(f"[{name}] {brief(result)}\n[{name}] written to {path}", file=sys.stderr)
        results.append(result)
    print(summary_table(results))
    return 0


def main() -> int:
    raise_nofile()
    return uvloop.run(amain(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
