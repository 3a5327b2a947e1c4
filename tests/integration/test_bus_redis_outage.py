"""The Redis bus never makes a publisher wait for Redis: with Redis paused (SIGSTOP: connections
stall, nothing fails), ``publish`` returns at once and the payloads go out in order once Redis
answers again; with Redis gone, what cannot be sent is dropped and counted (clients resync)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from sodam.bus.redis import RedisBus
from tests.e2e.faults.infra import Redis


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis.create()
    try:
        yield server
    finally:
        server.destroy()


async def test_publish_returns_at_once_while_redis_is_paused(redis: Redis) -> None:
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def handler(_topic: str, payload: bytes) -> None:
        await got.put(payload)

    bus = RedisBus(redis.url, prefix="pause:")
    await bus.start(handler)
    try:
        await bus.publish("room:1", b"0")
        assert await asyncio.wait_for(got.get(), 10) == b"0"
        redis.pause()
        started = time.monotonic()
        for i in range(1, 50):
            await bus.publish("room:1", str(i).encode())
        assert time.monotonic() - started < 0.5  # nothing waited for the stalled Redis
        redis.resume()
        for _ in range(400):  # the backlog goes out once Redis answers
            if not bus.backlog:
                break
            await asyncio.sleep(0.05)
        received = [int(await asyncio.wait_for(got.get(), 20)) for _ in range(49 - bus.dropped)]
        assert received == sorted(received) and len(received) >= 40  # in order
    finally:
        redis.resume()
        await bus.close()


async def test_payloads_that_cannot_be_sent_are_dropped_and_counted(redis: Redis) -> None:
    bus = RedisBus(redis.url, prefix="gone:", queue_max=5, publish_timeout_s=0.2)

    async def handler(_topic: str, _payload: bytes) -> None:
        return None

    await bus.start(handler)
    redis.kill()
    try:
        for i in range(20):
            await bus.publish("room:1", str(i).encode())
        for _ in range(200):  # the publisher fails each one quickly: connection refused
            if not bus.backlog:
                break
            await asyncio.sleep(0.05)
        assert bus.dropped == 20  # 15 that did not fit the queue, 5 that Redis never took
    finally:
        await bus.close()
