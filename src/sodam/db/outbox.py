"""Repository for the job outbox (the ``outbox`` table; docs/jobs.md).

A job is written by ``enqueue_txn`` in the same transaction as the action that causes it, so it
exists exactly when the action committed. Runners then claim due jobs under a lease:

- **PostgreSQL**: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks rows no other claimer holds, then
  one UPDATE marks them running; concurrent claimers never get the same row.
- **SQLite**: every write transaction runs on the one writer thread (``BEGIN IMMEDIATE``, see
  ``db/engine.py``), so the same SELECT-then-UPDATE is already exclusive; ``FOR UPDATE`` renders as
  nothing there.

A claim counts an attempt (``attempts + 1``) and stamps ``locked_by`` and ``locked_until``. A job
whose lease expired (its runner was killed) is claimable again; its lost attempt stays counted,
and if it was the last one the job goes dead instead, so a job that kills its runner cannot loop.
Every later transition names the claim it belongs to (``id``, ``attempts``, ``locked_by``): a
runner that lost its lease to another cannot complete, retry or release a job it no longer holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sodam.db.tables import outbox
from sodam.domain.jobs import Claimed, Job, JobInfo, JobState, JobStats

ERROR_MAX_CHARS = 1000  # outbox.last_error
KIND_MAX_CHARS = 50  # outbox.kind
DEDUPE_KEY_MAX_CHARS = 200  # outbox.dedupe_key
LEASE_LOST_ERROR = "lease expired during the last attempt (the runner stopped or was killed)"


def enqueue_txn(
    conn: sa.Connection,
    *,
    kind: str,
    payload: dict[str, Any],
    now: dt.datetime,
    dedupe_key: str | None = None,
    delay_s: float = 0.0,
    max_attempts: int = 10,
) -> int | None:
    """Inserts a pending job due ``delay_s`` after ``now`` and returns its id; None when a job
    with ``dedupe_key`` already exists (in any state, until it is pruned).

    Call it inside the transaction of the action that causes the job. A duplicate key is
    ``INSERT ... ON CONFLICT DO NOTHING``, so it neither raises nor aborts the caller's
    transaction (a failed INSERT would abort a PostgreSQL transaction).
    """
    if not kind or len(kind) > KIND_MAX_CHARS:
        raise ValueError(f"job kind must be 1-{KIND_MAX_CHARS} characters")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= DEDUPE_KEY_MAX_CHARS:
        raise ValueError(f"dedupe_key must be 1-{DEDUPE_KEY_MAX_CHARS} characters")
    if delay_s < 0 or max_attempts < 1:
        raise ValueError("delay_s must be >= 0 and max_attempts >= 1")
    values = {
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "state": "pending",
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": now + dt.timedelta(seconds=delay_s),
        "created_at": now,
    }
    if dedupe_key is None:
        inserted = conn.execute(sa.insert(outbox).values(values).returning(outbox.c.id))
        return int(inserted.scalar_one())
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(outbox)
        .values(values)
        .on_conflict_do_nothing(index_elements=[outbox.c.dedupe_key])
        .returning(outbox.c.id)
    )
    job_id = conn.execute(statement).scalar_one_or_none()
    return None if job_id is None else int(job_id)


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Claimable: pending and due, or running under a lease that has expired."""
    return sa.or_(
        sa.and_(outbox.c.state == "pending", outbox.c.run_after <= now),
        sa.and_(outbox.c.state == "running", outbox.c.locked_until < now),
    )


def select_has_due_jobs(conn: sa.Connection, now: dt.datetime) -> bool:
    """Whether any job is claimable now (a cheap read before a write transaction)."""
    found = conn.execute(sa.select(outbox.c.id).where(_due(now)).limit(1)).first()
    return found is not None


def claim_due_jobs_txn(
    conn: sa.Connection,
    *,
    worker_id: str,
    now: dt.datetime,
    limit: int,
    lease_s: float,
) -> Claimed:
    """Claims up to ``limit`` due jobs, oldest due first, for ``worker_id`` until
    ``now + lease_s``."""
    rows = conn.execute(
        sa.select(
            outbox.c.id,
            outbox.c.kind,
            outbox.c.state,
            outbox.c.attempts,
            outbox.c.max_attempts,
        )
        .where(_due(now))
        .order_by(outbox.c.run_after, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    lost = [r for r in rows if r.state == "running" and r.attempts >= r.max_attempts]
    if lost:
        conn.execute(
            sa.update(outbox)
            .where(outbox.c.id.in_([r.id for r in lost]))
            .values(
                state="dead",
                locked_by=None,
                locked_until=None,
                finished_at=now,
                last_error=LEASE_LOST_ERROR,
            )
        )
    lost_ids = {r.id for r in lost}
    order = {r.id: i for i, r in enumerate(rows) if r.id not in lost_ids}
    if not order:
        return Claimed(lost=[_job(r, {}) for r in lost])
    updated = conn.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_(list(order)))
        .values(
            state="running",
            attempts=outbox.c.attempts + 1,
            locked_by=worker_id,
            locked_until=now + dt.timedelta(seconds=lease_s),
        )
        .returning(
            outbox.c.id,
            outbox.c.kind,
            outbox.c.payload,
            outbox.c.attempts,
            outbox.c.max_attempts,
        )
    ).all()
    jobs = sorted((_job(r, r.payload) for r in updated), key=lambda job: order[job.id])
    return Claimed(jobs=jobs, lost=[_job(r, {}) for r in lost])


