"""The slow-consumer policy: ephemeral frames go first, durable overflow is reported, memory is
bounded and freed on close."""

from __future__ import annotations

import asyncio

import pytest

from sodam.realtime.outqueue import OutgoingQueue, QueueClosed


def make(frames: int = 4, chars: int = 1000, ephemeral: int = 2) -> OutgoingQueue:
    return OutgoingQueue(max_frames=frames, max_chars=chars, ephemeral_max=ephemeral)


async def drain(queue: OutgoingQueue) -> list[str]:
    out = []
    while len(queue):
        out.append(await queue.get())
    return out


async def test_frames_come_out_in_order() -> None:
    queue = make()
    queue.put_durable("a")
    queue.put_ephemeral("t")
    queue.put_durable("b")
    assert await drain(queue) == ["a", "t", "b"]


async def test_ephemeral_frames_are_dropped_beyond_their_share() -> None:
    queue = make(frames=10, ephemeral=2)
    assert queue.put_ephemeral("t1")
    assert queue.put_ephemeral("t2")
    assert not queue.put_ephemeral("t3")
    assert queue.put_durable("e1")  # durable frames still fit
    assert queue.dropped == 1


async def test_durable_frame_evicts_the_oldest_ephemeral_when_full() -> None:
    queue = make(frames=3, ephemeral=2)
    queue.put_ephemeral("t1")
    queue.put_durable("e1")
    queue.put_ephemeral("t2")
    assert queue.put_durable("e2")
    assert await drain(queue) == ["e1", "t2", "e2"]
    assert queue.dropped == 1


async def test_durable_overflow_is_reported_when_only_durable_frames_are_queued() -> None:
    queue = make(frames=2)
    assert queue.put_durable("e1")
    assert queue.put_durable("e2")
    assert not queue.put_durable("e3")
    assert await drain(queue) == ["e1", "e2"]


async def test_size_limit_counts_characters() -> None:
    queue = make(frames=100, chars=10, ephemeral=50)
    assert queue.put_durable("x" * 6)
    assert not queue.put_ephemeral("y" * 5)
    assert queue.put_ephemeral("y" * 4)
    assert queue.put_durable("z" * 4)  # evicts the ephemeral 4 to fit
    assert queue.chars == 10


async def test_close_frees_everything_and_wakes_the_writer() -> None:
    queue = make()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)  # let the writer block on the empty queue
    queue.close()
    with pytest.raises(QueueClosed):
        await getter
    assert not queue.put_durable("late")
    assert len(queue) == 0 and queue.chars == 0


async def test_close_with_queued_frames_drops_them() -> None:
    queue = make()
    queue.put_durable("e1")
    queue.close()
    with pytest.raises(QueueClosed):
        await queue.get()


async def test_wait_below_returns_once_the_writer_has_drained() -> None:
    queue = make(frames=8)
    for i in range(8):
        queue.put_durable(f"e{i}")
    waiter = asyncio.create_task(queue.wait_below(2))
    await asyncio.sleep(0)
    assert not waiter.done()
    for _ in range(6):
        await queue.get()
    await asyncio.wait_for(waiter, 1)
    assert len(queue) == 2


async def test_wait_below_returns_when_closed() -> None:
    queue = make(frames=4)
    for i in range(4):
        queue.put_durable(f"e{i}")
    waiter = asyncio.create_task(queue.wait_below(0))
    await asyncio.sleep(0)
    queue.close()
    await asyncio.wait_for(waiter, 1)


async def test_a_batch_takes_what_is_queued_up_to_its_size_and_tells_events_from_answers() -> None:
    queue = make(frames=10, ephemeral=5)
    queue.put_durable("ack")
    queue.put_durable("e1", event=True)
    queue.put_ephemeral("typing")
    queue.put_durable("e2", event=True)
    assert await queue.get_batch(3) == [("ack", False), ("e1", True), ("typing", True)]
    assert await queue.get_batch(3) == [("e2", True)]
    assert len(queue) == 0 and queue.chars == 0
    assert queue.put_ephemeral("t") and queue.put_ephemeral("t")  # ephemeral share was freed
