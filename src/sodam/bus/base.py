"""The pub/sub interface between nodes.

The bus is an accelerator, never the source of truth: every durable change is in the database with
a per-room event seq, so a message the bus loses (a Redis restart, a node cut off) is found again by
the client's resume (ADR 0001). A node subscribes once and dispatches locally; topics are
``room:<id>`` and ``user:<id>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from sodam.domain.topics import room_topic, user_topic

__all__ = ["Bus", "Handler", "room_topic", "user_topic"]

Handler = Callable[[str, bytes], Awaitable[None]]


class Bus(Protocol):
    async def start(self, handler: Handler | None) -> None:
        """Begins delivering every published (topic, payload) to ``handler``, on every node.
        ``None``: this node only publishes (a ``sodam worker`` has no sockets to deliver to)."""
        ...

    async def publish(self, topic: str, payload: bytes) -> None:
        """Best effort: a lost publish is repaired by resume, never by retrying here."""
        ...

    async def close(self) -> None: ...
