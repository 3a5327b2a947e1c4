"""Background jobs through the transactional outbox (docs/jobs.md).

A service that causes a job writes it in its own write transaction and wakes the local runner
once that transaction has committed::

    from sodam.services.jobs import enqueue_txn

    def send_txn(conn: sa.Connection) -> None:
        ...  # the action
        enqueue_txn(conn, kind="files.scan", payload={"attachment_id": aid}, now=now,
                    dedupe_key=f"files.scan:{aid}")

    await self._db.write(send_txn)
    self._jobs.kick()  # the embedded runner takes it at once instead of at its next poll

Delivery is at least once: a handler may run again after a crash or a lost lease, so handlers
are idempotent. A handler signals its outcome by returning (done) or raising:

    JobError
    ├── RetryLater        retry after the given delay (the attempt counts)
    └── PermanentJobError straight to dead (the dead letter state)

Any other exception is a failed attempt: the job is retried with exponential backoff until its
``max_attempts``, then it is dead.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa

from sodam.config import JobSettings
from sodam.db import outbox as outbox_repo
from sodam.db.engine import Database
from sodam.db.outbox import enqueue_txn
from sodam.domain.clock import Clock
from sodam.domain.jobs import Claimed, Job, JobInfo, JobState, JobStats

__all__ = [
    "Claimed",
    "Job",
    "JobError",
    "JobHandler",
    "JobInfo",
    "JobQueue",
    "JobStats",
    "PermanentJobError",
    "RetryLater",
    "enqueue_txn",
]

logger = logging.getLogger(__name__)

JobHandler = Callable[[Job], Awaitable[None]]

# Each backoff delay is shortened by up to this fraction at random, so jobs that failed together
# (a dependency went down) do not all come back in the same second.
BACKOFF_JITTER = 0.25
PRUNE_BATCH = 5000


class JobError(Exception):
    """A handler's signal about its job; ``reason`` is stored as the job's last error, so it
    names what failed, never a secret or user content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(JobError):
    """Try again after ``delay_s`` (e.g. a dependency answered "busy"). Counts as an attempt:
    after ``max_attempts`` the job is dead."""

    def __init__(self, delay_s: float, reason: str) -> None:
        super().__init__(reason)
        self.delay_s = max(0.0, delay_s)


class PermanentJobError(JobError):
    """Retrying cannot help (the input is invalid, the target is gone): straight to dead."""


