"""``python -m bench.files SCENARIO ...``: the file upload benchmark (docs/performance.md, "Files").

Scenarios:

- ``local``: one 300 MiB tus upload over loopback to ``sodam serve`` on SQLite + local disk;
- ``s3``: the same with the files on S3 (a moto server the run starts);
- ``concurrent``: 50 users upload a 10 MiB file each at once while two other users chat (on one
  embedded node, or with ``--layout split`` on PostgreSQL + Redis with the uploads on a node of
  their own);
- ``all``: the three, one after the other.

Each starts its own servers (a fresh ``sodam serve`` per repeat), writes
bench/results/files-<scenario>-<UTC time>.json and prints the result against the targets.

Examples::

    python -m bench.files local --repeat 5
    python -m bench.files s3 --size-mib 100 --breakdown
    python -m bench.files concurrent --uploaders 25 --uploads-per-user 2
    python -m bench.files concurrent --layout split --upload-nice 10
    python -m bench.files local --url http://127.0.0.1:8080 --pid 1234 --admin-password ...
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvloop

from bench.chat.scenarios import COMMON_LIMITS, UNLIMITED_SENDS
from bench.chat.servers import export_rev, raise_nofile, use_source
from bench.chat.stats import RESULTS_DIR, machine, write_result
from bench.files import stack as stacks
from bench.files.concurrent import ConcurrentParams, run_concurrent
from bench.files.measure import MiB, loadavg
from bench.files.report import summary_table, tables, targets
from bench.files.single import Target, run_single

SCENARIOS = ("local", "s3", "concurrent")


def about(name: str, args: argparse.Namespace) -> str:
    if name == "concurrent":
        return (
            f"{args.uploaders} users upload {args.uploads_per_user} x {args.upload_mib} MiB each "
            f"at once ({args.store}) while two other users chat"
            + (
                " (PostgreSQL + Redis: the chat on one node, the uploads on another"
                + (f" at nice {args.upload_nice}" if args.upload_nice else "")
                + ")"
                if args.layout == "split"
                else ""
            )
        )
    where = (
        "SQLite + local disk"
        if name == "local"
        else f"S3 (a {args.s3_server} server on this machine)"
    )
    return f"one {args.size_mib} MiB tus upload over loopback to {where}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.files", description=__doc__.split("\n")[0])
    p.add_argument("scenarios", nargs="+", choices=[*SCENARIOS, "all"])
    p.add_argument("--repeat", type=int, help="runs, each on a fresh server (default 3; 1 --url)")
    p.add_argument("--size-mib", type=int, default=300, help="local/s3: the file (MiB)")
    p.add_argument("--chunk-mib", type=int, default=32, help="bytes per PATCH (MiB)")
    p.add_argument("--store", choices=["local", "s3"], default="local", help="concurrent: where")
    p.add_argument(
        "--layout",
        choices=["single", "split"],
        default="single",
        help="concurrent: one embedded node (SQLite), or PostgreSQL + Redis with the chat on one "
        "node and the uploads on another (as a proxy routing /api/uploads would)",
    )
    p.add_argument(
        "--upload-nice",
        type=int,
        default=0,
        help="--layout split: run the upload node at this CPU priority (nice), as an upload node "
        "sharing a machine with chat nodes would be given a lower CPU weight",
    )
    p.add_argument("--uploaders", type=int, default=50, help="concurrent: users uploading")
    p.add_argument("--uploads-per-user", type=int, default=1)
    p.add_argument("--upload-mib", type=int, default=10, help="concurrent: each file (MiB)")
    p.add_argument("--idle-s", type=float, default=20.0, help="concurrent: chat-only baseline")
    p.add_argument("--probe-rate", type=float, default=10.0, help="chat messages/s per probe user")
    p.add_argument("--url", help="use a running server instead of starting one")
    p.add_argument("--pid", type=int, help="--url: the server's PID (CPU and memory)")
    p.add_argument("--moto-pid", type=int, help="--url: the S3 server's PID, if local")
    p.add_argument("--admin-password", help="--url: the admin's password (REST setup)")
    p.add_argument("--env", action="append", default=[], help="extra SODAM_X=Y for the server")
    p.add_argument("--breakdown", action="store_true", help="time the upload path in the server")
    p.add_argument(
        "--moto-buffer-mib",
        type=int,
        help="moto keeps objects up to this size in memory (default: above 5 MiB on disk)",
    )
    p.add_argument(
        "--s3-server",
        choices=stacks.S3_SERVERS,
        default="moto",
        help="s3: the S3 server the run starts (moto, as the tests use; s3rver, an npm package "
        "that completes multipart uploads by streaming the parts, much faster than moto)",
    )
    p.add_argument("--rev", help="run the server from this git revision (git archive)")
    p.add_argument("--source", type=Path, help="run the server from this src/ directory")
    p.add_argument("--keep", action="store_true", help="keep the servers' data directories")
    p.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    if args.layout == "split" and (args.url or args.breakdown):
        p.error("--layout split starts its own nodes: not with --url, nor with --breakdown")
    if args.upload_nice and args.layout != "split":
        p.error("--upload-nice needs --layout split")
    if args.moto_buffer_mib and args.s3_server != "moto":
        p.error("--moto-buffer-mib is a moto setting: not with --s3-server s3rver")
    return args


def server_env(args: argparse.Namespace, scenario: str) -> dict[str, str]:
    env = dict(COMMON_LIMITS)
    if scenario == "concurrent":
        # The probe sends 10 messages/s per user; the default per-user limit is 5/s.
        env.update(UNLIMITED_SENDS)
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def given_target(args: argparse.Namespace) -> Target | None:
    if not args.url:
        return None
    if not args.admin_password:
        raise SystemExit("--url needs --admin-password (the users are created over REST)")
    return Target(
        url=args.url.rstrip("/"),
        pid=args.pid,
        moto_pid=args.moto_pid,
        admin_password=args.admin_password,
    )


async def run_concurrent_repeats(
    args: argparse.Namespace, workdir: Path, repeat: int
) -> dict[str, Any]:
    params = ConcurrentParams(
        uploaders=args.uploaders,
        uploads_per_user=args.uploads_per_user,
        size=args.upload_mib * MiB,
        chunk_size=args.chunk_mib * MiB,
        idle_s=args.idle_s,
        probe_rate=args.probe_rate,
    )
    runs: list[dict[str, Any]] = []
    described: dict[str, Any] = {}
    for i in range(repeat):
        stack = None
        if args.url:
            described = {"mode": "external", "url": args.url, "store": args.store}
        else:
            print(f"[files-concurrent] run {i + 1}/{repeat}: starting ...", file=sys.stderr)
            stack = await asyncio.to_thread(
                stacks.start,
                args.store,
                server_env(args, "concurrent"),
                keep=args.keep,
                breakdown=args.breakdown,
                moto_key_buffer=args.moto_buffer_mib * MiB if args.moto_buffer_mib else None,
                split=args.layout == "split",
                s3_server=args.s3_server,
            )
            described = stack.describe()
            described["layout"] = args.layout
            print(f"[files-concurrent] server PID {stack.pid}", file=sys.stderr)
        upload_node = stack.upload_node if stack else None
        if upload_node and args.upload_nice:
            stacks.renice(upload_node[1], args.upload_nice)
            described["upload_node_nice"] = args.upload_nice
        try:
            run = await run_concurrent(
                params,
                url=stack.url if stack else args.url.rstrip("/"),
                server_pid=stack.pid if stack else args.pid,
                moto_pid=(stack.moto.pid if stack.moto else None) if stack else args.moto_pid,
                admin_password=stack.sodam.admin_password if stack else args.admin_password,
                database_url=stack.sodam.database_url if stack else None,
                secret_key=stack.sodam.secret_key if stack else None,
                workdir=workdir,
                breakdown_path=stack.breakdown_path if stack else None,
                upload_url=upload_node[0] if upload_node else None,
                upload_pid=upload_node[1] if upload_node else None,
            )
        finally:
            if stack is not None:
                await asyncio.to_thread(stack.stop)
                stacks.remove_breakdown_dir(stack.breakdown_path)
        chat = run["chat"]
        idle, during = chat["idle_ms"], chat["during_ms"]
        print(
            f"[files-concurrent] run {i + 1}: {run['uploads']['ok']} ok, "
            f"{run['uploads']['failed']} failed in {run['uploads']['window_s']} s; chat "
            f"p50/p95/p99 idle {idle['p50']}/{idle['p95']}/{idle['p99']} ms, during "
            f"{during['p50']}/{during['p95']}/{during['p99']} ms (n={during['n']})",
            file=sys.stderr,
        )
        runs.append(run)
    return {
        "params": runs[0]["params"],
        "stack": described,
        "runs": runs,
        "aggregate": aggregate_concurrent(runs),
    }


def aggregate_concurrent(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def spread(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        return {
            "median": round(statistics.median(values), 2),
            "min": round(min(values), 2),
            "max": round(max(values), 2),
        }

    out: dict[str, Any] = {
        "runs": len(runs),
        "failed_uploads": sum(r["uploads"]["failed"] for r in runs),
        "probe_errors": sum(
            sum(r["chat"]["probe"]["errors"].values())
            + sum(r["chat"]["probe"]["closes"].values())
            + r["chat"]["probe"]["undelivered"]
            + r["chat"]["probe"]["gaps"]
            for r in runs
        ),
        "window_s": spread([r["uploads"]["window_s"] for r in runs]),
        "aggregate_mb_per_s": spread([r["uploads"]["aggregate_mb_per_s"] for r in runs]),
    }
    for k in ("p50", "p95", "p99"):
        out[f"idle_{k}_ms"] = spread([r["chat"]["idle_ms"][k] for r in runs])
        out[f"during_{k}_ms"] = spread([r["chat"]["during_ms"][k] for r in runs])
        out[f"ratio_{k}"] = spread(
            [r["chat"]["ratio"][k] for r in runs if r["chat"]["ratio"][k] is not None]
        )
    measured = [r["measured"] for r in runs if r["measured"]]
    if measured:
        out["server_growth_mb"] = spread([m["server"]["growth_mb"] for m in measured])
        out["server_peak_mib"] = spread([m["server"]["peak_mib"] for m in measured])
        out["others_pct_of_core"] = spread([m["others_pct_of_core"] for m in measured])
    return out


async def run_scenario(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    repeat = args.repeat or (1 if args.url else 3)
    described_machine = machine()  # before the run: its load average and fsync time
    if name == "concurrent":
        result = await run_concurrent_repeats(args, workdir, repeat)
        store = args.store
    else:
        store = name
        result = await run_single(
            store,
            size=args.size_mib * MiB,
            chunk_size=args.chunk_mib * MiB,
            repeat=repeat,
            limits=server_env(args, name),
            workdir=workdir,
            given=given_target(args),
            keep=args.keep,
            breakdown=args.breakdown,
            moto_key_buffer=args.moto_buffer_mib * MiB if args.moto_buffer_mib else None,
            s3_server=args.s3_server,
        )
    return {
        "scenario": "files" if name in ("local", "s3") else f"files-{name}",
        "backend": store,
        "about": about(name, args),
        "machine": {**described_machine, "loadavg_at_end": loadavg()},
        "source": args.rev or (str(args.source) if args.source else "working tree"),
        "server_env": server_env(args, name),
        "result": result,
        "targets": targets(name, result),
    }


async def amain(args: argparse.Namespace) -> int:
    names = list(SCENARIOS) if "all" in args.scenarios else list(dict.fromkeys(args.scenarios))
    if args.rev:
        export_rev(args.rev)
    elif args.source:
        use_source(args.source)
    workdir = Path(tempfile.mkdtemp(prefix="sodam-bench-files-"))
    results = []
    try:
        for name in names:
            result = await run_scenario(name, args, workdir)
            path = write_result(result, args.out)
            print(f"[files-{name}] written to {path}", file=sys.stderr)
            results.append(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(summary_table(results))
    print()
    print(tables(results))
    return 0


def main() -> int:
    raise_nofile()
    return uvloop.run(amain(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
