"""Token buckets on the injected clock: bursts, refill, retry hints, isolation between users."""

from __future__ import annotations

from sodam.domain.clock import FakeClock
from sodam.realtime.ratelimit import KeyedBuckets, TokenBucket


def test_bucket_allows_a_burst_then_refuses() -> None:
    bucket = TokenBucket.full(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]


def test_bucket_refills_at_its_rate_up_to_the_burst() -> None:
    bucket = TokenBucket.full(rate=2.0, burst=3, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert not bucket.take(0.1)
    assert bucket.take(0.5)  # 1 token after 0.5 s at 2/s
    assert bucket.retry_after(0.5) == 0.5
    bucket.take(100.0)
    assert bucket.tokens == 2.0  # capped at the burst, minus the one taken


def test_time_going_backwards_does_not_add_tokens() -> None:
    bucket = TokenBucket.full(rate=1.0, burst=1, now=10.0)
    bucket.take(10.0)
    assert not bucket.take(5.0)


def test_one_users_flood_leaves_another_user_untouched() -> None:
    clock = FakeClock()
    buckets: KeyedBuckets[int] = KeyedBuckets(clock, rate=1.0, burst=5)
    flood = [buckets.take(1) for _ in range(50)]
    assert flood[:5] == [0.0] * 5
    assert all(wait > 0 for wait in flood[5:])
    assert [buckets.take(2) for _ in range(5)] == [0.0] * 5


def test_retry_hint_matches_the_refill_time() -> None:
    clock = FakeClock()
    buckets: KeyedBuckets[int] = KeyedBuckets(clock, rate=4.0, burst=1)
    assert buckets.take(7) == 0.0
    assert buckets.take(7) == 0.25
    clock.advance(0.25)
    assert buckets.take(7) == 0.0


def test_least_recently_used_keys_are_evicted_beyond_the_cap() -> None:
    clock = FakeClock()
    buckets: KeyedBuckets[int] = KeyedBuckets(clock, rate=1.0, burst=1, max_keys=2)
    buckets.take(1)
    buckets.take(2)
    buckets.take(1)  # 1 is now the most recent
    buckets.take(3)
    assert len(buckets) == 2
    assert buckets.take(2) == 0.0  # 2 was evicted: a fresh, full bucket
