"""The chat probe: two users in a room of their own, each sending ``rate`` messages/s over its
WebSocket, the other timing send→delivered (bench/chat/client.py: the send time is written into
the body; CLOCK_MONOTONIC is the same in every process of the machine).

It runs in a child process with its own event loop, so the uploads the parent drives cannot
delay the probe's reading of its frames: what it measures is the server's delay (and the
machine's, which the run reports). The parent starts it, waits for ``ready``, sends ``stop``
when done; the child then drains (the last acks and deliveries, up to ``DRAIN_S``) and returns
every message's send time and latency, which the parent splits into windows.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import time
from dataclasses import dataclass
from typing import Any

import uvloop

from bench.chat.client import ClientSpec, Recorder
from bench.chat.load import close_all, connect_all

DRAIN_S = 5.0
START_TIMEOUT_S = 120.0  # generous guards only: connecting two clients takes well under 1 s
STOP_TIMEOUT_S = 60.0


@dataclass
class ProbeResult:
    # (send time perf_counter s, send→delivered ms) of every delivered message
    delivered: list[tuple[float, float]]
    sent: int
    acked: int
    undelivered: int  # acknowledged but never delivered to the other member
    errors: dict[str, int]
    closes: dict[str, int]
    gaps: int
    repeats: int


def _child(
    conn: multiprocessing.connection.Connection, specs: list[ClientSpec], rate: float
) -> None:
    uvloop.run(_probe(conn, specs, rate))


async def _probe(
    conn: multiprocessing.connection.Connection, specs: list[ClientSpec], rate: float
) -> None:
    rec = Recorder()
    clients, readers, _ = await connect_all(specs, rec, compression=None, concurrency=2)
    start = time.perf_counter() + 0.1
    conn.send(("ready", start))
    n = len(clients)
    forever = start + 86_400.0
    senders = [
        asyncio.create_task(c.send_paced(rate, start, forever, phase=(i / n) / rate))
        for i, c in enumerate(clients)
    ]
    await asyncio.to_thread(conn.recv)  # "stop"
    for task in senders:
        task.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    deadline = time.perf_counter() + DRAIN_S
    while time.perf_counter() < deadline:
        acked = {m for c in clients for m in c.acked_ids}
        if not any(c.pending for c in clients) and acked <= rec.per_message.keys():
            break
        await asyncio.sleep(0.05)
    acked = {m for c in clients for m in c.acked_ids}
    await close_all(clients, readers)
    result = ProbeResult(
        delivered=[(float(v[2]), float(v[1])) for v in rec.per_message.values()],
        sent=rec.sent,
        acked=rec.acks,
        undelivered=len(acked - rec.per_message.keys()),
        errors=dict(rec.errors),
        closes=dict(rec.closes),
        gaps=rec.gaps,
        repeats=rec.repeats,
    )
    conn.send(result)


class Probe:
    """The probe process, seen from the parent."""

    def __init__(self, specs: list[ClientSpec], rate: float) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process running an event loop
        self._conn, child_conn = ctx.Pipe()
        self._process = ctx.Process(
            target=_child, args=(child_conn, specs, rate), name="chat-probe", daemon=True
        )
        self.pid: int | None = None
        self.started_at = 0.0

    async def start(self) -> float:
        """Starts the child; returns when its clients are connected and sending."""
        self._process.start()
        self.pid = self._process.pid
        if not await asyncio.to_thread(self._conn.poll, START_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError("the chat probe did not connect")
        kind, self.started_at = self._conn.recv()
        assert kind == "ready"
        return self.started_at

    async def stop(self) -> ProbeResult:
        self._conn.send("stop")
        if not await asyncio.to_thread(self._conn.poll, STOP_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError("the chat probe did not report")
        result: ProbeResult = self._conn.recv()
        await asyncio.to_thread(self._process.join, 10)
        return result


def window(result: ProbeResult, start: float, end: float) -> list[float]:
    """Latencies (ms) of the messages sent in ``[start, end)``."""
    return [ms for sent, ms in result.delivered if start <= sent < end]


def describe(result: ProbeResult) -> dict[str, Any]:
    return {
        "sent": result.sent,
        "acked": result.acked,
        "delivered": len(result.delivered),
        "undelivered": result.undelivered,
        "errors": result.errors,
        "closes": result.closes,
        "gaps": result.gaps,
        "repeats": result.repeats,
    }
