"""Redis pub/sub bus for several nodes.

One pattern subscription per node (``<prefix>*``) feeds the node's local dispatcher. Redis pub/sub
is fire-and-forget: what is published while a node is disconnected is lost, and clients repair it
by seq (resume; the gateway's heads check). The listener reconnects with capped exponential
backoff and never stops the node.

Publishing never makes a caller wait for Redis: ``publish`` queues the payload (bounded) and one
publisher task per node sends them in order, each with a timeout. A send is answered after its
commit whatever state Redis is in (stopped, paused, cut off: reliability.md F5, F6); while Redis
is unreachable the queue fills and further payloads are dropped and counted, and clients repair
what was dropped by seq. On shutdown the queue is flushed for a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sodam.bus.base import Handler

logger = logging.getLogger(__name__)

PUBLISH_QUEUE_MAX = 10_000
PUBLISH_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 2.0
FLUSH_ON_CLOSE_S = 2.0
WARN_EVERY_S = 5.0  # failures are logged at most this often (with a count), not per payload

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "sodam:",
        queue_max: int = PUBLISH_QUEUE_MAX,
        publish_timeout_s: float = PUBLISH_TIMEOUT_S,
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S
        )
        self._task: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._handler: Handler | None = None
        self._subscribed = asyncio.Event()
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=queue_max)
        self._publish_timeout = publish_timeout_s
        self.dropped = 0  # payloads never sent: queue full, or Redis failed them
        self._in_flight = 0
        self._failures = 0
        self._warned_at = float("-inf")

    async def start(self, handler: Handler | None) -> None:
        self._handler = handler
        self._publisher = asyncio.create_task(self._publish_loop(), name="redis-bus-publisher")
        if handler is None:
            return  # publish only: no subscription, so no other node's traffic to receive
        self._task = asyncio.create_task(self._listen(), name="redis-bus-listener")
        # Wait (bounded) for the first subscription so early publishes are not missed in tests;
        # a Redis that is down does not stop the node from starting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    @property
    def backlog(self) -> int:
        """Payloads queued or being sent (not yet published, nor dropped)."""
        return self._queue.qsize() + self._in_flight

    async def publish(self, topic: str, payload: bytes) -> None:
        try:
            self._queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self._failed("redis publish queue full; dropping (clients resync by seq)")

    async def _publish_loop(self) -> None:
        while True:
            topic, payload = await self._queue.get()
            self._in_flight = 1
            try:
                await self._send(topic, payload)
            finally:
                self._in_flight = 0
                self._queue.task_done()

    async def _send(self, topic: str, payload: bytes) -> None:
        try:
            await asyncio.wait_for(
                self._client.publish(self._prefix + topic, payload), self._publish_timeout
            )
        except REDIS_ERRORS:
            self._failed("redis publish failed; clients will resync by seq")

    def _failed(self, what: str) -> None:
        self.dropped += 1
        self._failures += 1
        now = asyncio.get_running_loop().time()
        if now - self._warned_at >= WARN_EVERY_S:
            logger.warning("%s (%d since the last warning)", what, self._failures)
            self._warned_at = now
            self._failures = 0

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self._prefix + "*")
                self._subscribed.set()
                delay = 0.1
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage" or self._handler is None:
                        continue
                    topic = message["channel"].decode()[len(self._prefix) :]
                    try:
                        await self._handler(topic, message["data"])
                    except Exception:
                        logger.exception("bus handler failed")
            except asyncio.CancelledError:
                raise
            except REDIS_ERRORS:
                logger.warning("redis subscription lost; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py lacks the annotation

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._publisher is not None:
            # What was committed just before shutdown should still reach the other nodes.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), FLUSH_ON_CLOSE_S)
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        await self._client.aclose()
