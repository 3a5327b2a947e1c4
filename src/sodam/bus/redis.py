"""Redis pub/sub bus for several nodes.

One pattern subscription per node (``<prefix>*``) feeds the node's local dispatcher. Redis pub/sub
is fire-and-forget: what is published while a node is disconnected is lost, and clients repair it
by seq (resume). The listener reconnects with capped exponential backoff and never stops the node.
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


class RedisBus:
    def __init__(self, url: str, *, prefix: str = "sodam:") -> None:
        self._url = url
        self._prefix = prefix
        self._client: aioredis.Redis = aioredis.Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._handler: Handler | None = None
        self._subscribed = asyncio.Event()

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        self._task = asyncio.create_task(self._listen(), name="redis-bus-listener")
        # Wait (bounded) for the first subscription so early publishes are not missed in tests;
        # a Redis that is down does not stop the node from starting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def publish(self, topic: str, payload: bytes) -> None:
        try:
            await self._client.publish(self._prefix + topic, payload)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            logger.warning("redis publish failed; clients will resync by seq")

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
            except (RedisConnectionError, RedisTimeoutError, OSError):
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
        await self._client.aclose()
