"""Many uploads at once while two other users chat: errors, and the chat's latency against idle.

Users: two probe users in a room of their own (bench/files/probe.py, in a child process) and
``uploaders`` users in a second room, each uploading ``uploads_per_user`` files of ``size``
bytes at the same time (default 50 users x 1 upload x 10 MiB): every upload is one user's
tus upload (POST, then PATCHes of ``chunk_size``), then the upload is sent as a message to the
uploaders' room and its sha256 checked. The uploaders have no WebSocket open: what is measured
is what the uploads cost the people chatting.

Timeline: the probe connects and sends ``probe_rate`` messages/s per user; after ``idle_s`` of
baseline (its first ``WARM_S`` discarded) every upload starts at once; the "during" window runs
from the first POST to the last upload's final 204. Probe messages are classified by their send
time: idle = sent in the baseline, during = sent in the uploads' window.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.chat.client import ClientSpec
from bench.chat.setup import World, build_direct, build_rest
from bench.chat.stats import percentiles
from bench.files import probe as probes
from bench.files.measure import MB, Breakdown, Watch, sched_wait
from bench.files.tus import (
    TestFile,
    UploadFailed,
    make_file,
    send_as_message,
    session,
    tus_upload,
)

WARM_S = 2.0
TAIL_S = 1.0
START_S = 1.0  # the "during" window's first second, also reported on its own


@dataclass
class ConcurrentParams:
    uploaders: int = 50
    uploads_per_user: int = 1
    size: int = 10 * 1024 * 1024
    chunk_size: int = 32 * 1024 * 1024
    idle_s: float = 20.0
    probe_rate: float = 10.0  # messages/s per probe user


async def _world(
    params: ConcurrentParams,
    url: str,
    admin_password: str | None,
    database_url: str | None,
    secret_key: str | None,
) -> World:
    n = 2 + params.uploaders
    rooms = [[0, 1], list(range(2, n))]
    tag = f"fc{int(time.time()) % 100000}"
    if database_url and secret_key:
        return await build_direct(database_url, secret_key, rooms, n, tag=tag)
    if not admin_password:
        raise SystemExit("REST setup needs --admin-password")
    return await build_rest(url, "admin", admin_password, rooms, n, tag=tag)


async def _one_upload(
    http: Any,
    upload_url: str,
    url: str,
    token: str,
    room_id: int,
    file: TestFile,
    chunk_size: int,
) -> dict[str, Any]:
    """One tus upload to ``upload_url``, then its file message sent to ``url``."""
    try:
        result = await tus_upload(http, upload_url, token, file, chunk_size=chunk_size)
    except (TimeoutError, UploadFailed, OSError) as exc:
        return {"ok": False, "error": _error(exc, "upload")}
    out: dict[str, Any] = {
        "ok": True,
        "started": result.started,
        "finished": result.finished,
        "seconds": result.seconds,
    }
    try:
        attachment = await send_as_message(http, url, token, room_id, result.upload_id)
    except (TimeoutError, UploadFailed, OSError) as exc:
        return {**out, "ok": False, "error": _error(exc, "send")}
    if attachment["sha256"] != file.sha256:
        return {**out, "ok": False, "error": "sha256 mismatch"}
    return out


def _error(exc: BaseException, step: str) -> str:
    if isinstance(exc, UploadFailed):
        return f"{exc.step} HTTP {exc.status}"
    return f"{step}: {type(exc).__name__}"


async def run_concurrent(
    params: ConcurrentParams,
    *,
    url: str,
    server_pid: int | None,
    moto_pid: int | None,
    admin_password: str | None,
    database_url: str | None,
    secret_key: str | None,
    workdir: Path,
    breakdown_path: Path | None = None,
    upload_url: str | None = None,
    upload_pid: int | None = None,
) -> dict[str, Any]:
    """``url`` serves the chat probe and the uploaders' file messages; the uploads go to
    ``upload_url`` when given (a node of their own, as a proxy routing ``/api/uploads`` there
    would), else to ``url``. The process watched for CPU and memory is the one the uploads go
    to (``upload_pid``, else ``server_pid``)."""
    upload_url = upload_url or url
    total = params.uploaders * params.uploads_per_user
    print(f"[files-concurrent] creating {2 + params.uploaders} users ...", file=sys.stderr)
    world = await _world(params, url, admin_password, database_url, secret_key)
    file = await asyncio.to_thread(make_file, workdir / "upload-10.bin", params.size)
    probe_room, upload_room = world.rooms
    ws_url = url.replace("http://", "ws://") + "/api/ws"
    specs = [
        ClientSpec(
            url=ws_url,
            user_id=u.id,
            token=u.token,
            cursors={probe_room.id: probe_room.head},
            send_rooms=[probe_room.id],
        )
        for u in world.users[:2]
    ]
    uploaders = world.users[2:]
    probe = probes.Probe(specs, params.probe_rate)
    watched_pid = upload_pid or server_pid
    watch = Watch(watched_pid, moto_pid) if watched_pid else None
    hook = Breakdown(server_pid, breakdown_path) if server_pid and breakdown_path else None
    # The disk idle before measuring: an earlier run's hundreds of MB still being written back
    # would slow every commit's fsync, in the baseline as much as in the uploads' window.
    await asyncio.to_thread(os.sync)
    print(f"[files-concurrent] chat probe: idle baseline {params.idle_s:g} s ...", file=sys.stderr)
    if hook is not None:
        hook.start()
    probe_start = await probe.start()
    uploads: list[dict[str, Any]] = []
    breakdown: dict[str, Any] | None = None
    try:
        await asyncio.sleep(params.idle_s)
        if watch is not None:
            watch.mark()
        probe_wait = sum(sched_wait(probe.pid).values()) if probe.pid else 0.0
        print(f"[files-concurrent] {total} uploads at once ...", file=sys.stderr)
        async with session(total + 4) as http:
            t0 = time.perf_counter()
            jobs = [
                _one_upload(http, upload_url, url, u.token, upload_room.id, file, params.chunk_size)
                for u in uploaders
                for _ in range(params.uploads_per_user)
            ]
            uploads = list(await asyncio.gather(*jobs))
            t_all = time.perf_counter()
        finished = [u["finished"] for u in uploads if "finished" in u]
        t1 = max(finished) if finished else t_all
        measured = watch.report(total * params.size) if watch is not None else None
        if probe.pid:
            probe_wait = sum(sched_wait(probe.pid).values()) - probe_wait
        await asyncio.sleep(TAIL_S)
        if hook is not None:
            breakdown = hook.report(events_from=t0)
    finally:
        if watch is not None:
            watch.stop()
        try:
            result = await probe.stop()
        except Exception:
            traceback.print_exc()
            raise
    idle = probes.window(result, probe_start + WARM_S, t0)
    during = probes.window(result, t0, t1)
    idle_p, during_p = percentiles(idle), percentiles(during)
    # the start of the uploads (every connection, creation and first PATCH arriving at once)
    # apart from the rest of the window: where the slowest messages come from
    start_end = min(t0 + START_S, t1)
    during_start = percentiles(probes.window(result, t0, start_end))
    during_rest = percentiles(probes.window(result, start_end, t1))
    ratios = {
        k: round(during_p[k] / idle_p[k], 2) if idle_p[k] and during_p[k] else None  # type: ignore[operator]
        for k in ("p50", "p95", "p99")
    }
    errors = Counter(u["error"] for u in uploads if not u["ok"])
    seconds = [u["seconds"] for u in uploads if "seconds" in u]
    return {
        "params": {
            "uploaders": params.uploaders,
            "uploads_per_user": params.uploads_per_user,
            "concurrent_uploads": total,
            "size_bytes": params.size,
            "chunk_bytes": params.chunk_size,
            "idle_s": params.idle_s,
            "warm_s_discarded": WARM_S,
            "probe_users": 2,
            "probe_rate_per_user": params.probe_rate,
            "setup": world.setup,
        },
        "uploads": {
            "ok": sum(1 for u in uploads if u["ok"]),
            "failed": sum(errors.values()),
            "errors": dict(errors),
            "window_s": round(t1 - t0, 3),
            "all_sent_s": round(t_all - t0, 3),
            "aggregate_mb_per_s": round(total * params.size / (t1 - t0) / MB, 1),
            "per_upload_s": percentiles(seconds),
        },
        "chat": {
            "idle_ms": idle_p,
            "during_ms": during_p,
            "ratio": ratios,
            "during_first_s_ms": during_start,
            "during_after_first_s_ms": during_rest,
            "probe": probes.describe(result),
            # the probe process's own run-queue delay over the uploads' window (all threads)
            "probe_cpu_wait_s": round(probe_wait, 2),
        },
        "measured": measured,
        "breakdown": breakdown,
    }
