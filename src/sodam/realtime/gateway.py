"""The WebSocket gateway at ``/api/ws`` (docs/protocol.md): handshake, reading, node lifecycle.

- The ``Origin`` is checked before the upgrade is accepted (a refused handshake gets HTTP 403;
  ``sodam.realtime.origins``).
- The first frame must be ``auth`` with an access token, within ``auth_timeout_s``; otherwise the
  socket closes with 1008. Tokens never appear in URLs or logs.
- A socket silent for two heartbeat intervals is closed and its state freed (F10).
- ``handle_bus`` is the node's one bus handler: room, user and presence topics.
- Every ``heads_check_s`` the node compares its rooms' positions with the database and fills
  what the bus lost (``Hub.check_heads``), the last event of a room included.
- ``close`` (shutdown, F14) tells every client to reconnect (1012) and resume.
- Metrics: the connection, queue, room and task gauges are read from the live state when
  ``/metrics`` is scraped (always right, nothing to keep in step); delivered events are counted
  by each socket's writer once per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from sodam.config import Settings
from sodam.domain.clock import Clock
from sodam.domain.ids import RoomId, UserId
from sodam.errors import AppError, Unauthenticated
from sodam.observability.context import user_id_var
from sodam.observability.metrics import Metrics
from sodam.realtime.actions import Actions, cancel_quietly
from sodam.realtime.connection import Connection
from sodam.realtime.frames import (
    AuthFrame,
    CloseCode,
    ProtocolViolation,
    decode_frame,
    encode,
    parse_client_frame,
)
from sodam.realtime.hub import Hub, decode_payload
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.origins import allowed_origins, origin_allowed
from sodam.realtime.ports import GatewayDeps
from sodam.realtime.presence import TOPIC as PRESENCE_TOPIC
from sodam.realtime.presence import Presence

logger = logging.getLogger(__name__)

SHUTDOWN_PRESENCE_S = 5.0  # at most this long for closed sockets' presence updates on shutdown


class Gateway:
    def __init__(
        self,
        deps: GatewayDeps,
        settings: Settings,
        limits: GatewayLimits,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._deps = deps
        self._limits = limits
        self._clock = clock
        self._metrics = metrics
        self._origins = allowed_origins(settings)
        self.node_id = secrets.token_hex(6)
        self.hub = Hub(deps.events, deps.rooms, limits)
        self.presence = Presence(self.node_id, clock, deps.publish, deps.profiles, limits)
        self.actions = Actions(deps, self.hub, self.presence, limits, clock, self._spawn_for)
        self._conn_tasks: dict[Connection, set[asyncio.Task[None]]] = {}
        self._tasks: set[asyncio.Task[None]] = (
            set()
        )  # short-lived: presence updates of closed sockets
        self._periodic: list[asyncio.Task[None]] = []
        self._closing = False
        self.session_checks = 0
        if metrics is not None:
            self._wire_metrics(metrics)

    def _wire_metrics(self, metrics: Metrics) -> None:
        metrics.ws_connections.set_function(lambda: sum(1 for _ in self.hub.connections()))
        metrics.ws_queued_frames.set_function(
            lambda: sum(len(conn.queue) for conn in self.hub.connections())
        )
        metrics.ws_rooms_tracked.set_function(lambda: len(self.hub.rooms))
        metrics.ws_tasks.set_function(self.background_tasks)
        metrics.counter_from(
            "sodam_ws_gap_fills",
            "Reads of missing room events from the database (events the bus lost or reordered).",
            lambda: self.hub.gaps_filled,
        )
        metrics.counter_from(
            "sodam_ws_rooms_behind",
            "Rooms the periodic heads check found behind the database (a lost last event).",
            lambda: self.hub.heads_behind,
        )

    def background_tasks(self) -> int:
        """Short-lived tasks beside the sockets' readers and writers and the periodic jobs
        (replays, gap fills, presence updates): back to 0 when the node is idle (I6)."""
        per_conn = sum(len(tasks) for tasks in self._conn_tasks.values())
        fills = sum(1 for s in self.hub.rooms.values() if s.filler and not s.filler.done())
        return len(self._tasks) + per_conn + fills + self.hub.pending_tasks()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        jobs = (
            ("ws-presence", self._limits.presence_refresh_s, self.presence.refresh),
            ("ws-sessions", self._limits.session_check_s, self._check_sessions),
            ("ws-heads", self._limits.heads_check_s, self.hub.check_heads),
        )
        for name, seconds, job in jobs:
            self._periodic.append(asyncio.create_task(self._every(seconds, job), name=name))

    async def close(self) -> None:
        """Shutdown: every client is told to reconnect (1012) and resume elsewhere."""
        self._closing = True
        conns = list(self.hub.connections())
        for conn in conns:
            conn.close(CloseCode.SERVICE_RESTART, "service_restart")
        for conn in conns:
            await conn.wait_closed()
        # Let the presence updates of the closed sockets (offline, last seen) finish, briefly.
        offline = [t for t in self._tasks if t.get_name() == "ws-presence-off"]
        if offline:
            await asyncio.wait(offline, timeout=SHUTDOWN_PRESENCE_S)
        for task in [*self._periodic, *self._tasks]:
            await cancel_quietly(task)
        with contextlib.suppress(AppError, OSError):
            await self.presence.close()
        await self.hub.close()

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except (AppError, OSError):
                logger.warning("periodic gateway job failed; retrying next interval")

    async def _check_sessions(self) -> None:
        """Ends sockets whose session ended where no bus message could say so (a CLI command,
        another cluster) and those whose access token expired without a fresh ``auth``."""
        self.session_checks += 1
        conns = [conn for conn in self.hub.connections() if not conn.closing]
        tokens = [conn.token for conn in conns]
        answers = await self._deps.auth.authenticate_many(tokens)
        for conn, token, answer in zip(conns, tokens, answers, strict=True):
            if answer is None or conn.closing or conn.token != token:
                continue  # unknown (database unavailable), gone, or re-authenticated meanwhile
            if isinstance(answer, Unauthenticated):
                code = (
                    CloseCode.TOKEN_EXPIRED
                    if answer.code == "token_expired"
                    else CloseCode.SESSION_ENDED
                )
                conn.close(code, answer.code)
            else:
                conn.principal = answer

    # --- bus ---------------------------------------------------------------------------------

    async def handle_bus(self, topic: str, payload: bytes) -> None:
        kind, _, ident = topic.partition(":")
        if (
            kind == "user"
            and ident.isdigit()
            and UserId(int(ident)) not in self.hub.users
            and b'"profile.updated"' not in payload
        ):
            return  # nobody here to tell
        decoded = decode_payload(payload)
        if decoded is None:
            return
        text, frame = decoded
        if kind == "room" and ident.isdigit():
            self.hub.on_room_frame(RoomId(int(ident)), text, frame)
        elif kind == "user" and ident.isdigit():
            if frame.get("type") == "profile.updated":
                work = frame.get("work_status")
                self.presence.on_profile_updated(
                    UserId(int(ident)), text, work if isinstance(work, str) else None
                )
            self.hub.on_user_frame(UserId(int(ident)), text, frame)
        elif topic == PRESENCE_TOPIC:
            self.presence.on_bus_message(frame)

    # --- one socket --------------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        if not origin_allowed(
            websocket.headers.get("origin"), websocket.headers.get("host"), self._origins
        ):
            await websocket.close(code=CloseCode.POLICY)  # before accept: HTTP 403
            return
        await websocket.accept()
        if self._closing:
            await websocket.close(CloseCode.SERVICE_RESTART, "service_restart")
            return
        conn = await self._handshake(websocket)
        if conn is None:
            return
        try:
            await self._read(conn)
        finally:
            conn.close(CloseCode.NORMAL, "bye")
            # The close frame must be handed over before the server drops the transport.
            await conn.wait_closed()
            user_id_var.set(None)

    async def _handshake(self, websocket: WebSocket) -> Connection | None:
        try:
            message = await asyncio.wait_for(websocket.receive(), self._limits.auth_timeout_s)
        except TimeoutError:
            await _close(websocket, CloseCode.POLICY, "auth_timeout")
            return None
        if message["type"] == "websocket.disconnect":
            return None
        try:
            obj = decode_frame(_data(message), self._limits.frame_max_bytes)
            frame = parse_client_frame(obj)
        except ProtocolViolation as exc:
            await _close(websocket, exc.code, exc.reason)
            return None
        except AppError:
            frame = None
        if not isinstance(frame, AuthFrame):
            await _close(websocket, CloseCode.POLICY, "auth_required")
            return None
        try:
            principal = await self._deps.auth.authenticate(frame.token)
            heads = await self._deps.rooms.list_member_room_heads(UserId(principal.user.id))
            profile = await self._deps.profiles.get_profile(UserId(principal.user.id))
        except Unauthenticated as exc:
            await _close(websocket, CloseCode.POLICY, exc.code)
            return None
        except AppError:
            await _close(websocket, CloseCode.SERVICE_RESTART, "unavailable")
            return None
        user_id = UserId(principal.user.id)
        user_id_var.set(user_id)
        if self.hub.connection_count(user_id) >= self._limits.max_connections_per_user:
            await _close(websocket, CloseCode.TOO_MANY_CONNECTIONS, "too_many_connections")
            return None
        conn = Connection(
            websocket,
            principal,
            frame.token,
            self._limits,
            now=self._clock.monotonic(),
            on_close=self._closed,
            on_written=self._metrics.events_delivered.inc if self._metrics else None,
        )
        self.hub.register(conn, heads)
        self._conn_tasks[conn] = set()
        conn.start()
        try:
            await self._greet(conn, frame.ref, profile.work_status)
        except BaseException:
            conn.close(CloseCode.INTERNAL, "internal_error")  # never left registered
            raise
        return conn

    async def _greet(self, conn: Connection, ref: str | None, work_status: str | None) -> None:
        conn.send(
            encode(
                {
                    "type": "ready",
                    "ref": ref,
                    "user_id": conn.user_id,
                    "session_id": conn.session_id,
                    "heartbeat_s": self._limits.heartbeat_s,
                    "limits": {
                        "frame_max_bytes": self._limits.frame_max_bytes,
                        "sends_per_s": self._limits.sends_per_s,
                        "sends_burst": self._limits.sends_burst,
                        "typing_interval_s": self._limits.typing_interval_s,
                        "presence_watch_max": self._limits.presence_watch_max,
                        "resume_max_events": self._limits.resume_max_events,
                    },
                }
            )
        )
        await self.presence.connected(conn, work_status)

    async def _read(self, conn: Connection) -> None:
        websocket = conn.websocket
        while not conn.closing:
            try:
                # asyncio.timeout, not wait_for: no extra task per frame or per idle socket.
                async with asyncio.timeout(self._limits.idle_timeout_s):
                    message = await websocket.receive()
            except TimeoutError:
                conn.close(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat_timeout")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                obj = decode_frame(_data(message), self._limits.frame_max_bytes)
            except ProtocolViolation as exc:
                conn.close(exc.code, exc.reason)
                return
            if obj.get("type") != "ping" and not conn.frames.take(self._clock.monotonic()):
                self.actions.refuse_flood(conn, obj)
                continue
            await self.actions.handle(conn, obj)

    def _spawn_for(self, conn: Connection, coro: Any) -> None:
        """Runs work for one socket beside its reader; cancelled when the socket closes."""
        tasks = self._conn_tasks.get(conn)
        if tasks is None or conn.closing:
            coro.close()
            return
        task: asyncio.Task[None] = asyncio.create_task(self._guard(conn, coro))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _guard(self, conn: Connection, coro: Any) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("websocket background work failed")
            conn.close(CloseCode.INTERNAL, "internal_error")

    def _closed(self, conn: Connection) -> None:
        """Called once when a socket starts closing, for whatever reason."""
        self.hub.unregister(conn)
        for task in self._conn_tasks.pop(conn, set()):
            task.cancel()
        if self._metrics is not None and conn.queue.dropped:
            self._metrics.ws_dropped.inc(conn.queue.dropped)
        task = asyncio.create_task(self.presence.disconnected(conn), name="ws-presence-off")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _data(message: MutableMapping[str, Any]) -> str | bytes:
    text = message.get("text")
    if text is not None:
        return str(text)
    return bytes(message.get("bytes") or b"")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
        await websocket.close(code=code, reason=reason)
