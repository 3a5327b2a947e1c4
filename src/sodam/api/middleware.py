"""Pure-ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

- ``RequestContextMiddleware``: a request id on every request, response and log line; request
  metrics by route template; one access log line without query strings (tokens never leak).
- ``SecurityHeadersMiddleware``: CSP, nosniff, frame-ancestors, referrer policy, set on purpose.
- ``BodyLimitMiddleware``: refuses bodies over the limit with 413 while streaming.
- ``UploadAdmission``: at most a few upload requests handled at once, up to their bodies.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sodam.observability.context import request_id_var, user_id_var
from sodam.observability.metrics import Metrics
from sodam.services.bodyslots import admission_release

logger = logging.getLogger("sodam.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# The web client is served from the same origin; nothing inline, nothing from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'"
)
# The API docs page loads its UI from the package's own static files, which need inline script.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or secrets.token_hex(8)
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:  # a WebSocket's frames need none of the wrapping (realtime/connection.py)
            await self.app(scope, receive, send_wrapper if scope["type"] == "http" else send)
        finally:
            if scope["type"] == "http":
                elapsed = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                method = scope["method"]
                self.metrics.http_requests.labels(route, method, str(status)).inc()
                self.metrics.http_duration.labels(route, method).observe(elapsed)
                logger.info(
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2)},
                )
            request_id_var.reset(token)
            user_id_var.reset(user_token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID_RE.match(text) else None
    return None


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] == "/api/docs" else CSP

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes``, checked from Content-Length and again while streaming.

    Paths under ``exempt_prefixes`` (resumable uploads) enforce their own, larger limits.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, exempt_prefixes: tuple[str, ...] = ("/api/uploads",)
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, 400, "invalid_input", "Bad Content-Length.", {})
                    return
                if declared > self.max_bytes:
                    await _send_too_large(send, self.max_bytes)
                    return
        # API bodies are small (the limit is about 1 MB): read the whole body first, so a body
        # that grows past the limit while streaming is refused before any handler runs.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await _send_too_large(send, self.max_bytes)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _send_too_large(send: Send, limit: int) -> None:
    await _send_error(
        send, 413, "payload_too_large", "The request body is too large.", {"max_bytes": limit}
    )


async def _send_error(
    send: Send, status: int, code: str, message: str, data: dict[str, Any]
) -> None:
    body = orjson.dumps({"code": code, "message": message, "data": data})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FileAwareGZipMiddleware:
    """GZip for API and web responses, never for file bodies and uploads: compressing a 300 MB
    download would cost CPU, break its Content-Length and its Range answers."""

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 1000,
        exempt_prefixes: tuple[str, ...] = ("/api/files", "/api/uploads"),
    ) -> None:
        from starlette.middleware.gzip import GZipMiddleware

        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        await self.gzip(scope, receive, send)


class AdmissionGate:
    """The places of ``UploadAdmission``: ``limit`` at once (0: no limit)."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must be 0 (no limit) or more")
        self.limit = limit
        self._sem = asyncio.Semaphore(limit) if limit else None
        self.waiting = 0  # requests queued for a place (read by the metrics at scrape time)

    async def enter(self) -> Callable[[], None] | None:
        """Waits for a place; returns the function that gives it back (once), or None when
        there is no limit."""
        if self._sem is None:
            return None
        sem = self._sem
        self.waiting += 1
        try:
            await sem.acquire()
        finally:
            self.waiting -= 1
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                sem.release()

        return release


class UploadAdmission:
    """At most ``gate.limit`` requests under ``prefix`` (the tus endpoints) are handled at once.

    Fifty uploads starting together are a hundred requests (creations, then PATCHes) arriving
    within milliseconds; each costs the event loop routing, authentication and the handler's
    own steps, and a chat message queues behind all of them at every await. Admitted a few at
    a time, they leave the loop's queue short. A request keeps its place until it starts
    reading its body (the body slots and the ingest ceiling govern bodies,
    services/bodyslots.py), queues for a body slot, or starts its response; waiting costs
    nothing but the client's patience (docs/files.md, "Many uploads at once").
    """

    def __init__(self, app: ASGIApp, gate: AdmissionGate, prefix: str = "/api/uploads") -> None:
        self.app = app
        self.gate = gate
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        release = await self.gate.enter()
        if release is None:
            await self.app(scope, receive, send)
            return

        async def receive_admitted() -> Message:
            release()
            return await receive()

        async def send_admitted(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        token = admission_release.set(release)
        try:
            await self.app(scope, receive_admitted, send_admitted)
        finally:
            admission_release.reset(token)
            release()
