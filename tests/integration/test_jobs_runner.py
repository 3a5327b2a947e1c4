"""The job runner on SQLite and PostgreSQL: running handlers, outcomes (done, retry with backoff,
dead), the kick, concurrency, lease renewal, graceful shutdown, periodic jobs across runners,
metrics, and the embedded runner of ``sodam serve``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.db.engine import Database
from sodam.domain.clock import FakeClock
from sodam.observability.metrics import Metrics
from sodam.services.jobs import (
    Job,
    JobHandler,
    JobQueue,
    PermanentJobError,
    RetryLater,
    enqueue_txn,
)
from sodam.services.passwords import PasswordHasher
from sodam.workers.handlers import PRUNE_KIND, build_handlers, periodic_jobs, prune_handler
from sodam.workers.runner import JobRunner, PeriodicJob
from tests.support.jobs import (
    all_rows,
    job_row,
    make_queue,
    open_database,
    wait_for_state,
    wait_until,
)

StartRunner = Callable[..., Awaitable[JobRunner]]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> JobQueue:
    # A long poll: every test that needs the runner at once kicks it.
    return make_queue(db, clock, poll_s=300, backoff_base_s=2.0, backoff_max_s=60.0)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def start_runner(metrics: Metrics) -> AsyncIterator[StartRunner]:
    started: list[JobRunner] = []

    async def start(
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
        *,
        worker_id: str = "runner-a",
        periodic: Sequence[PeriodicJob] = (),
    ) -> JobRunner:
        runner = JobRunner(
            queue,
            handlers,
            worker_id=worker_id,
            settings=queue.settings,
            metrics=metrics,
            periodic=periodic,
        )
        await runner.start()
        started.append(runner)
        return runner

    yield start
    for runner in started:
        await runner.stop(0)


class Recorder:
    """A handler that records the jobs it got and does what the test scripted per attempt."""

    def __init__(self, *outcomes: BaseException | None) -> None:
        self.jobs: list[Job] = []
        self._outcomes = list(outcomes)
        self.called = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.jobs.append(job)
        self.called.set()
        outcome = self._outcomes.pop(0) if self._outcomes else None
        if outcome is not None:
            raise outcome


class Blocker:
    """A handler that blocks until released; records starts and cancellations."""

    def __init__(self) -> None:
        self.started: list[Job] = []
        self.cancelled: list[int] = []
        self.release = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.started.append(job)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(job.id)
            raise

    async def wait_started(self, n: int) -> None:
        async def enough() -> bool:
            return len(self.started) >= n

        await wait_until(enough, f"{n} handlers to start")


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def enqueue(queue: JobQueue, kind: str, payload: dict[str, Any] | None = None) -> int:
    job_id = await queue.enqueue(kind, payload or {})
    assert job_id is not None
    return job_id


# --- outcomes ------------------------------------------------------------------------------------


async def test_a_job_runs_once_and_is_done(
    db: Database, queue: JobQueue, start_runner: StartRunner, metrics: Metrics
) -> None:
    handler = Recorder()
    await start_runner(queue, {"test.kind": handler})

    job_id = await enqueue(queue, "test.kind", {"attachment_id": 7})
    row = await wait_for_state(db, job_id, "done")

    assert [(j.id, j.payload, j.attempts) for j in handler.jobs] == [
        (job_id, {"attachment_id": 7}, 1)
    ]
    assert (row.attempts, row.locked_by, row.last_error) == (1, None, None)
    assert sample(metrics, "sodam_jobs_completed_total", kind="test.kind") == 1
    assert sample(metrics, "sodam_jobs_duration_seconds_count", kind="test.kind") == 1


async def test_a_kick_after_commit_wakes_an_idle_runner_at_once(
    db: Database, queue: JobQueue, clock: FakeClock, start_runner: StartRunner
) -> None:
    handler = Recorder()
    await start_runner(queue, {"test.kind": handler})
    first = await enqueue(queue, "test.kind")  # enqueue() kicks itself
    await wait_for_state(db, first, "done")  # the runner is now idle, polling every 300 s

    def action_txn(conn: sa.Connection) -> int | None:
        return enqueue_txn(conn, kind="test.kind", payload={}, now=clock.now())

    second = await db.write(action_txn)
    queue.kick()  # what a service does after its commit

    assert second is not None
    await wait_for_state(db, second, "done")  # within the guard, far below the poll interval


async def test_a_failing_handler_is_retried_after_the_backoff(
    db: Database, queue: JobQueue, clock: FakeClock, start_runner: StartRunner, metrics: Metrics
) -> None:
    handler = Recorder(RuntimeError("scanner unreachable"))
    await start_runner(queue, {"test.kind": handler})

    job_id = await enqueue(queue, "test.kind")
    await handler.called.wait()
    row = await wait_for_state(db, job_id, "pending")

    assert (row.attempts, row.last_error) == (1, "RuntimeError: scanner unreachable")
    delay = (row.run_after - clock.now()).total_seconds()
    assert 1.5 <= delay <= 2.0
    assert sample(metrics, "sodam_jobs_failures_total", kind="test.kind") == 1

    clock.advance(2)
    queue.kick()
    row = await wait_for_state(db, job_id, "done")
    assert row.attempts == 2
    assert [j.attempts for j in handler.jobs] == [1, 2]


async def test_a_job_is_dead_after_its_last_attempt_fails(
    db: Database, queue: JobQueue, clock: FakeClock, start_runner: StartRunner, metrics: Metrics
) -> None:
    handler = Recorder(RuntimeError("boom"), RuntimeError("boom again"))
    await start_runner(queue, {"test.kind": handler})

    job_id = await queue.enqueue("test.kind", {}, max_attempts=2)
    assert job_id is not None
    await handler.called.wait()
    await wait_for_state(db, job_id, "pending")  # the first attempt's retry is stored
    clock.advance(60)
    queue.kick()
    row = await wait_for_state(db, job_id, "dead")

    assert row.attempts == 2
    assert row.last_error == "gave up after 2 attempts; last error: RuntimeError: boom again"
    assert sample(metrics, "sodam_jobs_failures_total", kind="test.kind") == 2
    assert sample(metrics, "sodam_jobs_dead_total", kind="test.kind") == 1


async def test_a_permanent_error_makes_the_job_dead_at_once(
    db: Database, queue: JobQueue, start_runner: StartRunner, metrics: Metrics
) -> None:
    await start_runner(queue, {"test.kind": Recorder(PermanentJobError("attachment gone"))})

    row = await wait_for_state(db, await enqueue(queue, "test.kind"), "dead")

    assert (row.attempts, row.last_error) == (1, "permanent error: attachment gone")
    assert sample(metrics, "sodam_jobs_dead_total", kind="test.kind") == 1


async def test_retry_later_waits_the_delay_the_handler_asked_for(
    db: Database, queue: JobQueue, clock: FakeClock, start_runner: StartRunner
) -> None:
    handler = Recorder(RetryLater(30, "clamd busy"))
    await start_runner(queue, {"test.kind": handler})

    job_id = await enqueue(queue, "test.kind")
    await handler.called.wait()
    row = await wait_for_state(db, job_id, "pending")

    assert row.run_after == clock.now() + dt.timedelta(seconds=30)
    assert (row.attempts, row.last_error) == (1, "retry later: clamd busy")


async def test_a_job_of_an_unknown_kind_is_dead_with_a_clear_error(
    db: Database, queue: JobQueue, start_runner: StartRunner
) -> None:
    await start_runner(queue, {"test.kind": Recorder()})

    row = await wait_for_state(db, await enqueue(queue, "nobody.handles.this"), "dead")

    assert row.last_error == "no handler for job kind 'nobody.handles.this' in this runner"


# --- concurrency, leases, shutdown ----------------------------------------------------------------


async def test_a_runner_runs_at_most_its_concurrency_at_once(
    db: Database, queue: JobQueue, start_runner: StartRunner
) -> None:
    handler = Blocker()
    runner = await start_runner(queue, {"test.kind": handler})
    ids = [await enqueue(queue, "test.kind", {"i": i}) for i in range(3)]

    await handler.wait_started(2)

    assert sorted(j.id for j in runner.running_jobs) == ids[:2]
    assert (await job_row(db, ids[2])).state == "pending"
    handler.release.set()
    for job_id in ids:
        await wait_for_state(db, job_id, "done")


async def test_the_heartbeat_renews_the_lease_of_a_long_job(
    db: Database, clock: FakeClock, start_runner: StartRunner
) -> None:
    queue = make_queue(db, clock, poll_s=300, lease_s=3)  # renewed every second
    handler = Blocker()
    await start_runner(queue, {"test.kind": handler})
    job_id = await enqueue(queue, "test.kind")
    await handler.wait_started(1)
    claimed_until = (await job_row(db, job_id)).locked_until
    assert claimed_until == clock.now() + dt.timedelta(seconds=3)

    clock.advance(100)  # far past the first lease: only renewals keep the job

    async def renewed() -> bool:
        return (await job_row(db, job_id)).locked_until == clock.now() + dt.timedelta(seconds=3)

    await wait_until(renewed, "the lease to be renewed")
    other = make_queue(db, clock, lease_s=3)
    assert (await other.claim("runner-b", 1)).jobs == []
    handler.release.set()
    await wait_for_state(db, job_id, "done")


async def test_stop_hands_an_unfinished_job_back_without_counting_the_attempt(
    db: Database, queue: JobQueue, start_runner: StartRunner
) -> None:
    handler = Blocker()
    runner = await start_runner(queue, {"test.kind": handler})
    job_id = await enqueue(queue, "test.kind")
    await handler.wait_started(1)

    await runner.stop(grace_s=0.1)

    assert handler.cancelled == [job_id]
    row = await job_row(db, job_id)
    assert (row.state, row.attempts, row.locked_by, row.locked_until) == ("pending", 0, None, None)


async def test_stop_lets_a_job_finish_within_the_grace_period(
    db: Database, queue: JobQueue, start_runner: StartRunner
) -> None:
    handler = Blocker()
    runner = await start_runner(queue, {"test.kind": handler})
    job_id = await enqueue(queue, "test.kind")
    await handler.wait_started(1)

    stopping = asyncio.create_task(runner.stop(grace_s=60))
    second = await enqueue(queue, "test.kind")  # enqueued while stopping: left for later
    handler.release.set()
    await stopping

    assert handler.cancelled == []
    assert (await job_row(db, job_id)).state == "done"
    assert (await job_row(db, second)).state == "pending"
    assert [j.id for j in handler.started] == [job_id]


# --- periodic jobs --------------------------------------------------------------------------------


async def test_periodic_jobs_run_once_per_interval_across_runners(
    db: Database, clock: FakeClock, start_runner: StartRunner
) -> None:
    queues = [make_queue(db, clock, poll_s=300) for _ in range(2)]
    handler = Recorder()
    tick = PeriodicJob("test.tick", interval_s=60)
    for i, q in enumerate(queues):
        await start_runner(q, {"test.tick": handler}, worker_id=f"runner-{i}", periodic=[tick])

    async def ticks_done(n: int) -> bool:
        rows = await all_rows(db, "test.tick")
        return len(rows) == n and all(r.state == "done" for r in rows)

    await wait_until(lambda: ticks_done(1), "the first tick")
    clock.advance(60)
    for q in queues:
        q.kick()
    await wait_until(lambda: ticks_done(2), "the second tick")

    bucket = int(clock.now().timestamp() // 60)
    rows = await all_rows(db, "test.tick")
    assert [r.dedupe_key for r in rows] == [f"test.tick:{bucket - 1}", f"test.tick:{bucket}"]
    assert len(handler.jobs) == 2


def test_a_periodic_job_needs_a_handler(queue: JobQueue, metrics: Metrics) -> None:
    with pytest.raises(ValueError, match=r"test\.tick"):
        JobRunner(
            queue,
            {},
            worker_id="w",
            settings=queue.settings,
            metrics=metrics,
            periodic=[PeriodicJob("test.tick", 60)],
        )


# --- metrics --------------------------------------------------------------------------------------


async def test_refresh_metrics_sets_the_queue_gauges(
    queue: JobQueue, clock: FakeClock, metrics: Metrics
) -> None:
    runner = JobRunner(
        queue, {"a.kind": Recorder()}, worker_id="w", settings=queue.settings, metrics=metrics
    )
    await queue.enqueue("a.kind", {})
    await queue.enqueue("a.kind", {}, delay_s=10)
    await queue.enqueue("b.kind", {})
    (running,) = (await queue.claim("w", 1)).jobs
    await queue.enqueue("c.kind", {})
    (doomed,) = [j for j in (await queue.claim("w", 2)).jobs if j.kind == "c.kind"]
    await queue.dead(doomed, worker_id="w", reason="x")
    clock.advance(45)

    await runner.refresh_metrics()

    assert running.kind == "a.kind"
    assert sample(metrics, "sodam_jobs_queue_depth", kind="a.kind") == 1
    assert metrics.registry.get_sample_value("sodam_jobs_queue_depth", {"kind": "b.kind"}) is None
    assert sample(metrics, "sodam_jobs_oldest_age_seconds") == 35  # due 10 s in, 45 s now
    assert sample(metrics, "sodam_jobs_running") == 2
    assert sample(metrics, "sodam_jobs_dead_letters") == 1

    assert len((await queue.claim("w", 3)).jobs) == 1  # the last pending a.kind
    await runner.refresh_metrics()
    assert sample(metrics, "sodam_jobs_queue_depth", kind="a.kind") == 0  # reset, not left stale


# --- the handlers of this server -----------------------------------------------------------------


async def test_the_prune_job_deletes_done_jobs_older_than_seven_days(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    for _ in range(2):
        await enqueue(queue, "test.kind")
    old, young = (await queue.claim("w", 2)).jobs
    await queue.complete(old, worker_id="w")
    clock.advance(2 * 86_400)
    await queue.complete(young, worker_id="w")
    clock.advance(5 * 86_400 + 1)

    await prune_handler(queue)(Job(id=0, kind=PRUNE_KIND, payload={}, attempts=1, max_attempts=1))

    assert [r.id for r in await all_rows(db)] == [young.id]


async def test_serve_runs_the_embedded_runner_and_schedules_pruning(app: FastAPI) -> None:
    runner: JobRunner | None = app.state.runner
    assert runner is not None
    db: Database = app.state.db
    assert PRUNE_KIND in build_handlers(app.state.services)
    assert PRUNE_KIND in [p.kind for p in periodic_jobs()]

    (prune,) = await all_rows(db, PRUNE_KIND)  # enqueued before the server took requests
    await wait_for_state(db, prune.id, "done")


async def test_serve_without_embedded_workers_runs_no_jobs(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> None:
    no_jobs = settings.model_copy(update={"embedded_workers": False})
    application = build_app(no_jobs, Overrides(clock=clock, hasher=fast_hasher))

    async with LifespanManager(application):
        assert application.state.runner is None
        assert await all_rows(application.state.db, PRUNE_KIND) == []
