"""``python bench/files/serverhook.py OUT.json serve ...``: ``sodam serve`` with the upload path
timed, for ``python -m bench.files ... --breakdown``. Not used by a normal run.

Before the server starts, a few methods are wrapped (nothing in ``src/`` changes):

- ``UploadService._receive`` (one PATCH body, start to end; and ``body.chunk``: how many chunks
  the body arrived in, their bytes in ``wall_s``), ``_flush`` (one block: the store
  call and the hash in a worker thread, then the database write) and ``_finish``;
- the blob store's ``append_upload`` and ``complete_upload`` (in the worker thread);
- the running sha256 (``update`` calls, in the worker thread);
- ``Database.write`` (awaited on the event loop: queueing, the transaction and its commit), and
  the SQLite writer thread's group commits (``_SqliteWriter._run_batch``, COMMIT and its fsync);
- ``MessageService.send_message`` (a chat send: checks, the write, the event);
- the event loop's lag: a task that asks to wake every 5 ms records how late it wakes.

For ``MessageService.send_message``, the group commits and the loop's lags over 5 ms, each
occurrence is also kept as (start time, wall time) so a run can line them up with its own clock
(``time.perf_counter``, CLOCK_MONOTONIC: the same in every process).

Each wrapper adds its wall time and, for code running in a thread, that thread's CPU time
(``time.thread_time``). On SIGUSR1 the totals so far are written to OUT.json (with a sequence
number), so the benchmark takes a snapshot before and after the measured upload and subtracts.
The wrappers cost a few microseconds per call (a few hundred calls per 300 MB).

Two what-if knobs, set in the server's environment (``--env``): ``BENCH_SWITCH_INTERVAL_S`` sets
``sys.setswitchinterval`` (CPython's default: 0.005 s), to test whether waiting for the GIL is what
delays a thread; ``BENCH_UPLOAD_THREADS=N[:NICE]`` gives the upload service N block threads at
nice NICE (see ``_upload_pool``).

Self-contained (imports only the standard library and ``sodam``): it runs with the server's
``sys.path``, which may be an exported revision (``--rev``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import sys
import threading
import time
import types
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOTALS: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])  # calls, wall, cpu
EVENTS: defaultdict[str, list[tuple[float, float]]] = defaultdict(list)  # (start, wall)
KEEP_EVENTS = frozenset({"messages.send_message", "sqlite.group_commit", "loop.lag"})
MAX_EVENTS = 100_000
LOCK = threading.Lock()
SEQ = [0]
LAG_TICK_S = 0.005


def _add(name: str, wall: float, cpu: float, start: float | None = None) -> None:
    with LOCK:
        entry = TOTALS[name]
        entry[0] += 1
        entry[1] += wall
        entry[2] += cpu
        if start is not None and name in KEEP_EVENTS and len(EVENTS[name]) < MAX_EVENTS:
            EVENTS[name].append((start, wall))


def _timed_sync(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(name, time.perf_counter() - wall, time.thread_time() - cpu, wall)

    return wrapper


def _timed_async(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            _add(name, time.perf_counter() - wall, 0.0, wall)

    return wrapper


class _TimedHash:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def update(self, data: bytes) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        self._inner.update(data)
        _add("sha256.update", time.perf_counter() - wall, time.thread_time() - cpu)

    def hexdigest(self) -> str:
        return str(self._inner.hexdigest())

    def digest(self) -> bytes:
        return bytes(self._inner.digest())


async def _watch_loop() -> None:
    import asyncio

    while True:
        due = time.perf_counter() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        late = time.perf_counter() - due
        if late > LAG_TICK_S:
            _add("loop.lag", late, 0.0, due)


def _upload_pool() -> None:
    """``BENCH_UPLOAD_THREADS=N[:NICE]``: the upload service's block threads (writes and hashes,
    ``BLOCK_THREADS`` in sodam/services/uploads.py) are N, reniced by NICE (a what-if for
    docs/performance.md: do upload threads crowd out the event loop and the database writer?)."""
    spec = os.environ.get("BENCH_UPLOAD_THREADS")
    if not spec:
        return
    from concurrent.futures import ThreadPoolExecutor

    from sodam.services import uploads

    workers, _, nice = spec.partition(":")

    def renice() -> None:
        if nice:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), int(nice))

    init = uploads.UploadService.__init__

    @functools.wraps(init)
    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._blocks = ThreadPoolExecutor(int(workers), initializer=renice)

    uploads.UploadService.__init__ = patched  # type: ignore[method-assign]


def _install() -> None:
    import asyncio

    from uvicorn.server import Server

    from sodam.db import engine
    from sodam.db.engine import Database
    from sodam.files.local import LocalBlobStore
    from sodam.files.s3 import S3BlobStore
    from sodam.services import uploads
    from sodam.services.messages import MessageService

    service = uploads.UploadService
    receive = _timed_async("service._receive", service._receive)

    async def counted(self: Any, upload: Any, chunks: Any, remaining: int) -> Any:
        async def sizes() -> Any:
            async for chunk in chunks:
                _add("body.chunk", float(len(chunk)), 0.0)  # "wall_s" holds the bytes here
                yield chunk

        return await receive(self, upload, sizes(), remaining)

    service._receive = counted  # type: ignore[method-assign]
    service._flush = _timed_async("service._flush", service._flush)  # type: ignore[method-assign]
    service._finish = _timed_async("service._finish", service._finish)  # type: ignore[method-assign]
    for store in (LocalBlobStore, S3BlobStore):
        kind = store.backend
        store.append_upload = _timed_sync(f"{kind}.append_upload", store.append_upload)  # type: ignore[method-assign]
        store.complete_upload = _timed_sync(f"{kind}.complete_upload", store.complete_upload)  # type: ignore[method-assign]
    Database.write = _timed_async("db.write", Database.write)  # type: ignore[method-assign]
    writer = engine._SqliteWriter
    writer._run_batch = staticmethod(_timed_sync("sqlite.group_commit", writer._run_batch))  # type: ignore[method-assign]
    MessageService.send_message = _timed_async(  # type: ignore[method-assign]
        "messages.send_message", MessageService.send_message
    )
    startup = Server.startup
    tasks: list[asyncio.Task[None]] = []

    async def startup_and_watch(self: Any, *args: Any, **kwargs: Any) -> Any:
        tasks.append(asyncio.get_running_loop().create_task(_watch_loop()))
        return await startup(self, *args, **kwargs)

    Server.startup = startup_and_watch  # type: ignore[method-assign]
    shim = types.SimpleNamespace(sha256=lambda *a: _TimedHash(hashlib.sha256(*a)))
    uploads.hashlib = shim  # type: ignore[attr-defined,assignment]  # its own import, swapped


def _dump(out: Path) -> None:
    with LOCK:
        SEQ[0] += 1
        data = {
            "seq": SEQ[0],
            "totals": {
                k: {"calls": v[0], "wall_s": v[1], "cpu_s": v[2]} for k, v in TOTALS.items()
            },
            "events": {k: list(v) for k, v in EVENTS.items()},
        }
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, out)


def main() -> None:
    # Run as a script: its own directory is first on sys.path; the server needs none of it.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)
    out = Path(sys.argv[1])
    interval = os.environ.get("BENCH_SWITCH_INTERVAL_S")
    if interval:  # a diagnosis knob: how long a thread may hold the GIL when others wait
        sys.setswitchinterval(float(interval))
    _install()
    _upload_pool()
    signal.signal(signal.SIGUSR1, lambda _sig, _frame: _dump(out))
    _dump(out)
    from sodam.__main__ import main as sodam_main

    sys.argv = ["sodam", *sys.argv[2:]]
    sodam_main()


if __name__ == "__main__":
    main()
