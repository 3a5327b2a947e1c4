"""One large upload (300 MiB by default) over loopback: MB/s end to end and the server's memory.

Per run (a fresh server each time unless ``--url``): two users and a room are created over REST,
a warm-up upload of 64 KiB is sent (the code paths are loaded, no large buffer is allocated yet),
then after a second of quiet the window opens (``Watch.mark``: RSS baseline, VmHWM reset, CPU
counters) and the file is uploaded with tus in PATCHes of ``chunk_size``. The window closes at the
last PATCH's 204. MB/s = file size / (POST to that 204), MB = 10^6 bytes. The upload is then sent
as a message and the attachment's sha256 compared with the file's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.chat.setup import build_rest
from bench.files import stack as stacks
from bench.files.measure import MB, Breakdown, Watch
from bench.files.tus import TestFile, make_file, send_as_message, session, tus_upload

WARMUP_BYTES = 64 * 1024
SETTLE_S = 1.0


@dataclass
class Target:
    """A server to upload to: started by the run, or given (``--url``)."""

    url: str
    pid: int | None
    moto_pid: int | None
    admin_password: str
    breakdown_path: Path | None = None


async def upload_once(
    target: Target, file: TestFile, warm: TestFile, *, chunk_size: int, tag: str
) -> dict[str, Any]:
    world = await build_rest(target.url, "admin", target.admin_password, [[0, 1]], 2, tag=tag)
    user, room = world.users[0], world.rooms[0]
    async with session(4) as http:
        warmed = await tus_upload(http, target.url, user.token, warm, chunk_size=chunk_size)
        attachment = await send_as_message(http, target.url, user.token, room.id, warmed.upload_id)
        if attachment["sha256"] != warm.sha256:
            raise RuntimeError("the warm-up upload's sha256 differs")
        await asyncio.sleep(SETTLE_S)  # let the warm-up's jobs (scan state, no thumbnail) finish
        await asyncio.to_thread(os.sync)  # the disk idle: no earlier run's data still written back
        watch = Watch(target.pid, target.moto_pid) if target.pid else None
        hook = (
            Breakdown(target.pid, target.breakdown_path)
            if target.pid and target.breakdown_path
            else None
        )
        try:
            if hook is not None:
                hook.start()
            if watch is not None:
                watch.mark()
            result = await tus_upload(http, target.url, user.token, file, chunk_size=chunk_size)
            measured = watch.report(file.size) if watch is not None else None
            breakdown = hook.report() if hook is not None else None
            t = time.perf_counter()
            attachment = await send_as_message(
                http, target.url, user.token, room.id, result.upload_id
            )
            send_s = time.perf_counter() - t
            after = (
                {n: watch.rss_mib(n) for n in ("server", "moto") if n in watch.sampler.groups}
                if watch is not None
                else None
            )
        finally:
            if watch is not None:
                watch.stop()
    return {
        "mb_per_s": round(result.mb_per_s, 1),
        "seconds": round(result.seconds, 3),
        "stream_s": round(result.last_byte_sent - result.started, 3),
        "finish_s": round(result.finished - result.last_byte_sent, 3),
        "patches": result.patches,
        "patch_s": [round(x, 3) for x in result.patch_s],
        "sha256_ok": attachment["sha256"] == file.sha256,
        "send_message_s": round(send_s, 3),
        "rss_after_send_mib": after,
        "measured": measured,
        "breakdown": breakdown,
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and spread over the runs of the figures the targets judge."""
    out: dict[str, Any] = {
        "runs": len(runs),
        "mb_per_s": _spread([r["mb_per_s"] for r in runs]),
        "seconds": _spread([r["seconds"] for r in runs]),
        "finish_s": _spread([r["finish_s"] for r in runs]),
        "sha256_ok": all(r["sha256_ok"] for r in runs),
    }
    measured = [r["measured"] for r in runs if r["measured"]]
    if measured:
        for name in ("server", "moto"):
            if name in measured[0]:
                out[f"{name}_growth_mb"] = _spread([m[name]["growth_mb"] for m in measured])
                out[f"{name}_cpu_ms_per_mb"] = _spread([m[name]["cpu_ms_per_mb"] for m in measured])
        out["others_pct_of_core"] = _spread([m["others_pct_of_core"] for m in measured])
    return out


async def run_single(
    store: str,
    *,
    size: int,
    chunk_size: int,
    repeat: int,
    limits: dict[str, str],
    workdir: Path,
    given: Target | None,
    keep: bool,
    breakdown: bool,
    moto_key_buffer: int | None = None,
    s3_server: str = "moto",
) -> dict[str, Any]:
    print(f"[files-{store}] writing a {size / MB:.0f} MB test file ...", file=sys.stderr)
    file = await asyncio.to_thread(make_file, workdir / "upload.bin", size)
    warm = await asyncio.to_thread(make_file, workdir / "warm.bin", WARMUP_BYTES)
    runs: list[dict[str, Any]] = []
    described: dict[str, Any] = {}
    for i in range(repeat):
        stack = None
        if given is None:
            print(f"[files-{store}] run {i + 1}/{repeat}: starting the server ...", file=sys.stderr)
            stack = await asyncio.to_thread(
                stacks.start,
                store,
                limits,
                keep=keep,
                breakdown=breakdown,
                moto_key_buffer=moto_key_buffer,
                s3_server=s3_server,
            )
            target = Target(
                url=stack.url,
                pid=stack.pid,
                moto_pid=stack.moto.pid if stack.moto else None,
                admin_password=stack.sodam.admin_password,
                breakdown_path=stack.breakdown_path,
            )
            described = stack.describe()
            print(f"[files-{store}] server PID {stack.pid}", file=sys.stderr)
        else:
            target = given
            described = {"mode": "external", "url": given.url, "store": store}
        try:
            run = await upload_once(
                target, file, warm, chunk_size=chunk_size, tag=f"f{int(time.time()) % 100000}"
            )
        finally:
            if stack is not None:
                await asyncio.to_thread(stack.stop)
                stacks.remove_breakdown_dir(stack.breakdown_path)
        print(
            f"[files-{store}] run {i + 1}: {run['mb_per_s']} MB/s, {run['seconds']} s "
            f"(finish {run['finish_s']} s), sha256 {'ok' if run['sha256_ok'] else 'MISMATCH'}"
            + (
                f", server RSS +{run['measured']['server']['growth_mb']} MB"
                if run["measured"]
                else ""
            ),
            file=sys.stderr,
        )
        runs.append(run)
    return {
        "params": {
            "store": store,
            "size_bytes": size,
            "chunk_bytes": chunk_size,
            "repeat": repeat,
            "warmup_bytes": WARMUP_BYTES,
            "rss_sample_interval_s": 0.05,
        },
        "stack": described,
        "runs": runs,
        "aggregate": aggregate(runs),
    }
