"""Per-room delivery order at node level (reliability.md I3, F5, F9).

The bus may lose, repeat or reorder room events: two nodes publish to Redis independently, and
Redis pub/sub drops what it had in flight when it restarts. Each room a node serves has one
``RoomSequencer`` holding the last ``event_seq`` delivered to the node's sockets:

- ``seq <= last``: a duplicate, dropped;
- ``seq == last + 1``: delivered, followed by any stashed successors;
- ``seq > last + 1``: stashed (bounded), and the hub fills the gap from the database
  (``events_after``), which holds every committed event because events are published only after
  their commit and a room's seqs are handed out in commit order.

The class is pure (no I/O, no clock) so the rules are unit-tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class RoomSequencer(Generic[T]):
    last: int | None = None  # None: nothing delivered yet; the first event sets the base
    max_stash: int = 256
    stash: dict[int, T] = field(default_factory=dict)
    target: int = 0  # the highest seq seen; a fill runs until ``last`` reaches it
    filling: bool = False
    duplicates: int = 0

    def offer(self, seq: int, item: T) -> list[tuple[int, T]]:
        """A live event: returns what is now deliverable, in order (maybe nothing)."""
        if self.last is None:
            self.last = seq - 1
        if seq <= self.last or seq in self.stash:
            self.duplicates += 1
            return []
        self.target = max(self.target, seq)
        if seq == self.last + 1 and not self.filling:
            self.last = seq
            return [(seq, item), *self._drain()]
        self._keep(seq, item)
        return []

    @property
    def has_gap(self) -> bool:
        """Events ahead of ``last`` are waiting for missing predecessors."""
        return self.last is not None and self.target > self.last

    @property
    def gap_size(self) -> int:
        if self.last is None or not self.stash:
            return 0
        return min(self.stash) - self.last - 1

    def fill(self, items: list[tuple[int, T]]) -> list[tuple[int, T]]:
        """Events read from the database after ``last`` (ascending): returns what is deliverable.

        The database is the authority: its copy replaces a stashed copy of the same seq, and a
        seq it skips does not exist, so nothing waits for it.
        """
        out: list[tuple[int, T]] = []
        assert self.last is not None  # noqa: S101 -- a fill only starts after a first event
        for seq, item in items:
            self.stash.pop(seq, None)
            if seq <= self.last:
                continue
            self.last = seq
            self.target = max(self.target, seq)
            out.append((seq, item))
        out.extend(self._drain())
        return out

    def skip_to_stash(self) -> list[tuple[int, T]]:
        """Gives up on the missing events (too many, or absent from the database): delivers the
        stashed ones in order from the lowest. Returns them."""
        if not self.stash:
            if self.last is not None:
                self.last = max(self.last, self.target)
            return []
        first = min(self.stash)
        self.last = first - 1
        return self._drain()

    def _keep(self, seq: int, item: T) -> None:
        self.stash[seq] = item
        if len(self.stash) > self.max_stash:
            # Keep the lowest: they are delivered first; the rest is read again from the database.
            del self.stash[max(self.stash)]

    def _drain(self) -> list[tuple[int, T]]:
        out: list[tuple[int, T]] = []
        assert self.last is not None  # noqa: S101 -- only called once a base exists
        while (self.last + 1) in self.stash:
            self.last += 1
            out.append((self.last, self.stash.pop(self.last)))
        return out
