"""The SQLite writer's group commit (db/engine.py): writes queued together share one COMMIT, and
each runs in its own savepoint, so a failing write rolls back only its own work and its
neighbours in the group neither see it nor lose theirs. SQLite only: PostgreSQL runs each write
in its own transaction.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from sodam.db import engine
from sodam.db.engine import BACKGROUND_PER_GROUP, Database, create_engine

_rows = sa.table("kv", sa.column("k"))


class _Boom(Exception):
    pass


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(f"sqlite:///{tmp_path / 'writer.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE kv (k TEXT PRIMARY KEY)")
    database = Database(engine)
    try:
        yield database
    finally:
        await database.dispose()


def _insert(*keys: str) -> Callable[[sa.Connection], None]:
    def txn(conn: sa.Connection) -> None:
        for k in keys:
            conn.execute(sa.insert(_rows).values(k=k))

    return txn


def _insert_then_fail(key: str) -> Callable[[sa.Connection], None]:
    def txn(conn: sa.Connection) -> None:
        conn.execute(sa.insert(_rows).values(k=key))
        raise _Boom

    return txn


async def _keys(db: Database) -> list[str]:
    return await db.read(
        lambda conn: [str(k) for k in conn.execute(sa.select(_rows.c.k).order_by("k")).scalars()]
    )


async def _in_one_group(db: Database, *fns: Callable[[sa.Connection], None]) -> list[object]:
    """Runs the writes after a blocker holds the writer, so they are all queued when it takes
    its next group: the writes share a group with one another (the first ones may join the
    blocker's group instead, which the assertions below do not depend on)."""
    release = threading.Event()
    blocker = asyncio.ensure_future(db.write(lambda _conn: release.wait(30)))
    writes = [asyncio.ensure_future(db.write(fn)) for fn in fns]
    await asyncio.sleep(0)  # one loop turn: every write above reaches the writer's queue
    release.set()
    await blocker
    return await asyncio.gather(*writes, return_exceptions=True)


async def test_a_failing_write_rolls_back_only_its_own_work(db: Database) -> None:
    results = await _in_one_group(
        db, _insert("a"), _insert_then_fail("x"), _insert("x", "b"), _insert("c")
    )
    assert [type(r).__name__ for r in results] == ["NoneType", "_Boom", "NoneType", "NoneType"]
    # "x" written by the failing write is gone, so the next write could insert it again.
    assert await _keys(db) == ["a", "b", "c", "x"]


async def test_a_write_may_take_its_own_savepoints_inside_its_group(db: Database) -> None:
    def insert_unless_present(conn: sa.Connection) -> None:
        # The repositories' pattern for a lost race (insert_room, insert_member).
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(_rows).values(k="a"))
        except IntegrityError:
            conn.execute(sa.insert(_rows).values(k="a-taken"))

    def fail_inside_own_savepoint(conn: sa.Connection) -> None:
        conn.execute(sa.insert(_rows).values(k="y"))
        with conn.begin_nested():
            conn.execute(sa.insert(_rows).values(k="z"))
            raise _Boom

    results = await _in_one_group(
        db, _insert("a"), insert_unless_present, fail_inside_own_savepoint, _insert("y", "z")
    )
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "_Boom", "NoneType"]
    assert await _keys(db) == ["a", "a-taken", "y", "z"]


async def test_every_write_of_a_group_is_durable_when_it_returns(db: Database) -> None:
    await _in_one_group(db, *(_insert(f"k{i}") for i in range(20)))
    assert await _keys(db) == sorted(f"k{i}" for i in range(20))


