"""A bound on the upload bodies one node reads at once (docs/files.md, "Many uploads at once").

Every byte of an upload passes through the event loop that also carries the chat: fifty
uploads arriving at full speed mean fifty sockets' chunks in every loop iteration, and each
await of a chat send queues behind them. ``BodySlots`` lets ``limit`` bodies stream at a time;
the others wait before their first byte. A waiting body costs nothing: the server does not read
its socket, so TCP flow control holds the client back.

A slot belongs to a body that is sending. A body that sends nothing for ``idle_s`` (a client on
a slow link, a paused upload) gives its slot up and queues for one again when its next chunk
has arrived, so a few stalled clients cannot hold every slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

IDLE_S = 1.0  # FileSettings.upload_body_idle_s


class BodySlots:
    def __init__(self, limit: int, *, idle_s: float = IDLE_S) -> None:
        if limit < 0:
            raise ValueError("limit must be 0 (no limit) or more")
        self._limit = limit
        self._idle_s = idle_s
        self._sem = asyncio.Semaphore(limit) if limit else None
        self.active = 0  # bodies holding a slot (read by the metrics at scrape time)
        self.waiting = 0  # bodies queued for one

    @property
    def limit(self) -> int:
        return self._limit

    async def _acquire(self, sem: asyncio.Semaphore) -> None:
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
        """``chunks``, read only while this body holds a slot. The consumer's own work on a
        chunk (storing a block) happens while the slot is held: it is part of the body's cost.

        The idle check is a timer per body, re-armed at most once per ``idle_s``, so a chunk
        costs no more than reading the clock."""
        if self._sem is None:
            return _passthrough(chunks)
        return self._slotted(chunks, self._sem)

    async def _slotted(
        self, chunks: AsyncIterator[bytes], sem: asyncio.Semaphore
    ) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        hold = _Hold()

        def check() -> None:
            hold.timer = None
            if not hold.held:
                return
            due = hold.last + self._idle_s
            if hold.reading and loop.time() >= due:
                # Nothing for a while: let a sending body have the slot meanwhile.
                hold.held = False
                self._release(sem)
                return
            hold.timer = loop.call_at(max(due, loop.time() + self._idle_s / 4), check)

        async def take() -> None:
            await self._acquire(sem)
            hold.held = True
            hold.last = loop.time()
            if hold.timer is None:
                hold.timer = loop.call_at(hold.last + self._idle_s, check)

        try:
            await take()
            source = aiter(chunks)
            while True:
                hold.reading = True
                try:
                    chunk = await anext(source)
                except StopAsyncIteration:
                    return
                finally:
                    hold.reading = False
                hold.last = loop.time()
                if not hold.held:
                    await take()
                yield chunk
        finally:
            if hold.timer is not None:
                hold.timer.cancel()
            if hold.held:
                hold.held = False
                self._release(sem)


async def _passthrough(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    async for chunk in chunks:
        yield chunk


class _Hold:
    """One body's slot: held or not, when its last chunk came, whether it waits for one."""

    __slots__ = ("held", "last", "reading", "timer")

    def __init__(self) -> None:
        self.held = False
        self.last = 0.0
        self.reading = False
        self.timer: asyncio.TimerHandle | None = None
