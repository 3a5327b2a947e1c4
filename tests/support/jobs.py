"""Helpers for the job outbox tests: a queue on a real database, rows, waiting for states."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sodam.config import JobSettings
from sodam.db.engine import Database, create_engine
from sodam.db.tables import outbox
from sodam.domain.clock import Clock
from sodam.services.jobs import JobQueue

WAIT_DEADLINE_S = 60.0  # a last guard only: each wait ends as soon as its condition holds


def open_database(url: str, *, pool_size: int = 4) -> Database:
    return Database(create_engine(url, pool_size=pool_size))


def make_queue(db: Database, clock: Clock, **settings: Any) -> JobQueue:
    """A queue with ``JobSettings(**settings)``."""
    return JobQueue(db, clock, settings=JobSettings(**settings))


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    state: str
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    locked_by: str | None
    locked_until: dt.datetime | None
    last_error: str | None
    finished_at: dt.datetime | None
    dedupe_key: str | None
    payload: Any


async def job_row(db: Database, job_id: int) -> Row:
    def read_txn(conn: sa.Connection) -> Row:
        r = conn.execute(sa.select(outbox).where(outbox.c.id == job_id)).one()
        return Row(
            id=r.id,
            kind=r.kind,
            state=r.state,
            attempts=r.attempts,
            max_attempts=r.max_attempts,
            run_after=r.run_after,
            locked_by=r.locked_by,
            locked_until=r.locked_until,
            last_error=r.last_error,
            finished_at=r.finished_at,
            dedupe_key=r.dedupe_key,
            payload=r.payload,
        )

    return await db.read(read_txn)


async def all_rows(db: Database, kind: str | None = None) -> list[Row]:
    def ids_txn(conn: sa.Connection) -> list[int]:
        query = sa.select(outbox.c.id).order_by(outbox.c.id)
        if kind is not None:
            query = query.where(outbox.c.kind == kind)
        return [int(i) for i in conn.execute(query).scalars()]

    return [await job_row(db, job_id) for job_id in await db.read(ids_txn)]


async def wait_until(
    condition: Callable[[], Awaitable[bool]], what: str, deadline_s: float = WAIT_DEADLINE_S
) -> None:
    """Re-checks ``condition`` until it holds; fails after the deadline (a guard, not a timer)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not await condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)  # polling interval, not synchronisation


async def wait_for_state(db: Database, job_id: int, state: str) -> Row:
    async def reached() -> bool:
        return (await job_row(db, job_id)).state == state

    await wait_until(reached, f"job {job_id} to be {state}")
    return await job_row(db, job_id)
