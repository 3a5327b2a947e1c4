"""What the gateway does with each client frame after the handshake.

Every request is answered: ``send`` with ``ack`` (only after the message is committed) or
``error``; ``ping`` with ``pong``; ``resume`` with its replay then ``resumed``; any other request
carrying a ``ref`` with ``ok``. Errors have the REST error shape plus the request's ``ref``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson

from sodam.domain.clock import Clock
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.topics import room_topic
from sodam.errors import AppError, Conflict, InvalidInput, NotFound, RateLimited, Unauthenticated
from sodam.realtime.connection import Connection
from sodam.realtime.frames import (
    PONG,
    AuthFrame,
    CloseCode,
    PingFrame,
    PresenceFrame,
    PresenceWatchFrame,
    ReadFrame,
    ResumeFrame,
    SendFrame,
    TypingFrame,
    encode,
    error_frame,
    frame_ref,
    parse_client_frame,
)
from sodam.realtime.hub import Hub
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.ports import GatewayDeps
from sodam.realtime.presence import Presence
from sodam.realtime.ratelimit import KeyedBuckets
from sodam.realtime.resume import resume

logger = logging.getLogger(__name__)

MAX_TYPING_ROOMS = 32  # per-connection throttle entries kept


class Actions:
    def __init__(
        self,
        deps: GatewayDeps,
        hub: Hub,
        presence: Presence,
        limits: GatewayLimits,
        clock: Clock,
        spawn: Callable[[Connection, Any], None],
    ) -> None:
        self._deps = deps
        self._hub = hub
        self._presence = presence
        self._limits = limits
        self._clock = clock
        self._spawn = spawn
        self._sends: KeyedBuckets[UserId] = KeyedBuckets(
            clock, rate=limits.sends_per_s, burst=limits.sends_burst
        )

    async def handle(self, conn: Connection, obj: dict[str, Any]) -> None:
        """Answers one decoded frame; an error never closes the connection."""
        ref = frame_ref(obj)
        try:
            await self._dispatch(conn, obj, ref)
        except AppError as exc:
            conn.send(error_frame(exc, ref))
        except Exception:
            logger.exception("websocket request failed")
            conn.send(error_frame(AppError(), ref))

    def refuse_flood(self, conn: Connection, obj: dict[str, Any]) -> None:
        """Over the connection's frame budget: requests that expect an answer get one."""
        ref = frame_ref(obj)
        if ref is not None:
            wait = conn.frames.retry_after(self._clock.monotonic())
            conn.send(error_frame(_rate_limited(wait), ref))

    async def _dispatch(self, conn: Connection, obj: dict[str, Any], ref: str | None) -> None:
        frame = parse_client_frame(obj)
        if isinstance(frame, PingFrame):
            conn.send(PONG)
            return
        if isinstance(frame, SendFrame):
            await self._send(conn, frame, ref)
            return
        if isinstance(frame, ResumeFrame):
            self._resume(conn, frame, ref)
            return
        if isinstance(frame, ReadFrame):
            await self._deps.reads.mark_read(conn.principal, RoomId(frame.room_id), frame.seq)
        elif isinstance(frame, TypingFrame):
            await self._typing(conn, RoomId(frame.room_id))
        elif isinstance(frame, PresenceFrame):
            await self._presence.set_status(conn, frame.status)
        elif isinstance(frame, PresenceWatchFrame):
            if len(frame.user_ids) > self._limits.presence_watch_max:
                raise InvalidInput(
                    "presence_watch_too_many",
                    "Too many users to watch.",
                    {"max": self._limits.presence_watch_max},
                )
            await self._presence.watch(conn, frame.user_ids, self._limits.presence_watch_max)
        elif isinstance(frame, AuthFrame):
            await self._reauth(conn, frame.token)
        if ref is not None:
            conn.send(encode({"type": "ok", "ref": ref}))

    async def _send(self, conn: Connection, frame: SendFrame, ref: str | None) -> None:
        wait = self._sends.take(conn.user_id)
        if wait:
            raise _rate_limited(wait)
        result = await self._deps.messages.send_message(
            conn.principal,
            RoomId(frame.room_id),
            client_msg_id=frame.client_msg_id,
            body=frame.body,
            reply_to_id=MessageId(frame.reply_to_id) if frame.reply_to_id else None,
            forward_of_id=MessageId(frame.forward_of_id) if frame.forward_of_id else None,
            upload_ids=frame.upload_ids,
        )
        conn.send(
            encode(
                {
                    "type": "ack",
                    "ref": ref,
                    "message": result.message.to_wire(),
                    "duplicate": result.duplicate,
                }
            )
        )

    def _resume(self, conn: Connection, frame: ResumeFrame, ref: str | None) -> None:
        if conn.resume_started:
            raise Conflict("already_resumed", "This connection has already resumed.")
        conn.resume_started = True
        cursors = {RoomId(int(k)): v for k, v in frame.cursors.items()}
        # The replay runs beside the reader, so pings and sends keep flowing meanwhile.
        self._spawn(conn, resume(conn, self._hub, self._deps.events, self._limits, cursors, ref))

    async def _typing(self, conn: Connection, room_id: RoomId) -> None:
        if not self._hub.is_member(conn.user_id, room_id):
            raise NotFound("room_not_found", "No such room.")
        now = self._clock.monotonic()
        last = conn.typing_sent.get(room_id)
        if last is not None and now - last < self._limits.typing_interval_s:
            return  # throttled: the others still show the previous one
        if len(conn.typing_sent) >= MAX_TYPING_ROOMS:
            conn.typing_sent.clear()
        conn.typing_sent[room_id] = now
        payload = {"type": "typing", "room_id": room_id, "user_id": conn.user_id}
        await self._deps.publish(room_topic(room_id), orjson.dumps(payload))

    async def _reauth(self, conn: Connection, token: str) -> None:
        """A fresh access token for the same session (sent before the old one expires)."""
        try:
            principal = await self._deps.auth.authenticate(token)
        except Unauthenticated as exc:
            if exc.code in ("session_ended", "user_deactivated"):
                conn.close(CloseCode.SESSION_ENDED, exc.code)
            raise
        if principal.user.id != conn.user_id or principal.session_id != conn.session_id:
            conn.close(CloseCode.POLICY, "auth_mismatch")
            return
        conn.principal = principal
        conn.token = token


def _rate_limited(wait: float) -> RateLimited:
    return RateLimited(data={"retry_after_s": round(max(wait, 0.001), 3)})


async def cancel_quietly(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
