"""Token buckets for WebSocket frames and sends (reliability.md §4 "WebSocket": flooding).

Time comes from the injected clock's ``monotonic()``, so tests move it by hand. One user's flood
empties only that user's buckets: other users are never slowed by it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sodam.domain.clock import Clock

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; a bucket starts full."""

    rate: float
    burst: int
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: int, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=float(burst), updated=now)

    def take(self, now: float, cost: float = 1.0) -> bool:
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def retry_after(self, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available."""
        self._refill(now)
        missing = cost - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate if self.rate > 0 else float("inf")

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now


class KeyedBuckets(Generic[K]):
    """One bucket per key (a user), least recently used evicted beyond ``max_keys``.

    Evicting a bucket forgives its debt, so ``max_keys`` is set well above the number of users
    active on a node at once.
    """

    def __init__(self, clock: Clock, *, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._rate = rate
        self._burst = burst
        self._max_keys = max_keys
        self._buckets: OrderedDict[K, TokenBucket] = OrderedDict()

    def take(self, key: K, cost: float = 1.0) -> float:
        """0.0 when allowed, else the seconds to wait before retrying."""
        now = self._clock.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket.full(self._rate, self._burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        if bucket.take(now, cost):
            return 0.0
        return max(bucket.retry_after(now, cost), 0.001)

    def __len__(self) -> int:
        return len(self._buckets)
