"""The pure-ASGI middleware, driven with hand-made ASGI messages (no server, no sockets)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from sodam.api.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from sodam.observability.context import request_id_var
from sodam.observability.metrics import Metrics

LIMIT = 1024


def _scope(
    path: str = "/api/auth/login", headers: list[tuple[bytes, bytes]] | None = None
) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers or [],
        "query_string": b"",
    }


class EchoApp:
    """Reads the whole body and answers 200 with its length; remembers that it ran."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        more = True
        while more:
            message = await receive()
            self.body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(self.body)).encode()})


async def _run(app: Any, scope: Scope, chunks: list[bytes]) -> tuple[list[Message], int]:
    """Runs one request; returns what was sent and how many body chunks the app side pulled."""
    pending: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        if not pending:
            return {"type": "http.disconnect"}
        pulled += 1
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent, pulled


def _status(sent: list[Message]) -> int:
    return int(sent[0]["status"])


def _body(sent: list[Message]) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    return data


async def test_body_within_the_limit_reaches_the_app_whole() -> None:
    inner = EchoApp()
    sent, _ = await _run(BodyLimitMiddleware(inner, LIMIT), _scope(), [b"a" * 600, b"b" * 424])
    assert _status(sent) == 200
    assert inner.body == b"a" * 600 + b"b" * 424


async def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    inner = EchoApp()
    scope = _scope(headers=[(b"content-length", str(LIMIT + 1).encode())])
    sent, pulled = await _run(BodyLimitMiddleware(inner, LIMIT), scope, [b"x" * (LIMIT + 1)])
    assert _status(sent) == 413
    assert _body(sent) == {
        "code": "payload_too_large",
        "message": "The request body is too large.",
        "data": {"max_bytes": LIMIT},
    }
    assert (pulled, inner.called) == (0, False)


async def test_streamed_body_is_cut_as_soon_as_it_passes_the_limit() -> None:
    inner = EchoApp()
    chunks = [b"x" * 512] * 10  # no Content-Length: chunked
    sent, pulled = await _run(BodyLimitMiddleware(inner, LIMIT), _scope(), chunks)
    assert _status(sent) == 413
    assert pulled == 3  # 512 + 512 fits; the third chunk crosses the limit
    assert inner.called is False


async def test_a_body_that_lies_about_its_length_is_still_cut() -> None:
    inner = EchoApp()
    scope = _scope(headers=[(b"content-length", b"10")])
    sent, _ = await _run(BodyLimitMiddleware(inner, LIMIT), scope, [b"x" * 800, b"x" * 800])
    assert _status(sent) == 413
    assert inner.called is False


@pytest.mark.parametrize("value", [b"abc", b"-", b"1e3", b""])
async def test_unparseable_content_length_is_400(value: bytes) -> None:
    inner = EchoApp()
    scope = _scope(headers=[(b"content-length", value)])
    sent, _ = await _run(BodyLimitMiddleware(inner, LIMIT), scope, [b"{}"])
    assert _status(sent) == 400
    assert _body(sent)["code"] == "invalid_input"
    assert inner.called is False


async def test_upload_paths_are_exempt() -> None:
    inner = EchoApp()
    chunks = [b"x" * 1000] * 5
    sent, _ = await _run(BodyLimitMiddleware(inner, LIMIT), _scope("/api/uploads/abc"), chunks)
    assert _status(sent) == 200
    assert len(inner.body) == 5000


async def test_client_gone_mid_body_never_reaches_the_app() -> None:
    inner = EchoApp()

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing should be sent")

    await BodyLimitMiddleware(inner, LIMIT)(_scope(), receive, send)
    assert inner.called is False


async def test_security_headers_do_not_override_what_a_handler_set() -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-security-policy", b"sandbox")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    sent, _ = await _run(SecurityHeadersMiddleware(inner), _scope("/api/files/1"), [b""])
    headers = sent[0]["headers"]
    assert [v for k, v in headers if k == b"content-security-policy"] == [b"sandbox"]
    assert (b"x-content-type-options", b"nosniff") in headers


async def test_request_id_is_bound_for_the_request_and_reset_after() -> None:
    seen: list[str | None] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(request_id_var.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    scope = _scope(headers=[(b"x-request-id", b"trace-abc-123")])
    sent, _ = await _run(RequestContextMiddleware(inner, Metrics()), scope, [b""])
    assert seen == ["trace-abc-123"]
    assert (b"x-request-id", b"trace-abc-123") in sent[0]["headers"]
    assert request_id_var.get() is None


async def test_a_crashing_handler_is_still_counted() -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    metrics = Metrics()
    with pytest.raises(RuntimeError):
        await _run(RequestContextMiddleware(inner, metrics), _scope(), [b""])
    value = metrics.registry.get_sample_value(
        "sodam_http_requests_total", {"route": "unmatched", "method": "POST", "status": "500"}
    )
    assert value == 1
