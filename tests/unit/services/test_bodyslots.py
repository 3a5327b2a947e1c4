"""BodySlots: at most ``limit`` upload bodies read at once; a stalled body gives its slot up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing

import pytest

from sodam.services.bodyslots import BodySlots, IngestCeiling
from sodam.services.uploads import _split_chunks


class Body:
    """A request body whose chunks the test releases one at a time."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.read = 0  # chunks the consumer took
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await self.queue.get()) is not None:
                self.read += 1
                yield chunk
        finally:
            self.closed = True


async def consume(slots: BodySlots, body: Body, got: list[bytes], first: asyncio.Event) -> None:
    async with aclosing(slots.stream(body.chunks())) as stream:
        async for chunk in stream:
            got.append(chunk)
            first.set()


async def until(predicate: Callable[[], bool]) -> None:
    """Lets the other tasks run until ``predicate()`` holds; the timeout is a last guard."""
    async with asyncio.timeout(10):
        while not predicate():  # noqa: ASYNC110 - a counter, no event to wait on
            await asyncio.sleep(0)


async def test_no_more_than_limit_bodies_are_read_at_once() -> None:
    slots = BodySlots(2, interval_s=60)
    bodies = [Body() for _ in range(3)]
    got: list[list[bytes]] = [[], [], []]
    firsts = [asyncio.Event() for _ in range(3)]
    for body in bodies:
        body.queue.put_nowait(b"a")
    tasks = [
        asyncio.create_task(consume(slots, b, g, f))
        for b, g, f in zip(bodies, got, firsts, strict=True)
    ]
    await firsts[0].wait()
    await firsts[1].wait()
    await until(lambda: slots.waiting == 1)
    assert slots.active == 2
    assert got[2] == [] and bodies[2].read == 0  # not even its first chunk was read

    bodies[0].queue.put_nowait(None)  # the first body ends: its slot goes to the third
    await firsts[2].wait()
    assert got[2] == [b"a"]
    assert slots.active == 2 and slots.waiting == 0

    for body in bodies[1:]:
        body.queue.put_nowait(b"b")
        body.queue.put_nowait(None)
    await asyncio.gather(*tasks)
    assert got == [[b"a"], [b"a", b"b"], [b"a", b"b"]]
    assert slots.active == 0 and slots.waiting == 0


async def test_a_body_that_sends_nothing_gives_its_slot_up() -> None:
    slots = BodySlots(1, interval_s=0.01)
    stalled, sending = Body(), Body()
    got_stalled: list[bytes] = []
    got_sending: list[bytes] = []
    first_stalled, first_sending = asyncio.Event(), asyncio.Event()
    stalled.queue.put_nowait(b"x")
    t1 = asyncio.create_task(consume(slots, stalled, got_stalled, first_stalled))
    await first_stalled.wait()  # holds the only slot, then sends nothing
    sending.queue.put_nowait(b"y")
    sending.queue.put_nowait(None)
    t2 = asyncio.create_task(consume(slots, sending, got_sending, first_sending))
    await t2  # got the slot once the stalled body's idle time ran out
    assert got_sending == [b"y"]

    stalled.queue.put_nowait(b"z")  # its next chunk: it queues for a slot again
    stalled.queue.put_nowait(None)
    await t1
    assert got_stalled == [b"x", b"z"]
    assert slots.active == 0 and slots.waiting == 0


async def test_a_cancelled_or_abandoned_body_frees_its_slot() -> None:
    slots = BodySlots(1, interval_s=60)
    body = Body()
    body.queue.put_nowait(b"a")
    first = asyncio.Event()
    task = asyncio.create_task(consume(slots, body, [], first))
    await first.wait()
    task.cancel()  # the client went away while the server waited for a chunk
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slots.active == 0
    await until(lambda: body.closed)

    other = Body()
    other.queue.put_nowait(b"1")
    other.queue.put_nowait(b"2")
    async with aclosing(slots.stream(other.chunks())) as stream:
        async for _chunk in stream:
            break  # the consumer stops early (a body longer than the upload)
    assert slots.active == 0 and slots.waiting == 0


async def test_zero_means_no_limit() -> None:
    slots = BodySlots(0)
    bodies = [Body() for _ in range(20)]
    for body in bodies:
        body.queue.put_nowait(b"a")
        body.queue.put_nowait(None)
    got: list[list[bytes]] = [[] for _ in bodies]
    await asyncio.gather(
        *(consume(slots, b, g, asyncio.Event()) for b, g in zip(bodies, got, strict=True))
    )
    assert got == [[b"a"]] * 20
    with pytest.raises(ValueError):
        BodySlots(-1)


def test_blocks_are_cut_from_chunks_without_losing_or_repeating_a_byte() -> None:
    chunks = [b"abc", b"defg", b"h", b"ijklmn"]
    for size in range(1, 15):
        block, rest = _split_chunks(list(chunks), size)
        assert b"".join(block) == b"abcdefghijklmn"[:size]
        assert b"".join(rest) == b"abcdefghijklmn"[size:]
        assert all(block) and all(rest)  # no empty chunks


