"""A connection's writer: frames go out in order, and delivered events are counted per batch."""

from __future__ import annotations

import asyncio

from sodam.domain.ids import RoomId
from sodam.realtime.connection import SERVER_SEND, Connection, KeepServerSend
from sodam.realtime.frames import CloseCode
from sodam.realtime.limits import GatewayLimits
from tests.unit.realtime.fakes import FakeSocket, principal


async def test_the_writer_counts_events_once_per_batch_and_not_answers() -> None:
    counts: list[int] = []
    socket = FakeSocket()
    conn = Connection(
        socket,  # type: ignore[arg-type]  # duck-typed: send_text and close only
        principal(10),
        "token",
        GatewayLimits(),
        now=0.0,
        on_close=lambda _c: None,
        on_written=counts.append,
    )
    conn.finish_resume()
    conn.send('{"type":"pong"}')
    for seq in range(1, 101):
        conn.deliver_event(RoomId(1), seq, f'{{"type":"event","event_seq":{seq}}}')
    conn.send_ephemeral('{"type":"typing"}')
    conn.start()
    for _ in range(1000):
        if len(socket.sent) == 102:
            break
        await asyncio.sleep(0)
    assert len(socket.sent) == 102
    assert sum(counts) == 101  # 100 events and one typing frame; the pong is an answer
    assert len(counts) == 2  # two batches of at most 64 frames: two counter updates
    conn.close(CloseCode.NORMAL, "bye")
    await conn.wait_closed()
    assert socket.closed == (1000, "bye")


async def test_frames_go_to_the_servers_send_when_the_scope_keeps_it() -> None:
    """With ``KeepServerSend`` in front, frames skip the middlewares' send wrappers; a server
    send that fails (the client went away) closes the connection."""
    messages: list[dict[str, object]] = []

    async def server_send(message: dict[str, object]) -> None:
        if len(messages) == 2:
            raise OSError("client disconnected")
        messages.append(message)

    socket = FakeSocket()
    socket.scope[SERVER_SEND] = server_send
    closed: list[Connection] = []
    gone = asyncio.Event()

    def on_close(c: Connection) -> None:
        closed.append(c)
        gone.set()

    conn = Connection(
        socket,  # type: ignore[arg-type]
        principal(10),
        "token",
        GatewayLimits(),
        now=0.0,
        on_close=on_close,
    )
    conn.finish_resume()
    for seq in (1, 2, 3):
        conn.deliver_event(RoomId(1), seq, f'{{"type":"event","event_seq":{seq}}}')
    conn.start()
    await gone.wait()
    await conn.wait_closed()
    assert messages == [
        {"type": "websocket.send", "text": '{"type":"event","event_seq":1}'},
        {"type": "websocket.send", "text": '{"type":"event","event_seq":2}'},
    ]
    assert socket.sent == []  # nothing went the wrapped way
    assert closed == [conn]


async def test_keep_server_send_stores_only_websocket_sends() -> None:
    seen: list[dict[str, object]] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(dict(scope))

    async def send(message: object) -> None:
        return None

    middleware = KeepServerSend(app)  # type: ignore[arg-type]
    await middleware({"type": "websocket"}, None, send)  # type: ignore[arg-type]
    await middleware({"type": "http"}, None, send)  # type: ignore[arg-type]
    assert seen[0][SERVER_SEND] is send
    assert SERVER_SEND not in seen[1]
