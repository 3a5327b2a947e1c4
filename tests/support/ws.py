"""WebSocket test helpers: the app served by a real uvicorn on a free port inside the test's own
event loop, and a small client over the ``websockets`` library that waits on frames (never on
time: every wait is for a condition, with a generous timeout as the last guard)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from sodam.app import Overrides, build_app
from sodam.bus.base import Bus
from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.gateway import Gateway
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.support.factories import LoggedIn, create_user, login

JSON = dict[str, Any]
WAIT_S = 10.0


@asynccontextmanager
async def serve(app: FastAPI, *, ws_max_size: int = 1024 * 1024) -> AsyncIterator[str]:
    """Runs ``app`` (lifespan included) on 127.0.0.1 and yields its base URL ``http://...``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        lifespan="on",
        ws_max_size=ws_max_size,
        ws_ping_interval=None,  # the gateway's own heartbeat is what is under test
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_for(lambda: server.started or task.done(), "server start")
        if task.done():
            task.result()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


async def wait_for(condition: Callable[[], bool], what: str, within: float = WAIT_S) -> None:
    """Polls a condition on the loop (yielding to it) until true; fails after ``within``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


class WsClient:
    """One socket; frames not asked for yet are kept in arrival order."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.frames: list[JSON] = []  # everything received, in order
        self._unread: list[JSON] = []

    async def send(self, frame: JSON) -> None:
        await self.conn.send(json.dumps(frame))

    async def recv(self, within: float = WAIT_S) -> JSON:
        if self._unread:
            return self._unread.pop(0)
        return await self._read(within)

    async def _read(self, within: float) -> JSON:
        raw = await asyncio.wait_for(self.conn.recv(), within)
        frame: JSON = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def expect(self, type_: str, within: float = WAIT_S, **fields: Any) -> JSON:
        """The first frame (kept or new) of this type whose fields match; others are kept."""
        for i, frame in enumerate(self._unread):
            if _matches(frame, type_, fields):
                return self._unread.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            frame = await self._read(max(0.01, deadline - loop.time()))
            if _matches(frame, type_, fields):
                return frame
            self._unread.append(frame)

    def unread(self, type_: str | None = None) -> list[JSON]:
        return [f for f in self._unread if type_ is None or f.get("type") == type_]

    async def request(self, frame: JSON, within: float = WAIT_S) -> JSON:
        """Sends a frame with a ``ref`` and returns its answer (ack, ok, error, resumed)."""
        ref = frame.setdefault("ref", f"r{id(frame)}")
        await self.send(frame)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        for i, kept in enumerate(self._unread):
            if kept.get("ref") == ref:
                return self._unread.pop(i)
        while True:
            got = await self._read(max(0.01, deadline - loop.time()))
            if got.get("ref") == ref:
                return got
            self._unread.append(got)

    async def closed(self, within: float = WAIT_S) -> tuple[int | None, str]:
        """Reads until the server closes; returns (code, reason)."""
        try:
            async with asyncio.timeout(within):
                while True:
                    self._unread.append(json.loads(await self.conn.recv()))
        except ConnectionClosed:
            pass
        rcvd = self.conn.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd else (None, "")

    async def close(self) -> None:
        await self.conn.close()


def _matches(frame: JSON, type_: str, fields: dict[str, Any]) -> bool:
    return frame.get("type") == type_ and all(frame.get(k) == v for k, v in fields.items())


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/api/ws"


@asynccontextmanager
async def ws_connect(
    base_url: str, *, origin: str | None = None, **kwargs: Any
) -> AsyncIterator[WsClient]:
    async with connect(
        ws_url(base_url),
        origin=origin,
        max_size=None,
        open_timeout=WAIT_S,
        **kwargs,  # type: ignore[arg-type]
    ) as conn:
        yield WsClient(conn)


@asynccontextmanager
async def ws_session(
    base_url: str, token: str, *, cursors: dict[int, int] | None = None, **kwargs: Any
) -> AsyncIterator[WsClient]:
    """Connected, authenticated and resumed (``cursors=None``: no resume sent)."""
    async with ws_connect(base_url, **kwargs) as client:
        await client.send({"type": "auth", "token": token})
        await client.expect("ready")
        if cursors is not None:
            answer = await client.request(
                {"type": "resume", "cursors": {str(k): v for k, v in cursors.items()}}
            )
            assert answer["type"] == "resumed", answer
        yield client


@dataclass
class Live:
    """A running server with an admin logged in over real HTTP."""

    app: FastAPI
    url: str
    http: httpx.AsyncClient
    admin: LoggedIn
    clock: FakeClock

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.state.gateway
        return gateway

    async def user(self, **overrides: Any) -> LoggedIn:
        return await create_user(self.http, self.admin, **overrides)

    def session(self, who: LoggedIn, cursors: dict[int, int] | None = None, **kwargs: Any) -> Any:
        return ws_session(self.url, who.access_token, cursors=cursors, **kwargs)

    def connect(self, **kwargs: Any) -> Any:
        return ws_connect(self.url, **kwargs)


@asynccontextmanager
async def live_server(
    settings: Settings,
    clock: FakeClock,
    hasher: PasswordHasher,
    admin_password: str,
    limits: GatewayLimits | None = None,
    bus: Bus | None = None,
) -> AsyncIterator[Live]:
    """A node; nodes given the same ``bus`` (and settings) form a cluster."""
    extra: dict[str, object] = {"realtime_limits": limits} if limits else {}
    app = build_app(settings, Overrides(clock=clock, hasher=hasher, bus=bus, extra=extra))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=WAIT_S) as http:
        admin = await login(http, "admin", admin_password)
        yield Live(app, url, http, admin, clock)