class _WriteLog:
    """The order in which the writer runs writes (their keys) and COMMITs; ``hold_writer``
    keeps the writer inside a group of its own until ``release`` is set, so that the writes
    queued meanwhile are all waiting when it takes its next group."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.order: list[str] = []
        self.release = threading.Event()
        event.listen(db.engine, "commit", lambda _conn: self.order.append("COMMIT"))

    def noted(self, key: str) -> Callable[[sa.Connection], None]:
        def txn(conn: sa.Connection) -> None:
            self.order.append(key)
            conn.execute(sa.insert(_rows).values(k=key))

        return txn

    async def hold_writer(self) -> asyncio.Future[object]:
        started = threading.Event()

        def hold(_conn: sa.Connection) -> None:
            started.set()
            self.release.wait(30)

        blocker = asyncio.ensure_future(self.db.write(hold))
        assert await asyncio.to_thread(started.wait, 30)  # the writer is inside its group
        return blocker


async def test_a_burst_of_background_writes_does_not_hold_an_interactive_one(db: Database) -> None:
    """Twelve background writes queued before a send: the send goes in the next group, with at
    most ``BACKGROUND_PER_GROUP`` of them; the rest follow in later groups, none lost."""
    log = _WriteLog(db)
    order, noted = log.order, log.noted

    blocker = await log.hold_writer()
    background = [
        asyncio.ensure_future(db.write(noted(f"b{i:02}"), background=True)) for i in range(12)
    ]
    send = asyncio.ensure_future(db.write(noted("send")))
    await asyncio.sleep(0)  # one loop turn: every write above reaches the writer's queues
    log.release.set()
    await asyncio.gather(blocker, send, *background)
    n = BACKGROUND_PER_GROUP
    keys = [f"b{i:02}" for i in range(12)]
    # the blocker's group wrote no row; the send leads the next one
    expected = [[], ["send", *keys[:n]]] + [keys[i : i + n] for i in range(n, 12, n)]
    assert _groups(order) == expected
    assert await _keys(db) == sorted(["send", *(f"b{i:02}" for i in range(12))])


def _groups(order: list[str]) -> list[list[str]]:
    """``order`` (writes' keys and COMMITs) cut at each COMMIT."""
    groups: list[list[str]] = [[]]
    for item in order:
        if item == "COMMIT":
            groups.append([])
        else:
            groups[-1].append(item)
    return groups[:-1]


async def test_closing_commits_the_writes_still_queued(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'close.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE kv (k TEXT PRIMARY KEY)")
    database = Database(engine)
    started, release = threading.Event(), threading.Event()

    def hold(_conn: sa.Connection) -> None:
        started.set()
        release.wait(30)

    blocker = asyncio.ensure_future(database.write(hold))
    assert await asyncio.to_thread(started.wait, 30)
    writes = [
        asyncio.ensure_future(database.write(_insert("a"))),
        asyncio.ensure_future(database.write(_insert("b"), background=True)),
    ]
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(database.dispose())
    writer = database._writer  # the moment close() was asked is not public
    assert writer is not None
    async with asyncio.timeout(30):  # a last guard: waits for the flag, not for a time
        while not writer._stopping:  # noqa: ASYNC110 -- a flag, no event to wait on
            await asyncio.sleep(0)
    release.set()  # only now can the writer take the queued writes: after it was told to stop
    await asyncio.gather(blocker, *writes, closing)
    with engine.connect() as conn:
        assert sorted(conn.exec_driver_sql("SELECT k FROM kv").scalars()) == ["a", "b"]


async def test_a_flood_of_interactive_writes_leaves_background_ones_their_places(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More interactive writes queued than a group holds: the first group still takes the
    queued background writes (up to ``BACKGROUND_PER_GROUP``), the rest of it interactive."""
    monkeypatch.setattr(engine, "MAX_GROUP", 8)
    log = _WriteLog(db)
    order, noted = log.order, log.noted

    blocker = await log.hold_writer()
    sends = [asyncio.ensure_future(db.write(noted(f"s{i:02}"))) for i in range(12)]
    background = [asyncio.ensure_future(db.write(noted(f"b{i}"), background=True)) for i in (0, 1)]
    await asyncio.sleep(0)
    log.release.set()
    await asyncio.gather(blocker, *sends, *background)
    groups = _groups(order)
    assert groups[1] == [*(f"s{i:02}" for i in range(6)), "b0", "b1"]
    assert groups[2] == [f"s{i:02}" for i in range(6, 12)]