def _job(row: Any, payload: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        payload=dict(payload or {}),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
    )


def _held(job: Job, worker_id: str) -> sa.ColumnElement[bool]:
    """The claim ``job`` came from is still the current one."""
    return sa.and_(
        outbox.c.id == job.id,
        outbox.c.state == "running",
        outbox.c.locked_by == worker_id,
        outbox.c.attempts == job.attempts,
    )


def _error_text(error: str) -> str:
    return error if len(error) <= ERROR_MAX_CHARS else error[: ERROR_MAX_CHARS - 1] + "…"


def mark_done(conn: sa.Connection, job: Job, *, worker_id: str, now: dt.datetime) -> bool:
    """Completes a held job; False when the claim was lost (another runner has the job)."""
    result = conn.execute(
        sa.update(outbox)
        .where(_held(job, worker_id))
        .values(state="done", locked_by=None, locked_until=None, finished_at=now)
    )
    return result.rowcount == 1


def mark_retry(
    conn: sa.Connection, job: Job, *, worker_id: str, run_after: dt.datetime, error: str
) -> bool:
    """Puts a held job back to pending until ``run_after``; its attempt stays counted."""
    result = conn.execute(
        sa.update(outbox)
        .where(_held(job, worker_id))
        .values(
            state="pending",
            locked_by=None,
            locked_until=None,
            run_after=run_after,
            last_error=_error_text(error),
        )
    )
    return result.rowcount == 1


def mark_dead(
    conn: sa.Connection, job: Job, *, worker_id: str, error: str, now: dt.datetime
) -> bool:
    """Moves a held job to the dead letter state with ``error``."""
    result = conn.execute(
        sa.update(outbox)
        .where(_held(job, worker_id))
        .values(
            state="dead",
            locked_by=None,
            locked_until=None,
            finished_at=now,
            last_error=_error_text(error),
        )
    )
    return result.rowcount == 1


def release_jobs(conn: sa.Connection, jobs: Sequence[Job], *, worker_id: str) -> int:
    """Hands held jobs back to the queue without counting their attempt (graceful shutdown);
    they are due again at once. Returns how many were still held."""
    released = 0
    for job in jobs:
        result = conn.execute(
            sa.update(outbox)
            .where(_held(job, worker_id))
            .values(
                state="pending",
                attempts=outbox.c.attempts - 1,
                locked_by=None,
                locked_until=None,
            )
        )
        released += result.rowcount
    return released


def renew_leases(
    conn: sa.Connection, jobs: Sequence[Job], *, worker_id: str, locked_until: dt.datetime
) -> int:
    """Extends the lease of held jobs (a long handler); returns how many were still held."""
    if not jobs:
        return 0
    result = conn.execute(
        sa.update(outbox)
        .where(
            outbox.c.id.in_([job.id for job in jobs]),
            outbox.c.state == "running",
            outbox.c.locked_by == worker_id,
        )
        .values(locked_until=locked_until)
    )
    return int(result.rowcount)


def select_stats(conn: sa.Connection, now: dt.datetime) -> JobStats:
    """Pending jobs per kind, running and dead totals, and the age of the oldest due job, in one
    statement over the (state, run_after) index."""
    due_since = sa.func.min(sa.case((outbox.c.run_after <= now, outbox.c.run_after)))
    rows = conn.execute(
        sa.select(outbox.c.state, outbox.c.kind, sa.func.count(), due_since)
        .where(outbox.c.state.in_(("pending", "running", "dead")))
        .group_by(outbox.c.state, outbox.c.kind)
    ).all()
    pending: dict[str, int] = {}
    running = dead = 0
    oldest: dt.datetime | None = None
    for state, kind, count, first_due in rows:
        if state == "pending":
            pending[kind] = int(count)
            if first_due is not None and (oldest is None or first_due < oldest):
                oldest = first_due
        elif state == "running":
            running += int(count)
        else:
            dead += int(count)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return JobStats(pending=pending, running=running, dead=dead, oldest_due_age_s=age)


def delete_done_before(conn: sa.Connection, before: dt.datetime, *, limit: int) -> int:
    """Deletes up to ``limit`` done jobs finished before ``before`` (their dedupe keys become
    free again); returns how many."""
    ids = (
        sa.select(outbox.c.id)
        .where(outbox.c.state == "done", outbox.c.finished_at < before)
        .limit(limit)
        .scalar_subquery()
    )
    result = conn.execute(sa.delete(outbox).where(outbox.c.id.in_(ids)))
    return int(result.rowcount)


def select_jobs(conn: sa.Connection, *, state: JobState | None, limit: int) -> list[JobInfo]:
    """The newest jobs (in ``state`` if given), newest first."""
    query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(outbox.c.state == state)
    return [
        JobInfo(
            id=r.id,
            kind=r.kind,
            state=r.state,
            attempts=r.attempts,
            max_attempts=r.max_attempts,
            run_after=r.run_after,
            created_at=r.created_at,
            finished_at=r.finished_at,
            locked_by=r.locked_by,
            last_error=r.last_error,
        )
        for r in conn.execute(query)
    ]


def requeue_dead_job(conn: sa.Connection, job_id: int, now: dt.datetime) -> bool:
    """Gives a dead job a fresh set of attempts, due now; False if it is not dead."""
    result = conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == job_id, outbox.c.state == "dead")
        .values(
            state="pending",
            attempts=0,
            run_after=now,
            locked_by=None,
            locked_until=None,
            finished_at=None,
        )
    )
    return result.rowcount == 1
