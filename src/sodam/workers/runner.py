"""The job runner: claims due jobs from the outbox and runs their handlers (docs/jobs.md).

One runner per process: inside ``sodam serve`` when ``embedded_workers`` is on, and in each
``sodam worker`` process when scaled out. Its tasks:

- **the loop**: enqueues the periodic jobs of the current time bucket, claims as many due jobs as
  it has free slots (``concurrency``), starts one asyncio task per job, refreshes the gauges, then
  sleeps until ``poll_s`` passes, a job finishes, or ``JobQueue.kick()`` (a commit in this
  process) wakes it;
- **the heartbeat**: every ``lease_s / 3`` renews the lease of every job still running here, so
  a long handler (a virus scan of a 300 MB file) keeps its job while a dead runner's jobs are
  taken over once their lease expires.

Outcomes: a handler that returns completes its job; ``RetryLater`` retries after its delay;
``PermanentJobError`` and an unknown kind go straight to dead; any other exception retries with
exponential backoff until ``max_attempts``, then dead. ``stop(grace_s)`` stops claiming, lets
running handlers finish for up to ``grace_s``, then cancels them and hands their jobs back to the
queue without counting the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sodam.config import JobSettings
from sodam.observability.metrics import Metrics
from sodam.services.jobs import Job, JobHandler, JobQueue, PermanentJobError, RetryLater

logger = logging.getLogger(__name__)

CANCEL_WAIT_S = 5.0  # how long cancelled handlers get to unwind before their jobs are released
WARN_EVERY_S = 60.0  # a failing poll (database down) is logged at most this often


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """Enqueue ``kind`` once per ``interval_s``. Every runner tries each interval with the dedupe
    key ``"{kind}:{bucket}"`` (bucket = UTC epoch seconds // interval_s), so however many
    runners there are, one job runs per interval."""

    kind: str
    interval_s: float

    def bucket(self, epoch_s: float) -> int:
        return int(epoch_s // self.interval_s)


class JobRunner:
    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
        *,
        worker_id: str,
        settings: JobSettings,
        metrics: Metrics,
        periodic: Sequence[PeriodicJob] = (),
    ) -> None:
        missing = [p.kind for p in periodic if p.kind not in handlers]
        if missing:
            raise ValueError(f"periodic jobs without a handler: {', '.join(missing)}")
        if any(p.interval_s <= 0 for p in periodic):
            raise ValueError("periodic job intervals must be positive")
        self.worker_id = worker_id
        self._queue = queue
        self._handlers = dict(handlers)
        self._settings = settings
        self._metrics = metrics
        self._periodic = tuple(periodic)
        self._buckets: dict[str, int] = {}  # periodic kind -> last bucket enqueued by this runner
        self._kinds_seen: set[str] = set(self._handlers)
        self._running: dict[asyncio.Task[None], Job] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._unregister: Callable[[], None] = lambda: None
        self._stats_at = float("-inf")
        self._warned_at = float("-inf")

    @property
    def running_jobs(self) -> list[Job]:
        """The jobs whose handlers run in this runner now."""
        return list(self._running.values())

    async def start(self) -> None:
        """Starts claiming. The periodic jobs of the current interval are enqueued before this
        returns."""
        if self._loop_task is not None:
            raise RuntimeError("the runner was already started")
        loop = asyncio.get_running_loop()

        def wake() -> None:  # JobQueue.kick() may come from any thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to wake
                loop.call_soon_threadsafe(self._wake.set)

        self._unregister = self._queue.add_wakeup(wake)
        for kind in self._handlers:  # every known series exists from the start (at 0)
            self._metrics.jobs_queue_depth.labels(kind).set(0)
            self._metrics.jobs_completed.labels(kind)
            self._metrics.jobs_failures.labels(kind)
            self._metrics.jobs_dead.labels(kind)
        try:
            await self._enqueue_periodic()
        except Exception:
            self._poll_failed()
        self._loop_task = asyncio.create_task(self._run(), name=f"jobs-runner-{self.worker_id}")
        self._heartbeat_task = asyncio.create_task(
            self._heartbeat(), name=f"jobs-heartbeat-{self.worker_id}"
        )
        logger.info(
            "job runner started",
            extra={"worker_id": self.worker_id, "concurrency": self._settings.concurrency},
        )

    async def stop(self, grace_s: float) -> None:
        """Stops claiming, waits up to ``grace_s`` for running handlers, then cancels the rest
        and hands their jobs back to the queue (their attempt does not count)."""
        if self._loop_task is None or self._stopping:
            return
        self._stopping = True
        self._unregister()
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task
        in_flight = dict(self._running)
        unfinished: set[asyncio.Task[None]] = set()
        if in_flight:
            _, unfinished = await asyncio.wait(in_flight, timeout=max(0.0, grace_s))
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.wait(unfinished, timeout=CANCEL_WAIT_S)
            jobs = [in_flight[task] for task in unfinished]
            try:
                released = await self._queue.release(jobs, worker_id=self.worker_id)
            except Exception:
                logger.exception(
                    "could not hand %d jobs back; they run again once their lease expires",
                    len(jobs),
                )
            else:
                logger.info(
                    "handed %d unfinished jobs back to the queue",
                    released,
                    extra={"job_ids": [job.id for job in jobs]},
                )
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
        logger.info("job runner stopped", extra={"worker_id": self.worker_id})

    async def refresh_metrics(self) -> None:
        """Sets the queue gauges from the outbox (every ``poll_s`` from the loop)."""
        stats = await self._queue.stats()
        self._kinds_seen.update(stats.pending)
        for kind in self._kinds_seen:
            self._metrics.jobs_queue_depth.labels(kind).set(stats.pending.get(kind, 0))
        self._metrics.jobs_oldest_age.set(stats.oldest_due_age_s)
        self._metrics.jobs_running.set(stats.running)
        self._metrics.jobs_dead_letters.set(stats.dead)

    # --- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            # Cleared before looking, so a kick that lands while we look is not lost.
            self._wake.clear()
            try:
                await self._enqueue_periodic()
                await self._claim()
                if loop.time() - self._stats_at >= self._settings.poll_s:
                    self._stats_at = loop.time()
                    await self.refresh_metrics()
            except Exception:
                self._poll_failed()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_s)

    async def _enqueue_periodic(self) -> None:
        if not self._periodic:
            return
        epoch_s = self._queue.clock.now().timestamp()
        for periodic in self._periodic:
            bucket = periodic.bucket(epoch_s)
            if self._buckets.get(periodic.kind) == bucket:
                continue
            await self._queue.enqueue(
                periodic.kind, {"bucket": bucket}, dedupe_key=f"{periodic.kind}:{bucket}"
            )
            self._buckets[periodic.kind] = bucket

    async def _claim(self) -> None:
        free = self._settings.concurrency - len(self._running)
        if free <= 0 or self._stopping:
            return
        claimed = await self._queue.claim(self.worker_id, free)
        for job in claimed.lost:
            self._metrics.jobs_failures.labels(job.kind).inc()
            self._metrics.jobs_dead.labels(job.kind).inc()
        for job in claimed.jobs:
            task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            self._running[task] = job
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot is free

    def _poll_failed(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            logger.warning("job runner could not poll the outbox; retrying", exc_info=True)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._settings.lease_s / 3)
            jobs = self.running_jobs
            if not jobs:
                continue
            try:
                held = await self._queue.renew(jobs, worker_id=self.worker_id)
            except Exception:
                logger.warning("could not renew job leases", exc_info=True)
                continue
            if held < len(jobs):
                logger.warning(
                    "lost the lease of %d running jobs; another runner may run them",
                    len(jobs) - held,
                    extra={"worker_id": self.worker_id},
                )

    # --- one job -------------------------------------------------------------------------------

    async def _execute(self, job: Job) -> None:
        """Runs one handler and records its outcome. Never raises except when cancelled."""
        log = {"job_id": job.id, "job_kind": job.kind, "attempt": job.attempts}
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                await self._dead(job, f"no handler for job kind {job.kind!r} in this runner", log)
                return
            started = asyncio.get_running_loop().time()
            try:
                await handler(job)
            except PermanentJobError as exc:
                self._metrics.jobs_failures.labels(job.kind).inc()
                await self._dead(job, f"permanent error: {exc.reason}", log)
            except RetryLater as exc:
                await self._failed(job, f"retry later: {exc.reason}", exc.delay_s, log)
            except Exception as exc:
                logger.warning("job %d (%s) failed", job.id, job.kind, extra=log, exc_info=True)
                await self._failed(job, f"{type(exc).__name__}: {exc}", None, log)
            else:
                self._metrics.jobs_completed.labels(job.kind).inc()
                if not await self._queue.complete(job, worker_id=self.worker_id):
                    logger.warning("job %d finished after its lease was lost", job.id, extra=log)
            finally:
                elapsed = asyncio.get_running_loop().time() - started
                self._metrics.jobs_duration.labels(job.kind).observe(elapsed)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The outcome could not be stored (database down): the lease runs out and another
            # claim runs the job again, which idempotent handlers allow.
            logger.warning(
                "could not record the outcome of job %d", job.id, extra=log, exc_info=True
            )

    async def _failed(
        self, job: Job, reason: str, delay_s: float | None, log: dict[str, object]
    ) -> None:
        self._metrics.jobs_failures.labels(job.kind).inc()
        if job.is_last_attempt:
            await self._dead(
                job, f"gave up after {job.attempts} attempts; last error: {reason}", log
            )
            return
        await self._queue.retry(job, worker_id=self.worker_id, reason=reason, delay_s=delay_s)

    async def _dead(self, job: Job, reason: str, log: dict[str, object]) -> None:
        self._metrics.jobs_dead.labels(job.kind).inc()
        logger.error("job %d (%s) is dead: %s", job.id, job.kind, reason, extra=log)
        await self._queue.dead(job, worker_id=self.worker_id, reason=reason)
