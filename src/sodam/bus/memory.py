"""In-process bus for the embedded single-process deployment."""

from __future__ import annotations

import logging

from sodam.bus.base import Handler

logger = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    async def start(self, handler: Handler | None) -> None:
        if handler is not None:
            self._handlers.append(handler)

    async def publish(self, topic: str, payload: bytes) -> None:
        for handler in list(self._handlers):
            try:
                await handler(topic, payload)
            except Exception:
                logger.exception("bus handler failed for %s", topic.split(":", 1)[0])

    async def close(self) -> None:
        self._handlers.clear()
