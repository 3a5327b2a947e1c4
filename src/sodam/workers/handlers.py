"""Job handlers by kind, and the periodic jobs every runner schedules (docs/jobs.md).

A handler is ``async def handle(job: Job) -> None``: thin, it reads ``job.payload`` and calls a
service. Delivery is at least once, so a handler is idempotent (running it twice has the effect
of running it once). To add a job kind: write the handler here (or in a module of its own next to
this one), register it in ``build_handlers``, and have the service that causes the job call
``enqueue_txn(conn, kind=..., ...)`` in its transaction and ``jobs.kick()`` after the commit.
"""

from __future__ import annotations

from sodam.services.attachments import DELETE_BLOBS_JOB, SCAN_JOB, THUMBNAIL_JOB
from sodam.services.container import Services
from sodam.services.jobs import Job, JobHandler, JobQueue
from sodam.workers.runner import PeriodicJob

PRUNE_KIND = "jobs.prune"
PRUNE_EVERY_S = 3600.0
PRUNE_DONE_AFTER_DAYS = 7.0
UPLOADS_CLEANUP_KIND = "uploads.cleanup"
UPLOADS_CLEANUP_EVERY_S = 900.0
RETENTION_KIND = "files.retention"
RETENTION_EVERY_S = 6 * 3600.0


def build_handlers(services: Services) -> dict[str, JobHandler]:
    """Every job kind this server runs, with its handler."""
    handlers: dict[str, JobHandler] = {
        PRUNE_KIND: prune_handler(services.jobs),
    }
    # --- file jobs (docs/files.md) ---------------------------------------------------------
    files = services.files
    handlers[SCAN_JOB] = files.scan_job
    handlers[THUMBNAIL_JOB] = files.thumbnail_job
    handlers[DELETE_BLOBS_JOB] = files.delete_blobs_job
    handlers[RETENTION_KIND] = files.retention_job
    handlers[UPLOADS_CLEANUP_KIND] = uploads_cleanup_handler(services)
    return handlers


def periodic_jobs() -> list[PeriodicJob]:
    """Jobs enqueued on a schedule (one per interval across all runners)."""
    return [
        PeriodicJob(PRUNE_KIND, interval_s=PRUNE_EVERY_S),
        PeriodicJob(UPLOADS_CLEANUP_KIND, interval_s=UPLOADS_CLEANUP_EVERY_S),
        PeriodicJob(RETENTION_KIND, interval_s=RETENTION_EVERY_S),
    ]


def prune_handler(jobs: JobQueue) -> JobHandler:
    """``jobs.prune``: deletes done jobs finished more than 7 days ago (dead jobs stay until an
    administrator requeues them). Idempotent: a second run finds nothing more to delete."""

    async def prune(_job: Job) -> None:
        await jobs.prune(older_than_days=PRUNE_DONE_AFTER_DAYS)

    return prune


def uploads_cleanup_handler(services: Services) -> JobHandler:
    """``uploads.cleanup``: removes expired uploads with their bytes, then unfinished uploads
    the blob store still holds but the database no longer knows (a crash between the two, an
    orphaned S3 multipart upload). Idempotent."""

    async def cleanup(_job: Job) -> None:
        while await services.uploads.cleanup_expired():
            pass
        await services.uploads.sweep_orphans()

    return cleanup
