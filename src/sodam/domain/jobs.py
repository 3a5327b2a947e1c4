"""Background jobs as the outbox stores them (docs/jobs.md).

A job is claimed by one runner at a time under a lease. ``attempts`` counts claims: it is 1 while
a job runs for the first time, so ``attempts == max_attempts`` is the last try.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

JobState = Literal["pending", "running", "done", "dead"]
JOB_STATES: tuple[JobState, ...] = ("pending", "running", "done", "dead")


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job, as its handler receives it. ``payload`` is the JSON object given to
    ``enqueue_txn``; it may hold ids, never secrets (it is stored in clear)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


@dataclass(frozen=True, slots=True)
class Claimed:
    """What one claim did: ``jobs`` now run under the claimer's lease, oldest due first;
    ``lost`` were found with an expired lease on their last attempt (their runner died) and were
    moved to dead instead."""

    jobs: list[Job] = field(default_factory=list)
    lost: list[Job] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as an administrator inspects it (``sodam jobs list``): no payload."""

    id: int
    kind: str
    state: JobState
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    created_at: dt.datetime
    finished_at: dt.datetime | None
    locked_by: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class JobStats:
    """What the gauges show. ``pending`` counts jobs waiting (due or not) per kind;
    ``oldest_due_age_s`` is how long the longest-waiting due job has been due (0 when none)."""

    pending: dict[str, int] = field(default_factory=dict)
    running: int = 0
    dead: int = 0
    oldest_due_age_s: float = 0.0
