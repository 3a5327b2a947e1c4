"""One benchmark WebSocket client (docs/protocol.md) and the recorder its measurements go to.

A client authenticates, resumes from the cursors it was given, then reads every frame: acks are
matched to their send by ``ref``; ``message.created`` events of other members' messages are
timed against the send time the sender wrote at the start of the body (``time.perf_counter``
in microseconds: CLOCK_MONOTONIC, the same clock in every process of this machine). Per room the
client checks that event seqs arrive in order without gaps or repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

BODY_TAIL = " 오늘 회의 자료 공유드립니다. 확인 부탁드려요!"  # a typical short Korean message


def now_us() -> int:
    return int(time.perf_counter() * 1_000_000)


@dataclass
class Recorder:
    """Measurements of every client of one generator process; ``merge`` combines processes."""

    window: tuple[float, float] = (0.0, float("inf"))  # perf_counter seconds
    ack_ms: array[float] = field(default_factory=lambda: array("d"))
    delivered_ms: array[float] = field(default_factory=lambda: array("d"))
    # message id -> [receivers so far, worst ms, send time (perf_counter s)]
    per_message: dict[int, list[float]] = field(default_factory=dict)
    sent: int = 0
    acks: int = 0
    acks_in_window: int = 0
    deliveries: int = 0
    deliveries_in_window: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    gaps: int = 0
    repeats: int = 0
    gap_examples: list[tuple[int, int, int, int]] = field(default_factory=list)

    def in_window(self, t: float) -> bool:
        return self.window[0] <= t <= self.window[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ack_ms": self.ack_ms.tobytes(),
            "delivered_ms": self.delivered_ms.tobytes(),
            "per_message": self.per_message,
            "counters": {
                "sent": self.sent,
                "acks": self.acks,
                "acks_in_window": self.acks_in_window,
                "deliveries": self.deliveries,
                "deliveries_in_window": self.deliveries_in_window,
                "gaps": self.gaps,
                "repeats": self.repeats,
            },
            "errors": dict(self.errors),
            "closes": dict(self.closes),
            "gap_examples": self.gap_examples,
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.ack_ms.frombytes(data["ack_ms"])
        self.delivered_ms.frombytes(data["delivered_ms"])
        for key, (count, worst, sent_at) in data["per_message"].items():
            mine = self.per_message.setdefault(int(key), [0, 0.0, sent_at])
            mine[0] += count
            mine[1] = max(mine[1], worst)
        for name, value in data["counters"].items():
            setattr(self, name, getattr(self, name) + value)
        self.errors.update(data["errors"])
        self.closes.update(data["closes"])
        self.gap_examples.extend(data["gap_examples"])


@dataclass
class ClientSpec:
    url: str
    user_id: int
    token: str
    cursors: dict[int, int]  # room id -> event_seq to resume from
    send_rooms: list[int] = field(default_factory=list)  # rooms it sends to (round robin)


class Client:
    def __init__(self, spec: ClientSpec, rec: Recorder, *, compression: str | None) -> None:
        self.spec = spec
        self.rec = rec
        self.compression = compression
        self.ws: ClientConnection | None = None
        self.cursors = dict(spec.cursors)
        self.pending: dict[str, tuple[float, int]] = {}  # ref -> (send time, room)
        self.acked_ids: dict[int, int] = {}  # message id -> room
        self.acked_by_room: Counter[int] = Counter()
        self.acked_heads: dict[int, int] = {}  # room -> highest event_seq acked
        self.slot = asyncio.Event()
        self.resumed = asyncio.Event()
        self.heartbeat_s = 20.0
        self.counter = 0
        self.on_event: Callable[[Client, int, int], None] | None = None  # (client, room, seq)
        self.closed = False

    # --- connecting ------------------------------------------------------------------------

    async def connect(self, *, resume: bool = True) -> None:
        """Upgrade, auth, ``ready``, then ``resume`` (the replay is read by ``run``)."""
        self.ws = await connect(
            self.spec.url,
            compression="deflate" if self.compression == "deflate" else None,
            max_size=2**22,
            max_queue=256,
            ping_interval=None,
            open_timeout=120,
            close_timeout=5,
        )
        await self.ws.send(orjson.dumps({"type": "auth", "token": self.spec.token}).decode())
        ready = orjson.loads(await self.ws.recv(decode=False))
        if ready.get("type") != "ready":
            raise RuntimeError(f"no ready frame: {ready}")
        self.heartbeat_s = float(ready.get("heartbeat_s", 20.0))
        if resume:
            cursors = {str(room): seq for room, seq in self.cursors.items()}
            frame = {"type": "resume", "ref": "resume", "cursors": cursors}
            await self.ws.send(orjson.dumps(frame).decode())

    async def close(self) -> None:
        self.closed = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    # --- reading ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Reads frames until the socket closes; also keeps the heartbeat."""
        assert self.ws is not None
        pinger = asyncio.create_task(self._ping())
        try:
            async for raw in _frames(self.ws):
                self._on_frame(raw)
        except ConnectionClosed as exc:
            if not self.closed:
                code = exc.rcvd.code if exc.rcvd is not None else 1006
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                self.rec.closes[f"{code} {reason}".strip()] += 1
        finally:
            pinger.cancel()
            self.slot.set()

    def _on_frame(self, raw: bytes) -> None:
        t = time.perf_counter()
        frame = orjson.loads(raw)
        kind = frame.get("type")
        if kind == "event":
            self._on_event(frame, t)
        elif kind == "ack":
            sent = self.pending.pop(frame.get("ref") or "", None)
            if sent is not None:
                self.rec.acks += 1
                self.rec.ack_ms.append((t - sent[0]) * 1000)
                if self.rec.in_window(t):
                    self.rec.acks_in_window += 1
                if not frame.get("duplicate"):
                    self.acked_ids[frame["message"]["id"]] = sent[1]
                    self.acked_by_room[sent[1]] += 1
                event_seq = frame["message"]["event_seq"]
                if event_seq > self.acked_heads.get(sent[1], 0):
                    self.acked_heads[sent[1]] = event_seq
            self.slot.set()
        elif kind == "error":
            self.rec.errors[str(frame.get("code"))] += 1
            if self.pending.pop(frame.get("ref") or "", None) is not None:
                self.slot.set()
        elif kind == "resumed":
            self.resumed.set()
        elif kind == "resync_required":
            self.rec.errors["resync_required"] += 1

    def _on_event(self, frame: dict[str, Any], t: float) -> None:
        room = frame["room_id"]
        seq = frame["event_seq"]
        last = self.cursors.get(room)
        if last is not None:
            if seq <= last:
                self.rec.repeats += 1
                return
            if seq != last + 1:
                self.rec.gaps += 1
                if len(self.rec.gap_examples) < 20:  # (user, room, expected, got)
                    self.rec.gap_examples.append((self.spec.user_id, room, last + 1, seq))
        self.cursors[room] = seq
        if self.on_event is not None:
            self.on_event(self, room, seq)
        event = frame["event"]
        if event.get("kind") != "message.created":
            return
        message = event["message"]
        if message["sender_id"] == self.spec.user_id:
            return
        body = message.get("body") or ""
        stamp, _, _ = body.partition(" ")
        if not stamp.isdigit() or not self.resumed.is_set():
            return  # not a timed message, or a replayed one (resume is measured separately)
        ms = t * 1000 - int(stamp) / 1000
        self.rec.deliveries += 1
        self.rec.delivered_ms.append(ms)
        if self.rec.in_window(t):
            self.rec.deliveries_in_window += 1
        entry = self.rec.per_message.get(message["id"])
        if entry is None:
            self.rec.per_message[message["id"]] = [1, ms, int(stamp) / 1_000_000]
        else:
            entry[0] += 1
            if ms > entry[1]:
                entry[1] = ms

    async def _ping(self) -> None:
        assert self.ws is not None
        ping = orjson.dumps({"type": "ping"}).decode()
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.heartbeat_s)
                await self.ws.send(ping)

    # --- sending ---------------------------------------------------------------------------

    async def send_one(self, room_id: int) -> None:
        assert self.ws is not None
        self.counter += 1
        ref = f"s{self.counter}"
        t = time.perf_counter()
        frame = {
            "type": "send",
            "ref": ref,
            "room_id": room_id,
            "client_msg_id": f"bench-{self.spec.user_id}-{self.counter}-{now_us() % 10**9}",
            "body": f"{int(t * 1_000_000)}{BODY_TAIL}",
        }
        self.pending[ref] = (t, room_id)
        self.rec.sent += 1
        await self.ws.send(orjson.dumps(frame).decode())

    async def send_paced(self, rate: float, start: float, end: float, phase: float) -> None:
        """``rate`` messages/s at fixed times from ``start + phase`` (no drift, no catch-up
        bursts beyond what was missed while the loop was busy)."""
        rooms = self.spec.send_rooms
        k = 0
        with contextlib.suppress(ConnectionClosed):
            while True:
                due = start + phase + k / rate
                if due >= end or self.closed:
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self.send_one(rooms[k % len(rooms)])
                k += 1

    async def send_window(self, window: int, end: float) -> None:
        """As fast as acks come back, with at most ``window`` sends unanswered."""
        rooms = self.spec.send_rooms
        k = 0
        with contextlib.suppress(ConnectionClosed):
            while time.perf_counter() < end and not self.closed:
                while len(self.pending) >= window:
                    self.slot.clear()
                    await self.slot.wait()
                    if self.closed or time.perf_counter() >= end:
                        return
                await self.send_one(rooms[k % len(rooms)])
                k += 1


async def _frames(ws: ClientConnection) -> Any:
    while True:
        yield await ws.recv(decode=False)
