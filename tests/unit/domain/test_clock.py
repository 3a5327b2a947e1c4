"""The injected clocks: the fake one moves only when told to."""

from __future__ import annotations

import datetime as dt

from sodam.domain.clock import Clock, FakeClock, SystemClock


def test_fake_clock_starts_at_a_fixed_aware_utc_time() -> None:
    clock = FakeClock()
    assert clock.now() == dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
    assert clock.now().utcoffset() == dt.timedelta(0)


def test_fake_clock_can_start_anywhere() -> None:
    start = dt.datetime(2030, 6, 1, tzinfo=dt.UTC)
    assert FakeClock(start).now() == start


def test_fake_clock_stands_still_until_advanced() -> None:
    clock = FakeClock()
    first, mono = clock.now(), clock.monotonic()
    assert (clock.now(), clock.monotonic()) == (first, mono)

    clock.advance(90.5)
    assert clock.now() - first == dt.timedelta(seconds=90.5)
    assert clock.monotonic() - mono == 90.5


def test_fake_clocks_are_independent() -> None:
    a, b = FakeClock(), FakeClock()
    a.advance(60)
    assert b.now() == FakeClock().now()


def test_system_clock_gives_aware_utc_and_a_monotonic_counter() -> None:
    clock: Clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)
    assert clock.monotonic() <= clock.monotonic()


def test_both_clocks_satisfy_the_protocol() -> None:
    clocks: list[Clock] = [SystemClock(), FakeClock()]
    assert all(isinstance(c.now(), dt.datetime) for c in clocks)