async def test_a_slow_body_reads_on_without_a_slot_while_a_fast_one_holds_it() -> None:
    """Slow = fewer than ``slow_bytes_per_s`` in a check interval. The slow body gives its slot
    to the waiting one and still gets its bytes read: slow clients never wait behind fast ones."""
    slots = BodySlots(1, interval_s=0.01, slow_bytes_per_s=1000)  # slow: < 10 bytes a check
    slow, fast = Body(), Body()
    got_slow: list[bytes] = []
    first_slow = asyncio.Event()
    slow.queue.put_nowait(b"a")
    t_slow = asyncio.create_task(consume(slots, slow, got_slow, first_slow))
    await first_slow.wait()  # holds the only slot

    fast_has_slot = asyncio.Event()
    storing = asyncio.Event()  # the fast body's consumer is busy storing a block meanwhile

    async def fast_consumer() -> list[bytes]:
        got: list[bytes] = []
        async with aclosing(slots.stream(fast.chunks())) as stream:
            async for chunk in stream:
                got.append(chunk)
                fast_has_slot.set()
                await storing.wait()
        return got

    fast.queue.put_nowait(b"f" * 100)
    t_fast = asyncio.create_task(fast_consumer())
    await fast_has_slot.wait()  # the slow body's check gave its slot up
    assert slots.active == 1 and slots.waiting == 0

    n = len(got_slow)
    slow.queue.put_nowait(b"b")
    await until(lambda: len(got_slow) > n)  # read without a slot while the fast body holds it
    assert got_slow[-1] == b"b" and slots.active == 1

    slow.queue.put_nowait(None)
    await t_slow
    fast.queue.put_nowait(None)
    storing.set()
    assert await t_fast == [b"f" * 100]
    assert slots.active == 0 and slots.waiting == 0


# --- IngestCeiling: the node's upload bytes per second ------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_ceiling_lets_a_burst_pass_then_makes_bodies_wait_for_their_bytes() -> None:
    clock = Clock()
    ceiling = IngestCeiling(1000, burst_s=0.05, clock=clock)  # 1000 B/s, 50 bytes of burst
    assert ceiling.take(50) == 0  # within the burst
    assert ceiling.take(100) == pytest.approx(0.1)  # 150 bytes take 0.15 s, 0.05 of it burst
    clock.now = 0.1  # the body waited as told
    assert ceiling.take(100) == pytest.approx(0.1)  # paid until 0.25 s now: 0.15 ahead - burst


def test_an_idle_node_saves_no_credit_beyond_the_burst() -> None:
    clock = Clock()
    ceiling = IngestCeiling(1000, burst_s=0.05, clock=clock)
    ceiling.take(10)
    clock.now = 100.0  # an hour of nothing earns nothing
    assert ceiling.take(50) == 0
    assert ceiling.take(50) == pytest.approx(0.05)


def test_the_ceiling_is_shared_by_every_body() -> None:
    """Two bodies reading at the same moment are paced as one stream of bytes."""
    clock = Clock()
    ceiling = IngestCeiling(1000, burst_s=0, clock=clock)
    assert ceiling.take(100) == pytest.approx(0.1)
    assert ceiling.take(100) == pytest.approx(0.2)  # the second body queues behind the first


def test_waits_too_short_for_a_timer_are_carried_to_the_next_chunk() -> None:
    clock = Clock()
    ceiling = IngestCeiling(1000, burst_s=0, clock=clock)
    assert ceiling.take(1) == 0  # 1 ms: not worth a timer
    assert ceiling.take(1) == pytest.approx(0.002)  # both milliseconds are owed now


def test_no_ceiling_never_waits() -> None:
    ceiling = IngestCeiling(0)
    assert all(ceiling.take(10**9) == 0 for _ in range(3))
    with pytest.raises(ValueError):
        IngestCeiling(-1)


@pytest.mark.parametrize("limit", [0, 1])
async def test_a_body_over_the_ceiling_waits_between_chunks_and_loses_nothing(limit: int) -> None:
    """With and without slots: the wait a chunk owes is taken before the next one is handed on
    (counted in ``waited_s``), never after the last, and the chunks arrive whole and in order."""
    clock = Clock()  # time stands still: each chunk is owed in full (1 ms per 1000 bytes)
    ceiling = IngestCeiling(1_000_000, burst_s=0, clock=clock)
    slots = BodySlots(limit, interval_s=60, ceiling=ceiling)
    body = Body()
    sent = [bytes([i]) * 3000 for i in range(4)]
    for chunk in sent:
        body.queue.put_nowait(chunk)
    body.queue.put_nowait(None)
    got: list[bytes] = []
    await consume(slots, body, got, asyncio.Event())
    assert got == sent
    # waits of 3, 6 and 9 ms before the 2nd, 3rd and 4th chunks (the bytes owed grow as the
    # clock does not move); the 12 ms the last chunk owes are not waited: the body has ended
    assert ceiling.waited_s == pytest.approx(0.003 + 0.006 + 0.009)
