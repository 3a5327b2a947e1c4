"""A connection's writer: frames go out in order, and delivered events are counted per batch."""

from __future__ import annotations

import asyncio

from sodam.domain.ids import RoomId
from sodam.realtime.connection import Connection
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
