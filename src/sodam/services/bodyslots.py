"""A bound on the upload bodies one node reads at full speed (docs/files.md, "Many uploads at
once").

Every byte of an upload passes through the event loop that also carries the chat: fifty
uploads arriving at full speed mean fifty sockets' chunks in every loop iteration, and each
await of a chat send queues behind them. ``BodySlots`` lets ``limit`` bodies stream at a time;
the others wait before their first byte. A waiting body costs nothing: the server does not read
its socket, so TCP flow control holds the client back.

A slot is for a body that keeps the loop busy. Every ``interval_s`` each body's bytes are
counted: a body that brought fewer than ``slow_bytes_per_s`` (a phone on a mobile network, a
paused upload, a client that stalled) gives its slot up and goes on reading without one, since
it costs the loop little; should it speed up, it queues for a slot again before its next chunk.
So slow clients cannot hold the slots fast ones need. A new body queues for a slot before its
first byte whatever its speed (not known yet).

On top of the slots, ``IngestCeiling`` paces all of a node's upload bytes together to at most
``files.upload_ingest_mb_s``: past about 150 MB/s a single body already takes the CPU the chat
needs on a small machine (docs/performance.md, "Files"). A body over the ceiling waits before
its next read, which TCP turns into back-pressure on the client; a short burst (``BURST_S`` of
bytes) passes unpaced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextvars import ContextVar

from sodam.config import FileSettings

INTERVAL_S = 1.0  # FileSettings.upload_slot_check_s
SLOW_BYTES_PER_S = 4 * 1024 * 1024
BURST_S = 0.05  # bytes may run this far ahead of the ceiling's rate without a wait
MIN_WAIT_S = 0.002  # shorter waits are left to accumulate: a timer costs more than it saves


# Set by the HTTP edge's upload admission (api/middleware.py, ``UploadAdmission``) for the
# request being handled: a body about to queue for a slot gives its admission place up first,
# since waiting for a slot costs the loop nothing and should not hold up other requests.
admission_release: ContextVar[Callable[[], None] | None] = ContextVar(
    "admission_release", default=None
)


class IngestCeiling:
    """The node's upload bytes per second at most, shared by every body (a GCRA: each chunk
    moves a "paid until" time forward by its size over the rate; a body waits while that time
    is more than ``burst_s`` ahead of now). ``bytes_per_s`` 0: no ceiling."""

    def __init__(
        self,
        bytes_per_s: float,
        *,
        burst_s: float = BURST_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if bytes_per_s < 0:
            raise ValueError("bytes_per_s must be 0 (no ceiling) or more")
        self._rate = bytes_per_s
        self._burst_s = burst_s
        self._clock = clock
        self._paid_until = 0.0
        self.waited_s = 0.0  # time bodies spent waiting for the ceiling (a counter)

    def take(self, size: int) -> float:
        """Counts ``size`` bytes just read; returns how long the body should wait before its
        next read (0: go on)."""
        if not self._rate:
            return 0.0
        now = self._clock()
        self._paid_until = max(self._paid_until, now) + size / self._rate
        ahead = self._paid_until - now - self._burst_s
        return ahead if ahead >= MIN_WAIT_S else 0.0

    async def wait(self, seconds: float) -> None:
        """Waits what ``take`` said (counted once waited, not if cancelled)."""
        await asyncio.sleep(seconds)
        self.waited_s += seconds


class BodySlots:
    @classmethod
    def for_node(cls, files: FileSettings) -> BodySlots:
        """The slots and the ceiling ``files`` asks for."""
        return cls(
            files.upload_bodies,
            interval_s=files.upload_slot_check_s,
            ceiling=IngestCeiling(files.upload_ingest_mb_s * 1_000_000),
        )

    def __init__(
        self,
        limit: int,
        *,
        interval_s: float = INTERVAL_S,
        slow_bytes_per_s: float = SLOW_BYTES_PER_S,
        ceiling: IngestCeiling | None = None,
    ) -> None:
        if limit < 0:
            raise ValueError("limit must be 0 (no limit) or more")
        self._limit = limit
        self.ceiling = ceiling or IngestCeiling(0)
        self._interval_s = interval_s
        self._slow_bytes = slow_bytes_per_s * interval_s
        self._sem = asyncio.Semaphore(limit) if limit else None
        self.active = 0  # bodies holding a slot (read by the metrics at scrape time)
        self.waiting = 0  # bodies queued for one

    @property
    def limit(self) -> int:
        return self._limit

    async def _acquire(self, sem: asyncio.Semaphore) -> None:
        release = admission_release.get()
        if release is not None:
            release()
        self.waiting += 1
        try:
            await sem.acquire()
        finally:
            self.waiting -= 1
        self.active += 1

    def _release(self, sem: asyncio.Semaphore) -> None:
        self.active -= 1
        sem.release()

    def stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        """``chunks``, read at full speed only while this body holds a slot. The consumer's own
        work on a chunk (storing a block) happens while the slot is held: it is part of the
        body's cost. The rate check is one timer per body per ``interval_s``; a chunk costs an
        addition. Every chunk counts against the node's ``ceiling``."""
        if self._sem is None:
            return self._paced(chunks)
        return self._slotted(chunks, self._sem)

    async def _paced(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        # A chunk's wait is taken before the next chunk is handed on, never after the last:
        # the end of a body (and its response) is not delayed.
        owed = 0.0
        async for chunk in chunks:
            if owed:
                await self.ceiling.wait(owed)
            yield chunk
            owed = self.ceiling.take(len(chunk))

    async def _slotted(
        self, chunks: AsyncIterator[bytes], sem: asyncio.Semaphore
    ) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        hold = _Hold()

        def check() -> None:
            fast = hold.counted >= self._slow_bytes
            hold.counted = 0
            if hold.held and hold.reading and not fast:
                # Slow or silent: let a body that keeps the loop busy have the slot.
                hold.held = False
                self._release(sem)
            elif not hold.held and fast:
                hold.wants_slot = True
            hold.timer = loop.call_later(self._interval_s, check)

        try:
            await self._acquire(sem)
            hold.held = True
            hold.timer = loop.call_later(self._interval_s, check)
            source = aiter(chunks)
            owed = 0.0
            while True:
                hold.reading = True
                try:
                    chunk = await anext(source)
                except StopAsyncIteration:
                    return
                finally:
                    hold.reading = False
                hold.counted += len(chunk)
                if owed:  # the previous chunk's wait (see _paced)
                    await self.ceiling.wait(owed)
                if hold.wants_slot and not hold.held:
                    await self._acquire(sem)
                    hold.held = True
                    hold.wants_slot = False
                    # judged on a whole interval from now, not on what is left of the current one
                    hold.counted = 0
                    if hold.timer is not None:
                        hold.timer.cancel()
                    hold.timer = loop.call_later(self._interval_s, check)
                yield chunk
                owed = self.ceiling.take(len(chunk))
        finally:
            if hold.timer is not None:
                hold.timer.cancel()
            if hold.held:
                hold.held = False
                self._release(sem)


class _Hold:
    """One body: whether it holds a slot, its bytes since the last check, whether it waits for
    a chunk, whether it was found fast while it had no slot."""

    __slots__ = ("counted", "held", "reading", "timer", "wants_slot")

    def __init__(self) -> None:
        self.held = False
        self.counted = 0
        self.reading = False
        self.wants_slot = False
        self.timer: asyncio.TimerHandle | None = None
