"""Contract suite for the bus: one set of behaviours, run against every backend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from sodam.bus.base import Bus, room_topic, user_topic
from sodam.bus.memory import MemoryBus
from sodam.bus.redis import RedisBus
from tests.support.redisserver import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


class Inbox:
    def __init__(self) -> None:
        self.items: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    async def handler(self, topic: str, payload: bytes) -> None:
        await self.items.put((topic, payload))

    async def next(self) -> tuple[str, bytes]:
        return await asyncio.wait_for(self.items.get(), timeout=10)


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Bus]]:
    created: list[Bus] = []
    prefix = f"test-{uuid.uuid4().hex[:8]}:"  # each test its own key space

    def factory() -> Bus:
        if request.param == "memory":
            bus: Bus = shared_memory
        else:
            bus = RedisBus(request.getfixturevalue("redis_url"), prefix=prefix)
        created.append(bus)
        return bus

    shared_memory = MemoryBus()  # one process: every "node" shares the same in-memory bus
    yield factory
    for bus in created:
        await bus.close()


async def test_a_published_payload_reaches_every_node(make_bus: Callable[[], Bus]) -> None:
    node_a, node_b = make_bus(), make_bus()
    inbox_a, inbox_b = Inbox(), Inbox()
    await node_a.start(inbox_a.handler)
    await node_b.start(inbox_b.handler)

    await node_a.publish(room_topic(7), b'{"hello":"\xec\x95\x88\xeb\x85\x95"}')

    assert await inbox_a.next() == ("room:7", b'{"hello":"\xec\x95\x88\xeb\x85\x95"}')
    assert await inbox_b.next() == ("room:7", b'{"hello":"\xec\x95\x88\xeb\x85\x95"}')


async def test_a_publish_only_node_reaches_the_subscribed_nodes(
    make_bus: Callable[[], Bus],
) -> None:
    subscriber, publisher = make_bus(), make_bus()  # publisher: a `sodam worker`
    inbox = Inbox()
    await subscriber.start(inbox.handler)
    await publisher.start(None)

    await publisher.publish(room_topic(9), b"attachment scanned")

    assert await inbox.next() == ("room:9", b"attachment scanned")


async def test_payloads_of_one_publisher_arrive_in_order(make_bus: Callable[[], Bus]) -> None:
    node = make_bus()
    inbox = Inbox()
    await node.start(inbox.handler)

    for i in range(50):
        await node.publish(user_topic(3), str(i).encode())

    received = [await inbox.next() for _ in range(50)]
    assert [int(p) for _, p in received] == list(range(50))
    assert {t for t, _ in received} == {"user:3"}


async def test_a_failing_handler_does_not_stop_delivery(make_bus: Callable[[], Bus]) -> None:
    node = make_bus()
    inbox = Inbox()
    calls = 0

    async def flaky(topic: str, payload: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        await inbox.handler(topic, payload)

    await node.start(flaky)
    await node.publish(room_topic(1), b"first")
    await node.publish(room_topic(1), b"second")

    assert await inbox.next() == ("room:1", b"second")
