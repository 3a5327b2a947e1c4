"""A connection's bounded outgoing queue and its slow-consumer policy (reliability.md I6).

Frames are queued as already-serialised text shared by every receiver of a broadcast, so a queue
holds references, not copies. Policy when a client reads slower than events arrive:

1. ephemeral frames (typing, presence, read positions) are dropped first: once
   ``ephemeral_max`` frames are queued, new ephemeral frames are dropped, and a durable frame that
   does not fit evicts queued ephemeral ones;
2. a durable frame (events, acks, replies) that still does not fit is an overflow: the caller
   closes the socket with ``4000 resync`` and the client resumes from its cursors, so nothing is
   lost and the server's memory stays bounded.

Each queued frame carries two bits: durable (not droppable) and event (pushed by the server, as
opposed to an answer to a request); the writer counts events per batch it writes
(``sodam_ws_events_delivered_total``) instead of touching a shared counter per frame.
"""

from __future__ import annotations

import asyncio
from collections import deque

DURABLE = 1
EVENT = 2


class OutgoingQueue:
    def __init__(self, *, max_frames: int, max_chars: int, ephemeral_max: int) -> None:
        self._max_frames = max_frames
        self._max_chars = max_chars
        self._ephemeral_max = min(ephemeral_max, max_frames)
        self._items: deque[tuple[str, int]] = deque()  # (text, DURABLE | EVENT bits)
        self._chars = 0
        self._ephemeral = 0
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self.closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def chars(self) -> int:
        return self._chars

    def put_ephemeral(self, text: str) -> bool:
        """Queues an ephemeral frame; False when it was dropped."""
        if self.closed or self._ephemeral >= self._ephemeral_max or not self._fits(text):
            self.dropped += 1
            return False
        self._append(text, EVENT)
        return True

    def put_durable(self, text: str, *, event: bool = False) -> bool:
        """Queues a frame that must not be lost; False on overflow (the caller closes)."""
        if self.closed:
            return False
        if not self._fits(text) and self._ephemeral:
            self._evict_ephemeral(text)
        if not self._fits(text):
            return False
        self._append(text, DURABLE | EVENT if event else DURABLE)
        return True

    def has_room_for(self, frames: int, chars: int = 0) -> bool:
        return (
            len(self._items) + frames <= self._max_frames and self._chars + chars <= self._max_chars
        )

    async def wait_below(self, frames: int) -> None:
        """Waits until at most ``frames`` are queued (backpressure for paged replays)."""
        while not self.closed and len(self._items) > frames:
            self._drained.clear()
            await self._drained.wait()

    async def get(self) -> str:
        """The next frame to write; raises ``QueueClosed`` once closed and empty."""
        while not self._items:
            if self.closed:
                raise QueueClosed
            self._ready.clear()
            await self._ready.wait()
        return self._pop()[0]

    async def get_batch(self, most: int) -> list[tuple[str, bool]]:
        """The next frames to write, at least one and at most ``most``, each with whether it
        is an event; raises ``QueueClosed`` once closed and empty."""
        while not self._items:
            if self.closed:
                raise QueueClosed
            self._ready.clear()
            await self._ready.wait()
        out: list[tuple[str, bool]] = []
        while self._items and len(out) < most:
            text, flags = self._pop()
            out.append((text, bool(flags & EVENT)))
        return out

    def _pop(self) -> tuple[str, int]:
        text, flags = self._items.popleft()
        self._chars -= len(text)
        if not flags & DURABLE:
            self._ephemeral -= 1
        if len(self._items) <= self._max_frames // 2:
            self._drained.set()
        return text, flags

    def close(self) -> None:
        """Frees the queued frames and wakes every waiter."""
        self.closed = True
        self._items.clear()
        self._chars = 0
        self._ephemeral = 0
        self._ready.set()
        self._drained.set()

    def _fits(self, text: str) -> bool:
        return len(self._items) < self._max_frames and self._chars + len(text) <= self._max_chars

    def _append(self, text: str, flags: int) -> None:
        self._items.append((text, flags))
        self._chars += len(text)
        if not flags & DURABLE:
            self._ephemeral += 1
        self._ready.set()

    def _evict_ephemeral(self, incoming: str) -> None:
        """Drops the oldest ephemeral frames until ``incoming`` fits (or none is left)."""
        need_frames = len(self._items) + 1 - self._max_frames
        need_chars = self._chars + len(incoming) - self._max_chars
        kept: deque[tuple[str, int]] = deque()
        for text, flags in self._items:
            if not flags & DURABLE and (need_frames > 0 or need_chars > 0):
                need_frames -= 1
                need_chars -= len(text)
                self._chars -= len(text)
                self._ephemeral -= 1
                self.dropped += 1
                continue
            kept.append((text, flags))
        self._items = kept


class QueueClosed(Exception):
    """The connection is closing: nothing more will be written."""
