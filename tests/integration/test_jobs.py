"""The job outbox on SQLite and PostgreSQL: enqueueing inside an action's transaction, dedupe,
claiming in due order under a lease, retry with backoff, dead letters, release, lease expiry,
stats, pruning, and concurrent claimers never sharing a job."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from sodam.db.audit import insert_audit_log
from sodam.db.engine import Database
from sodam.db.outbox import LEASE_LOST_ERROR
from sodam.db.tables import audit_logs
from sodam.domain.clock import FakeClock
from sodam.services.jobs import JobQueue, enqueue_txn
from tests.support.jobs import all_rows, job_row, make_queue, open_database

WORKER = "worker-a"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> JobQueue:
    return make_queue(db, clock, lease_s=60, backoff_base_s=2.0, backoff_max_s=100.0)


class ActionFailed(Exception):
    pass


async def _audit_count(db: Database) -> int:
    return int(
        await db.read(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(audit_logs)).scalar()
        )
    )


async def test_a_job_enqueued_with_an_action_commits_with_it(
    db: Database, clock: FakeClock
) -> None:
    def action_txn(conn: sa.Connection) -> int | None:
        insert_audit_log(conn, at=clock.now(), actor_id=None, action="test.action")
        return enqueue_txn(conn, kind="test.kind", payload={"n": 1}, now=clock.now())

    job_id = await db.write(action_txn)

    assert job_id is not None
    row = await job_row(db, job_id)
    assert (row.kind, row.state, row.attempts, row.payload) == ("test.kind", "pending", 0, {"n": 1})
    assert row.run_after == clock.now()
    assert await _audit_count(db) == 1


async def test_a_job_enqueued_with_an_action_rolls_back_with_it(
    db: Database, clock: FakeClock
) -> None:
    def action_txn(conn: sa.Connection) -> None:
        insert_audit_log(conn, at=clock.now(), actor_id=None, action="test.action")
        enqueue_txn(conn, kind="test.kind", payload={}, now=clock.now(), dedupe_key="k")
        raise ActionFailed

    with pytest.raises(ActionFailed):
        await db.write(action_txn)

    assert await all_rows(db) == []
    assert await _audit_count(db) == 0


async def test_a_duplicate_dedupe_key_returns_none_and_keeps_the_transaction_usable(
    db: Database, clock: FakeClock
) -> None:
    first = await db.write(
        lambda c: enqueue_txn(
            c, kind="test.kind", payload={"v": 1}, now=clock.now(), dedupe_key="k"
        )
    )

    def action_txn(conn: sa.Connection) -> int | None:
        duplicate = enqueue_txn(
            conn, kind="test.kind", payload={"v": 2}, now=clock.now(), dedupe_key="k"
        )
        # On PostgreSQL a failed INSERT would abort the transaction; this must still work.
        insert_audit_log(conn, at=clock.now(), actor_id=None, action="after.duplicate")
        return duplicate

    assert first is not None
    assert await db.write(action_txn) is None
    rows = await all_rows(db)
    assert [(r.id, r.payload) for r in rows] == [(first, {"v": 1})]
    assert await _audit_count(db) == 1


async def test_claims_take_due_jobs_oldest_first_and_wait_for_delayed_ones(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    later = await queue.enqueue("test.kind", {"name": "later"}, delay_s=10)
    first = await queue.enqueue("test.kind", {"name": "first"})
    clock.advance(1)
    second = await queue.enqueue("test.kind", {"name": "second"})

    claimed = await queue.claim(WORKER, 10)

    assert [j.id for j in claimed.jobs] == [first, second]
    assert [j.payload["name"] for j in claimed.jobs] == ["first", "second"]
    assert all(j.attempts == 1 for j in claimed.jobs)
    assert (await queue.claim(WORKER, 10)).jobs == []  # running jobs are not claimed twice

    clock.advance(9)
    assert later is not None
    assert [j.id for j in (await queue.claim(WORKER, 10)).jobs] == [later]
    row = await job_row(db, later)
    assert row.state == "running"
    assert row.locked_by == WORKER
    assert row.locked_until == clock.now() + dt.timedelta(seconds=60)


async def test_a_claim_takes_at_most_its_limit(queue: JobQueue) -> None:
    ids = [await queue.enqueue("test.kind", {"i": i}) for i in range(5)]

    assert [j.id for j in (await queue.claim(WORKER, 2)).jobs] == ids[:2]
    assert [j.id for j in (await queue.claim(WORKER, 2)).jobs] == ids[2:4]
    assert [j.id for j in (await queue.claim(WORKER, 2)).jobs] == ids[4:]


async def test_a_retry_waits_the_backoff_and_keeps_the_attempt_counted(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("test.kind", {})
    for attempt, full_delay in ((1, 2.0), (2, 4.0), (3, 8.0)):
        (job,) = (await queue.claim(WORKER, 1)).jobs
        assert job.attempts == attempt
        claimed_at = clock.now()

        assert await queue.retry(job, worker_id=WORKER, reason="boom")

        row = await job_row(db, job.id)
        assert (row.state, row.attempts, row.locked_by, row.last_error) == (
            "pending",
            attempt,
            None,
            "boom",
        )
        delay = (row.run_after - claimed_at).total_seconds()
        assert 0.75 * full_delay <= delay <= full_delay  # jitter only ever shortens the delay
        assert (await queue.claim(WORKER, 1)).jobs == []  # not due yet
        clock.advance(full_delay)


async def test_backoff_doubles_up_to_the_maximum(queue: JobQueue) -> None:
    delays = [queue.backoff_s(attempts) for attempts in range(1, 12)]

    full = [min(2.0 * 2**i, 100.0) for i in range(11)]
    assert all(0.75 * f <= d <= f for d, f in zip(delays, full, strict=True)), delays
    assert queue.backoff_s(10_000) <= 100.0


async def test_a_retry_with_an_explicit_delay_uses_it(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("test.kind", {})
    (job,) = (await queue.claim(WORKER, 1)).jobs

    await queue.retry(job, worker_id=WORKER, reason="busy", delay_s=30)

    assert (await job_row(db, job.id)).run_after == clock.now() + dt.timedelta(seconds=30)


async def test_dead_jobs_keep_their_error_until_requeued(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("test.kind", {})
    (job,) = (await queue.claim(WORKER, 1)).jobs

    assert await queue.dead(job, worker_id=WORKER, reason="x" * 5000)

    row = await job_row(db, job.id)
    assert (row.state, row.finished_at, row.locked_by) == ("dead", clock.now(), None)
    assert row.last_error is not None and len(row.last_error) == 1000
    assert (await queue.claim(WORKER, 1)).jobs == []
    assert [j.id for j in await queue.list_jobs(state="dead")] == [job.id]

    clock.advance(5)
    assert await queue.requeue(job.id)
    assert not await queue.requeue(job.id)  # no longer dead
    (again,) = (await queue.claim(WORKER, 1)).jobs
    assert (again.id, again.attempts) == (job.id, 1)


async def test_release_hands_a_job_back_without_counting_the_attempt(
    db: Database, queue: JobQueue
) -> None:
    await queue.enqueue("test.kind", {})
    (job,) = (await queue.claim(WORKER, 1)).jobs

    assert await queue.release([job], worker_id=WORKER) == 1

    row = await job_row(db, job.id)
    assert (row.state, row.attempts, row.locked_by, row.locked_until) == ("pending", 0, None, None)
    (again,) = (await queue.claim("worker-b", 1)).jobs
    assert (again.id, again.attempts) == (job.id, 1)


async def test_a_job_whose_runner_died_is_claimed_again_once_its_lease_expires(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("test.kind", {})
    (lost,) = (await queue.claim("killed-worker", 1)).jobs  # and never completed (kill -9)

    clock.advance(59)
    assert (await queue.claim("worker-b", 1)).jobs == []  # the lease still holds
    clock.advance(2)
    (job,) = (await queue.claim("worker-b", 1)).jobs

    assert (job.id, job.attempts) == (lost.id, 2)  # the lost attempt counts
    # The first runner woke up late: it holds nothing any more and cannot touch the job.
    assert not await queue.complete(lost, worker_id="killed-worker")
    assert not await queue.retry(lost, worker_id="killed-worker", reason="late")
    assert await queue.release([lost], worker_id="killed-worker") == 0
    assert (await job_row(db, job.id)).locked_by == "worker-b"
    assert await queue.complete(job, worker_id="worker-b")
    assert (await job_row(db, job.id)).state == "done"


async def test_a_lease_lost_on_the_last_attempt_makes_the_job_dead(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    job_id = await queue.enqueue("test.kind", {}, max_attempts=2)
    for _ in range(2):
        assert len((await queue.claim("crashing-worker", 1)).jobs) == 1
        clock.advance(61)

    claimed = await queue.claim("worker-b", 1)

    assert claimed.jobs == []
    assert job_id is not None
    assert [(j.id, j.kind) for j in claimed.lost] == [(job_id, "test.kind")]
    row = await job_row(db, job_id)
    assert (row.state, row.attempts, row.last_error) == ("dead", 2, LEASE_LOST_ERROR)


async def test_renewing_a_lease_keeps_the_job(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("test.kind", {})
    (job,) = (await queue.claim(WORKER, 1)).jobs
    clock.advance(50)

    assert await queue.renew([job], worker_id=WORKER) == 1
    clock.advance(50)  # 100 s after the claim, 50 s after the renewal

    assert (await queue.claim("worker-b", 1)).jobs == []
    assert (await job_row(db, job.id)).locked_until == clock.now() + dt.timedelta(seconds=10)
    assert await queue.renew([job], worker_id="worker-b") == 0


async def test_stats_count_pending_per_kind_and_the_oldest_due_age(
    queue: JobQueue, clock: FakeClock
) -> None:
    assert (await queue.stats()).pending == {}
    await queue.enqueue("a.kind", {})
    clock.advance(30)
    await queue.enqueue("a.kind", {})
    await queue.enqueue("b.kind", {}, delay_s=3600)  # not due: counted, but ages nothing
    await queue.enqueue("c.kind", {})
    (running,) = (await queue.claim(WORKER, 1)).jobs  # the first a.kind
    await queue.enqueue("d.kind", {})
    (doomed,) = [j for j in (await queue.claim(WORKER, 3)).jobs if j.kind == "d.kind"]
    await queue.dead(doomed, worker_id=WORKER, reason="x")
    clock.advance(15)

    stats = await queue.stats()

    assert running.kind == "a.kind"
    assert stats.pending == {"b.kind": 1}
    assert (stats.running, stats.dead) == (3, 1)
    assert stats.oldest_due_age_s == 0.0  # nothing due is waiting


async def test_the_oldest_due_age_is_measured_from_the_due_time(
    queue: JobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("a.kind", {}, delay_s=10)
    await queue.enqueue("a.kind", {}, delay_s=20)
    await queue.enqueue("b.kind", {}, delay_s=500)
    clock.advance(25)

    stats = await queue.stats()

    assert stats.pending == {"a.kind": 2, "b.kind": 1}
    assert stats.oldest_due_age_s == pytest.approx(15.0)


async def test_prune_deletes_only_done_jobs_older_than_the_cut_off(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    for _ in range(3):
        await queue.enqueue("test.kind", {})
    old_done, old_dead, young_done = (await queue.claim(WORKER, 3)).jobs
    await queue.complete(old_done, worker_id=WORKER)
    await queue.dead(old_dead, worker_id=WORKER, reason="x")
    clock.advance(6 * 86_400)
    await queue.complete(young_done, worker_id=WORKER)
    pending = await queue.enqueue("test.kind", {})
    clock.advance(86_400 + 1)

    assert await queue.prune(older_than_days=7) == 1

    assert [r.id for r in await all_rows(db)] == [old_dead.id, young_done.id, pending]


async def test_a_dedupe_key_is_free_again_once_its_done_job_is_pruned(
    queue: JobQueue, clock: FakeClock
) -> None:
    assert await queue.enqueue("test.kind", {}, dedupe_key="once") is not None
    assert await queue.enqueue("test.kind", {}, dedupe_key="once") is None
    (job,) = (await queue.claim(WORKER, 1)).jobs
    await queue.complete(job, worker_id=WORKER)
    clock.advance(8 * 86_400)
    await queue.prune(older_than_days=7)

    assert await queue.enqueue("test.kind", {}, dedupe_key="once") is not None


async def test_enqueue_refuses_bad_arguments(db: Database, clock: FakeClock) -> None:
    for bad in (
        {"kind": ""},
        {"kind": "k" * 51},
        {"dedupe_key": "d" * 201},
        {"delay_s": -1.0},
        {"max_attempts": 0},
    ):
        args = {"kind": "test.kind", "payload": {}, "now": clock.now(), **bad}
        with pytest.raises(ValueError):
            await db.write(lambda c, a=args: enqueue_txn(c, **a))  # type: ignore[misc]


# --- several claimers at once ---------------------------------------------------------------------

JOBS = 300
CLAIMERS_PER_QUEUE = 6


async def test_concurrent_claimers_on_separate_connections_never_share_a_job(
    database_url: str, clock: FakeClock
) -> None:
    """Two queues, each on its own engine and pool, claim from many threads at once."""
    databases = [open_database(database_url, pool_size=CLAIMERS_PER_QUEUE) for _ in range(2)]
    queues = [make_queue(d, clock) for d in databases]
    try:

        def fill_txn(conn: sa.Connection) -> None:
            for i in range(JOBS):
                enqueue_txn(conn, kind="test.kind", payload={"i": i}, now=clock.now())

        await databases[0].write(fill_txn)
        ran: Counter[int] = Counter()
        claims_by_worker: Counter[str] = Counter()

        async def claimer(queue: JobQueue, worker_id: str) -> None:
            while claimed := (await queue.claim(worker_id, 3)).jobs:
                claims_by_worker[worker_id] += 1
                for job in claimed:
                    ran[job.id] += 1
                    assert await queue.complete(job, worker_id=worker_id)

        await asyncio.gather(
            *(
                claimer(q, f"q{qi}-c{ci}")
                for (qi, q), ci in itertools.product(enumerate(queues), range(CLAIMERS_PER_QUEUE))
            )
        )

        assert len(ran) == JOBS
        assert set(ran.values()) == {1}, [i for i, n in ran.items() if n > 1]
        assert {r.state for r in await all_rows(databases[0])} == {"done"}
        assert len(claims_by_worker) > 1  # the work really was shared
    finally:
        for d in databases:
            await d.dispose()