class JobQueue:
    """The outbox as runners and administrators use it: claim, finish, inspect.

    One per process (``Services.jobs``). ``kick()`` wakes the runners of this process that
    registered with ``add_wakeup``.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        settings: JobSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self.clock = clock  # public: the runner buckets periodic jobs by it
        self.settings = settings or JobSettings()
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not security
        self._wakeups: list[Callable[[], None]] = []

    # --- waking runners in this process --------------------------------------------------------

    def kick(self) -> None:
        """Wakes the runners of this process now (call after the commit that enqueued a job).
        Safe from any thread; a no-op when no runner runs here."""
        for wake in list(self._wakeups):
            wake()

    def add_wakeup(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Registers ``wake`` (thread-safe, non-blocking) for ``kick``; returns its remover."""
        self._wakeups.append(wake)

        def remove() -> None:
            if wake in self._wakeups:
                self._wakeups.remove(wake)

        return remove

    # --- enqueueing outside a service transaction ----------------------------------------------

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        dedupe_key: str | None = None,
        delay_s: float = 0.0,
        max_attempts: int | None = None,
    ) -> int | None:
        """Enqueues a job in a transaction of its own and kicks the local runners (periodic jobs,
        tools). A service enqueues with ``enqueue_txn`` inside its own transaction instead."""
        now = self.clock.now()
        attempts = self.settings.max_attempts if max_attempts is None else max_attempts

        def enqueue_own_txn(conn: sa.Connection) -> int | None:
            return enqueue_txn(
                conn,
                kind=kind,
                payload=payload,
                now=now,
                dedupe_key=dedupe_key,
                delay_s=delay_s,
                max_attempts=attempts,
            )

        job_id = await self._db.write(enqueue_own_txn)
        if job_id is not None:
            self.kick()
        return job_id

    # --- the runner's side ---------------------------------------------------------------------

    async def claim(self, worker_id: str, limit: int) -> Claimed:
        """Claims up to ``limit`` due jobs for ``worker_id`` under a lease of ``lease_s``."""
        now = self.clock.now()
        if self._db.is_sqlite and not await self._db.read(
            lambda conn: outbox_repo.select_has_due_jobs(conn, now)
        ):
            # SQLite has one writer shared with every send: an idle poll stays a read.
            return Claimed()
        claimed = await self._db.write(
            lambda conn: outbox_repo.claim_due_jobs_txn(
                conn, worker_id=worker_id, now=now, limit=limit, lease_s=self.settings.lease_s
            ),
            background=True,
        )
        for job in claimed.lost:
            logger.error(
                "job %d (%s) is dead: its lease expired during the last attempt",
                job.id,
                job.kind,
                extra={"job_id": job.id, "job_kind": job.kind},
            )
        return claimed

    async def complete(self, job: Job, *, worker_id: str) -> bool:
        """Marks a held job done; False if this runner no longer holds it."""
        now = self.clock.now()
        return await self._db.write(
            lambda conn: outbox_repo.mark_done(conn, job, worker_id=worker_id, now=now),
            background=True,
        )

    async def retry(
        self, job: Job, *, worker_id: str, reason: str, delay_s: float | None = None
    ) -> bool:
        """Puts a held job back, due after ``delay_s`` (default: the backoff for its attempts)."""
        delay = self.backoff_s(job.attempts) if delay_s is None else delay_s
        run_after = self.clock.now() + dt.timedelta(seconds=delay)
        return await self._db.write(
            lambda conn: outbox_repo.mark_retry(
                conn, job, worker_id=worker_id, run_after=run_after, error=reason
            ),
            background=True,
        )

    async def dead(self, job: Job, *, worker_id: str, reason: str) -> bool:
        """Moves a held job to the dead letter state."""
        now = self.clock.now()
        return await self._db.write(
            lambda conn: outbox_repo.mark_dead(
                conn, job, worker_id=worker_id, error=reason, now=now
            ),
            background=True,
        )

    async def release(self, jobs: Sequence[Job], *, worker_id: str) -> int:
        """Hands held jobs back without counting their attempt (graceful shutdown)."""
        if not jobs:
            return 0
        return await self._db.write(
            lambda conn: outbox_repo.release_jobs(conn, jobs, worker_id=worker_id), background=True
        )

    async def renew(self, jobs: Sequence[Job], *, worker_id: str) -> int:
        """Extends the leases of held jobs to now + ``lease_s``."""
        if not jobs:
            return 0
        until = self.clock.now() + dt.timedelta(seconds=self.settings.lease_s)
        return await self._db.write(
            lambda conn: outbox_repo.renew_leases(
                conn, jobs, worker_id=worker_id, locked_until=until
            ),
            background=True,
        )

    def backoff_s(self, attempts: int) -> float:
        """The delay after failed attempt number ``attempts`` (1 for the first):
        ``min(base * 2**(attempts-1), max)``, shortened by up to a quarter at random."""
        exponent = min(max(attempts, 1) - 1, 62)
        delay = min(self.settings.backoff_base_s * 2.0**exponent, self.settings.backoff_max_s)
        return delay * (1.0 - BACKOFF_JITTER * self._rng.random())

    # --- inspection and maintenance ------------------------------------------------------------

    async def stats(self) -> JobStats:
        now = self.clock.now()
        return await self._db.read(lambda conn: outbox_repo.select_stats(conn, now))

    async def prune(self, *, older_than_days: float) -> int:
        """Deletes done jobs finished more than ``older_than_days`` ago, in batches (each its
        own short transaction); returns how many."""
        before = self.clock.now() - dt.timedelta(seconds=older_than_days * 86_400)
        total = 0
        while True:
            deleted = await self._db.write(
                lambda conn: outbox_repo.delete_done_before(conn, before, limit=PRUNE_BATCH),
                background=True,
            )
            total += deleted
            if deleted < PRUNE_BATCH:
                return total

    async def list_jobs(self, *, state: JobState | None = None, limit: int = 50) -> list[JobInfo]:
        """The newest jobs, newest first (payloads are not shown)."""
        return await self._db.read(
            lambda conn: outbox_repo.select_jobs(conn, state=state, limit=limit)
        )

    async def requeue(self, job_id: int) -> bool:
        """Gives a dead job a fresh set of attempts, due now; False if it is not dead."""
        now = self.clock.now()
        requeued = await self._db.write(
            lambda conn: outbox_repo.requeue_dead_job(conn, job_id, now)
        )
        if requeued:
            self.kick()
        return requeued
