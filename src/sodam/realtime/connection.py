"""One authenticated WebSocket: its outgoing queue and writer, and the live events it holds back
while its resume runs.

State is kept small (an idle connection is a few KB): the queue holds references to frames shared
with every other receiver, the per-room dictionaries exist only during a resume, and the rooms a
user is in are kept once per user by the hub, not per connection.

Until the client's ``resume`` finishes, live room events are held per room. A room's replay ends
by handing over to live delivery (``go_live``): held events at or below the replayed cursor are
dropped, the rest are queued in seq order, so nothing is lost, repeated or reordered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from sodam.domain.ids import RoomId, SessionId, UserId
from sodam.realtime.frames import CloseCode
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.outqueue import OutgoingQueue, QueueClosed
from sodam.realtime.ratelimit import TokenBucket
from sodam.services.context import Principal

logger = logging.getLogger(__name__)

CLOSE_SEND_TIMEOUT_S = 2.0
# Where ``KeepServerSend`` puts the ASGI server's own ``send`` in a WebSocket's scope.
SERVER_SEND = "sodam.server_send"
WRITE_BATCH = 64  # frames taken from the queue per writer wake-up (and per metrics update)


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        principal: Principal,
        token: str,
        limits: GatewayLimits,
        *,
        now: float,
        on_close: Callable[[Connection], None],
        on_written: Callable[[int], None] | None = None,
    ) -> None:
        self.websocket = websocket
        self.principal = principal
        self.token = token  # kept to re-check the session; never logged
        self.user_id = UserId(principal.user.id)
        self.session_id: SessionId = principal.session_id
        self.status = "online"
        self.queue = OutgoingQueue(
            max_frames=limits.queue_max_frames,
            max_chars=limits.queue_max_bytes,
            ephemeral_max=limits.ephemeral_max_frames,
        )
        self.frames = TokenBucket.full(limits.frames_per_s, limits.frames_burst, now)
        self.typing_sent: dict[RoomId, float] = {}
        self.watching: frozenset[UserId] = frozenset()
        self.closing = False
        self.close_code: int | None = None
        self.resume_started = False
        self._pending_max = limits.pending_max_frames
        self._holding = True  # until the resume is done, room events wait in _pending
        self._pending: dict[RoomId, list[tuple[int, str]]] = {}
        self._pending_count = 0
        self._live_rooms: set[RoomId] = set()
        self._floors: dict[RoomId, int] = {}  # live, but events <= floor were already replayed
        self._on_close = on_close
        self._on_written = on_written
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        # Frames go straight to the server's send when the app kept it: past Starlette's and
        # the middlewares' send wrappers, which have nothing to do for a text frame.
        self._server_send: Send | None = websocket.scope.get(SERVER_SEND)

    def __repr__(self) -> str:  # no token, no principal details
        return f"<Connection user={self.user_id}>"

    # --- writing -----------------------------------------------------------------------------

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="ws-writer")

    async def _write_loop(self) -> None:
        server_send = self._server_send
        try:
            while True:
                events = 0
                for text, is_event in await self.queue.get_batch(WRITE_BATCH):
                    if server_send is not None:
                        await server_send({"type": "websocket.send", "text": text})
                    else:
                        await self.websocket.send_text(text)
                    events += is_event
                if events and self._on_written is not None:
                    self._on_written(events)  # one metrics update per batch, not per frame
        except QueueClosed:
            return
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.close(CloseCode.NORMAL, "gone")

    def send(self, text: str, *, event: bool = False) -> bool:
        """Queues a frame that must arrive (a reply; with ``event`` a server-pushed event); on
        overflow the connection closes with 4000 so the client resumes."""
        if self.closing:
            return False
        if self.queue.put_durable(text, event=event):
            return True
        self.close(CloseCode.RESYNC, "resync")
        return False

    def send_ephemeral(self, text: str) -> None:
        if not self.closing:
            self.queue.put_ephemeral(text)

    # --- room events and resume --------------------------------------------------------------

    def deliver_event(self, room_id: RoomId, seq: int, text: str) -> None:
        """A live durable event of a room this user is in, in node order."""
        if self.closing:
            return
        if self._holding and room_id not in self._live_rooms:
            self._pending.setdefault(room_id, []).append((seq, text))
            self._pending_count += 1
            if self._pending_count > self._pending_max:
                self.close(CloseCode.RESYNC, "resync")
            return
        floor = self._floors.get(room_id)
        if floor is not None:
            if seq <= floor:
                return
            del self._floors[room_id]
        self.send(text, event=True)

    def room_removed(self, room_id: RoomId) -> None:
        """The user left the room: nothing more of it may be written (I5)."""
        held = self._pending.pop(room_id, None)
        if held:
            self._pending_count -= len(held)
        self._live_rooms.discard(room_id)
        self._floors.pop(room_id, None)
        self.typing_sent.pop(room_id, None)

    def first_held_seq(self, room_id: RoomId) -> int | None:
        held = self._pending.get(room_id)
        return min(seq for seq, _ in held) if held else None

    def go_live(self, room_id: RoomId, cursor: int | None) -> int | None:
        """Ends a room's replay at ``cursor`` (None: the client refetches the room over REST):
        queues the held events after it, in order, once each. Returns the last seq the client
        now has (None when unknown)."""
        held = self._pending.pop(room_id, [])
        self._pending_count -= len(held)
        last = cursor
        for seq, text in sorted(dict(held).items()):
            if last is not None and seq <= last:
                continue
            if not self.send(text, event=True):
                return last
            last = seq
        if self._holding:
            self._live_rooms.add(room_id)
        return last

    def note_floor(self, room_id: RoomId, floor: int) -> None:
        """Live events at or below ``floor`` may still arrive from the bus: drop them."""
        self._floors[room_id] = floor

    def held_rooms(self) -> list[RoomId]:
        return list(self._pending)

    def finish_resume(self) -> None:
        """Every room is live now; the per-room resume state is freed."""
        self._holding = False
        self._live_rooms = set()

    # --- closing -----------------------------------------------------------------------------

    def close(self, code: int, reason: str) -> None:
        """Closes at once: frees the queue and the held events, unregisters, then tells the
        client (best effort: a dead peer's close is given up after a short wait)."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self.queue.close()
        self._pending.clear()
        self._pending_count = 0
        self._floors.clear()
        self._on_close(self)
        with contextlib.suppress(RuntimeError):  # no running loop: interpreter shutdown
            self._closer = asyncio.get_running_loop().create_task(
                self._send_close(code, reason), name="ws-close"
            )

    async def _send_close(self, code: int, reason: str) -> None:
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(code=code, reason=reason[:120]), CLOSE_SEND_TIMEOUT_S
            )

    async def wait_closed(self) -> None:
        """Waits for the close frame to be handed to the server (used on shutdown)."""
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer


class KeepServerSend:
    """ASGI middleware, outermost: keeps a WebSocket's server ``send`` in its scope, so the
    connection's writer can write frames with it (``Connection._write_loop``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)
