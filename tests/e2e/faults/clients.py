"""WebSocket clients that follow docs/protocol.md to the letter, and record what the oracle checks.

A client authenticates, resumes with its cursor per room, applies events in ``event_seq`` order
(holding events after a gap and fetching the gap over REST, rule 4 of section 8), refetches a room
on ``room.added``/``resync_required``, reconnects after any close with backoff and jitter (to the
next node when its own does not answer), and re-sends every unacknowledged message with the same
``client_msg_id``. Timings are the protocol's, compressed (base 0.2 s, cap 2 s) so tests are short.

Besides its view of each room it records every frame's (room, event_seq) for I5, every ack for
I1/I2, and any broken per-socket promise (a repeated or skipped event_seq on one socket, an
``internal_error``) in ``violations``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.e2e.faults.rest import Account, Rest

JSON = dict[str, Any]
RETRYABLE = {"database_unavailable", "unavailable", "rate_limited", "send_conflict"}
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 2.0
_ids = itertools.count(1)


@dataclass
class RoomView:
    cursor: int  # the highest event_seq applied
    messages: dict[int, JSON]  # id -> message as the client shows it
    last_read_seq: int
    held: dict[int, JSON] = field(default_factory=dict)
    removed: bool = False
    fetching: bool = False


@dataclass
class Socket:
    index: int
    url: str
    last: dict[int, int | None]  # room -> last event_seq on this socket (None: no base yet)
    close_code: int | None = None


class Client:
    def __init__(self, name: str, who: Account, rest: Rest, prefer: int = 0) -> None:
        self.name = name
        self.who = who
        self.rest = rest
        self.prefer = prefer
        self.pinned = False  # True: reconnects only to ``prefer`` (a storm on one node)
        self.rooms: dict[int, RoomView] = {}
        self.received: list[tuple[int, int]] = []  # (room, event_seq) of every event frame
        self.acks: list[JSON] = []  # every ack's message (duplicates included)
        self.pending: dict[str, JSON] = {}  # client_msg_id -> send frame, until acked
        self.errors: list[JSON] = []
        self.violations: list[str] = []
        self.sockets: list[Socket] = []
        self.client_gaps = 0  # gaps this client had to fill over REST
        self._waiters: dict[str, asyncio.Future[JSON]] = {}
        self._ws: ClientConnection | None = None
        self._live = asyncio.Event()
        self._stop = False
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- state ---------------------------------------------------------------------------------

    async def load(self, room_ids: list[int]) -> None:
        """The starting state of these rooms over REST (what a client shows before connecting)."""
        for room_id in room_ids:
            await self._refetch(room_id)

    def copy_state_from(self, other: Client) -> None:
        """Another device of the same user that has synced the same rooms (saves REST calls)."""
        for room_id, view in other.rooms.items():
            self.rooms[room_id] = RoomView(view.cursor, dict(view.messages), view.last_read_seq)

    async def _refetch(self, room_id: int) -> None:
        view = self.rooms.setdefault(room_id, RoomView(0, {}, 0))
        view.fetching = True
        try:
            summary = await self.rest.room(self.who, room_id)
            messages = await self.rest.messages(self.who, room_id)
        finally:
            view.fetching = False
        view.cursor = max(view.cursor, summary["last_event_seq"])
        view.last_read_seq = summary["last_read_seq"]
        view.messages = {m["id"]: m for m in messages}
        view.held = {s: f for s, f in view.held.items() if s > view.cursor}
        self._drain(room_id, view)
        self._check_gap(room_id, view)

    # --- connection ----------------------------------------------------------------------------

    def start(self, prefer: int | None = None) -> None:
        """Connects (again, after ``stop``: the client keeps its state and cursors)."""
        if prefer is not None:
            self.prefer = prefer
        self._stop = False
        self._task = asyncio.create_task(self._run(), name=f"client-{self.name}")

    async def stop(self) -> None:
        self._stop = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 30)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def reconnect(self, prefer: int | None = None) -> None:
        """Drops the socket (as a phone switching networks would); the loop reconnects."""
        if prefer is not None:
            self.prefer = prefer
        ws = self._ws
        if ws is not None:
            await ws.close()

    @property
    def live(self) -> bool:
        return self._live.is_set()

    async def wait_live(self, within: float = 60) -> None:
        await asyncio.wait_for(self._live.wait(), within)

    async def _run(self) -> None:
        failures = 0
        while not self._stop:
            node = self.prefer if self.pinned else (self.prefer + failures) % len(self.rest.urls)
            ok = await self._session(node)
            if self._stop:
                return
            if ok:
                failures = 0
            else:
                failures += 1
            delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(failures - 1, 0))
            await asyncio.sleep(random.uniform(delay / 2, delay))

    async def _session(self, node: int) -> bool:
        """One socket from connect to close; True if it got as far as ``resumed``."""
        url = self.rest.urls[node].replace("http://", "ws://") + "/api/ws"
        sock = Socket(len(self.sockets), url, {})
        resumed = False
        opened: ClientConnection | None = None
        try:
            async with connect(
                url, open_timeout=10, close_timeout=3, max_size=None, ping_interval=None
            ) as ws:
                self.sockets.append(sock)
                self._ws = opened = ws
                await ws.send(json.dumps({"type": "auth", "token": self.who.token}))
                ready = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if ready.get("type") != "ready":
                    return False
                cursors = {r: v.cursor for r, v in self.rooms.items() if not v.removed}
                sock.last = dict(cursors)
                self.prefer = node
                await ws.send(
                    json.dumps(
                        {"type": "resume", "cursors": {str(k): v for k, v in cursors.items()}}
                    )
                )
                pinger = asyncio.create_task(self._ping(ws, float(ready["heartbeat_s"])))
                try:
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame.get("type") == "resumed":
                            resumed = True
                            self._live.set()
                            await self._resend_pending(ws)
                        self._on_frame(frame, sock)
                finally:
                    pinger.cancel()
        except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
            pass
        finally:
            self._live.clear()
            self._ws = None
            if opened is not None:
                rcvd = opened.protocol.close_rcvd
                sock.close_code = rcvd.code if rcvd else None  # None: no close frame (1006)
        return resumed

    async def _ping(self, ws: ClientConnection, every: float) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(every / 2)
                await ws.send('{"type":"ping"}')

    # --- sending -------------------------------------------------------------------------------

    async def send(self, room_id: int, body: str, within: float = 60) -> JSON | None:
        """Sends one message; retries (same client_msg_id) until acked or ``within`` passes.
        Returns the acked message, or None (still unacknowledged: it may or may not exist)."""
        cmid = f"{self.name}-{next(_ids):06d}"
        return await self.send_as(cmid, room_id, body, within)

    async def send_as(self, cmid: str, room_id: int, body: str, within: float = 60) -> JSON | None:
        frame = {
            "type": "send",
            "ref": cmid,
            "room_id": room_id,
            "client_msg_id": cmid,
            "body": body,
        }
        self.pending[cmid] = frame
        future = self._waiters.setdefault(cmid, asyncio.get_running_loop().create_future())
        await self._write(frame)
        try:
            answer = await asyncio.wait_for(asyncio.shield(future), within)
        except TimeoutError:
            return None
        return answer

    async def _write(self, frame: JSON) -> None:
        ws = self._ws
        if ws is not None and self._live.is_set():
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(frame))

    async def _resend_pending(self, ws: ClientConnection) -> None:
        for frame in list(self.pending.values()):
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(frame))

    def _answered(self, frame: JSON) -> None:
        ref = frame.get("ref")
        if not isinstance(ref, str) or ref not in self.pending:
            return
        if frame["type"] == "ack":
            self.acks.append({**frame["message"], "duplicate": frame["duplicate"]})
            del self.pending[ref]
            future = self._waiters.pop(ref, None)
            if future is not None and not future.done():
                future.set_result(frame["message"])
            return
        self.errors.append(frame)
        if frame.get("code") == "internal_error":
            self.violations.append(f"{self.name}: internal_error answering {ref}")
        if frame.get("code") in RETRYABLE:
            self._spawn(self._retry_later(self.pending[ref]))
        else:
            self.pending.pop(ref, None)

    async def _retry_later(self, frame: JSON) -> None:
        await asyncio.sleep(random.uniform(0.1, 0.5))
        if frame["client_msg_id"] in self.pending:
            await self._write(frame)

    # --- receiving -----------------------------------------------------------------------------

    def _on_frame(self, frame: JSON, sock: Socket) -> None:
        kind = frame.get("type")
        room_id = frame.get("room_id")
        if kind == "event":
            self._on_event(frame, sock)
        elif kind in ("ack", "error"):
            self._answered(frame)
        elif kind in ("room.added", "resync_required") and isinstance(room_id, int):
            sock.last[room_id] = None  # the socket's next event of it may start anywhere
            if room_id in self.rooms:
                self._spawn(self._refetch(room_id))
        elif kind == "room.removed" and isinstance(room_id, int):
            sock.last.pop(room_id, None)
            if room_id in self.rooms:
                self.rooms[room_id] = RoomView(0, {}, 0, removed=True)
        elif kind == "read.self" and room_id in self.rooms:
            view = self.rooms[room_id]
            view.last_read_seq = max(view.last_read_seq, int(frame["last_read_seq"]))

    def _on_event(self, frame: JSON, sock: Socket) -> None:
        room_id, seq = int(frame["room_id"]), int(frame["event_seq"])
        self.received.append((room_id, seq))
        last = sock.last.get(room_id)
        if last is not None and seq != last + 1:
            what = "repeated" if seq <= last else "skipped to"
            self.violations.append(
                f"{self.name} socket {sock.index}: room {room_id} {what} {seq} after {last}"
            )
        sock.last[room_id] = seq
        view = self.rooms.get(room_id)
        if view is None or view.removed or seq <= view.cursor:
            return
        view.held[seq] = frame
        self._drain(room_id, view)
        self._check_gap(room_id, view)

    def _check_gap(self, room_id: int, view: RoomView) -> None:
        if view.held and not view.fetching and not view.removed:
            self.client_gaps += 1  # rule 4: fetch what is missing before the held events
            view.fetching = True
            self._spawn(self._fill_gap(room_id, view))

    async def _fill_gap(self, room_id: int, view: RoomView) -> None:
        try:
            frames, too_far = await self.rest.events(self.who, room_id, view.cursor)
        finally:
            view.fetching = False
        if too_far:
            await self._refetch(room_id)
            return
        for frame in frames:
            if frame["event_seq"] > view.cursor:
                view.held.setdefault(frame["event_seq"], frame)
        self._drain(room_id, view)
        if frames:
            self._check_gap(room_id, view)

    def _drain(self, room_id: int, view: RoomView) -> None:
        while (view.cursor + 1) in view.held and not view.removed:
            view.cursor += 1
            self._apply(room_id, view, view.held.pop(view.cursor)["event"])

    def _apply(self, room_id: int, view: RoomView, event: JSON) -> None:
        kind = event["kind"]
        if kind == "message.created":
            message = event["message"]
            view.messages[message["id"]] = message
            if message.get("sender_id") == self.who.user_id:  # sending reads up to it
                view.last_read_seq = max(view.last_read_seq, message["seq"])
        elif kind in ("message.updated", "reaction.updated") and event.get("restricted"):
            self._spawn(self._refetch_message(room_id, int(event["message_id"])))
        elif kind == "message.updated":
            view.messages[event["message"]["id"]] = event["message"]
        elif kind == "reaction.updated" and event["message_id"] in view.messages:
            old = view.messages[event["message_id"]]
            view.messages[event["message_id"]] = {**old, "reactions": event["reactions"]}
        elif kind == "member.left" and event["user_id"] == self.who.user_id:
            self.rooms[room_id] = RoomView(0, {}, 0, removed=True)

    async def _refetch_message(self, room_id: int, message_id: int) -> None:
        r = await self.rest.call("GET", f"/api/rooms/{room_id}/messages/{message_id}", self.who)
        if r is not None and r.status_code == 200 and room_id in self.rooms:
            self.rooms[room_id].messages[message_id] = r.json()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Waits for this client's own REST fetches (gap fills, refetches) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
