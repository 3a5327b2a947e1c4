"""The ``sodam`` command line: serve, migrate, config show, admin ..."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from sodam.config import Settings
from sodam.errors import AppError

T = TypeVar("T")
logger = logging.getLogger("sodam")


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings:\n{exc}") from exc


def _run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    async def _main() -> T:
        return await coro_factory()

    try:
        return asyncio.run(_main())
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc


@click.group()
def main() -> None:
    """Sodam (소담): on-premises corporate messenger."""


@main.command()
@click.option("--host", default=None, help="address to listen on (SODAM_HOST, default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (SODAM_PORT, default 8080)")
def serve(host: str | None, port: int | None) -> None:
    """Run the server (REST, WebSocket, web client and embedded workers) in this process."""
    import uvicorn

    from sodam.app import Overrides, build_app
    from sodam.observability.logging import configure_logging
    from sodam.services.accounts import FirstAdmin

    settings = _settings(host=host, port=port)
    configure_logging(settings.log_level)

    def announce(first: FirstAdmin) -> None:
        if first.generated_password:
            # Printed once, on the terminal only (never logged): there is no other copy.
            click.echo(
                "\n  Sodam: first administrator created\n"
                f"    user name: {first.user.username}\n"
                f"    password:  {first.generated_password}\n"
                "  Change it after logging in. It is not shown again.\n",
                err=True,
            )
        else:
            click.echo(
                "Sodam: first administrator 'admin' created from SODAM_ADMIN_PASSWORD", err=True
            )

    app = build_app(settings, Overrides(on_first_admin=announce))
    click.echo(f"Sodam listening on http://{settings.host}:{settings.port}", err=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        ws_max_size=settings.realtime.frame_max_bytes,
        # No protocol-level keepalive pings: clients ping every heartbeat_s and the gateway
        # closes a socket silent for two intervals (docs/protocol.md). uvicorn's own pings
        # would double that traffic (a sixth of an idle node's CPU at 5,000 sockets).
        ws_ping_interval=None,
        ws_per_message_deflate=settings.realtime.compression,
        timeout_graceful_shutdown=20,
    )


@main.command()
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="serve Prometheus /metrics on this port (default: no listener at all)",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def worker(metrics_port: int | None, metrics_host: str) -> None:
    """Run background jobs from the outbox until SIGTERM or SIGINT (docs/jobs.md).

    Serves no API. Runs migrations first like `serve` (unless SODAM_DATABASE__MIGRATE_ON_START is
    false) and refuses to start on a schema behind the code. On SIGTERM it stops claiming, lets
    running jobs finish for SODAM_JOBS__SHUTDOWN_GRACE_S, hands the rest back, and exits 0.
    """
    from sodam.app import build_runner, build_services, prepare_database
    from sodam.observability.logging import configure_logging
    from sodam.observability.metrics import serve_metrics

    settings = _settings()
    configure_logging(settings.log_level)

    async def _work() -> None:
        built = build_services(settings)
        stop_metrics: Callable[[], None] | None = None
        try:
            if not await prepare_database(built):
                raise click.ClickException(
                    "the database schema is not at the head revision; run `sodam migrate`"
                )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            if metrics_port is not None:
                stop_metrics = serve_metrics(built.metrics, metrics_host, metrics_port)
            await built.bus.start(None)  # publish only: events reach the serving nodes
            runner = build_runner(built)
            await runner.start()
            click.echo(f"Sodam worker {runner.worker_id} running background jobs", err=True)
            await stop.wait()
            click.echo("Sodam worker stopping", err=True)
            await runner.stop(settings.jobs.shutdown_grace_s)
        finally:
            if stop_metrics is not None:
                await asyncio.to_thread(stop_metrics)
            await built.close()
        click.echo("Sodam worker stopped", err=True)

    _run(_work)


@main.command()
@click.option("--revision", default="head", show_default=True)
def migrate(revision: str) -> None:
    """Apply database migrations up to REVISION."""
    from sodam.db import migrate as db_migrate
    from sodam.db.engine import create_engine

    settings = _settings()

    engine = create_engine(settings.database_url)
    try:
        db_migrate.upgrade_sync(engine, revision)
        current = db_migrate.current_revision_sync(engine)
    finally:
        engine.dispose()
    click.echo(f"database at revision {current}")


@main.command()
def openapi() -> None:
    """Print the OpenAPI document (what /api/openapi.json serves) without starting a server."""
    from sodam.app import build_app

    settings = _settings(
        mode="development",
        secret_key="x" * 48,
        database={"url": "sqlite:///:memory:", "migrate_on_start": False},
    )
    click.echo(json.dumps(build_app(settings).openapi(), ensure_ascii=False, indent=1))


@main.group()
def config() -> None:
    """Inspect settings."""


@config.command("show")
def config_show() -> None:
    """Print the effective settings as JSON, secrets masked."""
    click.echo(json.dumps(_settings().masked(), indent=2, ensure_ascii=False))


@main.group()
def admin() -> None:
    """Administer users from the server's own shell."""


def _with_accounts(action: Callable[[Any], Awaitable[T]]) -> T:
    from sodam.bus.memory import MemoryBus
    from sodam.db.engine import Database, create_engine
    from sodam.domain.clock import SystemClock
    from sodam.services.accounts import AccountService
    from sodam.services.passwords import PasswordHasher

    settings = _settings()

    async def _go() -> T:
        db = Database(create_engine(settings.database_url))
        try:
            # A CLI process has no sockets of its own; the server's nodes close theirs when they
            # next check the session (every request and every WebSocket re-check).
            accounts = AccountService(
                db, SystemClock(), PasswordHasher(), MemoryBus(), settings.auth
            )
            return await action(accounts)
        finally:
            await db.dispose()

    return _run(_go)


def _read_password(password: str | None) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@admin.command("create-user")
@click.argument("username")
@click.option("--display-name", default=None)
@click.option("--admin", "is_admin", is_flag=True, help="make the user an administrator")
@click.option("--password", default=None, help="default: prompt (or one line of stdin)")
def create_user(
    username: str, display_name: str | None, is_admin: bool, password: str | None
) -> None:
    """Create a local user."""
    secret = _read_password(password)
    user = _with_accounts(
        lambda a: a.create_user(
            None, username=username, password=secret, display_name=display_name, is_admin=is_admin
        )
    )
    click.echo(f"created user {user.username} (id {user.id})")


@admin.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="default: prompt (or one line of stdin)")
def set_password(username: str, password: str | None) -> None:
    """Set a user's password; their sessions end."""
    secret = _read_password(password)
    user = _with_accounts(lambda a: a.set_password(None, username, secret))
    click.echo(f"password set for {user.username}")


@admin.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Deactivate a user; all their sessions end."""
    user = _with_accounts(lambda a: a.deactivate(None, username))
    click.echo(f"deactivated {user.username}")


@admin.command("list-users")
@click.option("--all", "include_inactive", is_flag=True, help="include deactivated users")
def list_users(include_inactive: bool) -> None:
    """List users as tab-separated id, user name, display name, admin, state."""

    async def _all(accounts: Any) -> list[Any]:
        out: list[Any] = []
        after = 0
        while True:
            page = await accounts.list_users(
                after_id=after, limit=200, include_inactive=include_inactive
            )
            out.extend(page)
            if len(page) < 200:
                return out
            after = page[-1].id

    for user in _with_accounts(_all):
        state = "active" if user.is_active else "deactivated"
        click.echo(
            f"{user.id}\t{user.username}\t{user.display_name}\t"
            f"{'admin' if user.is_admin else '-'}\t{state}"
        )


@main.group()
def jobs() -> None:
    """Inspect background jobs and requeue dead ones (docs/jobs.md)."""


def _with_jobs(action: Callable[[Any], Awaitable[T]]) -> T:
    from sodam.db.engine import Database, create_engine
    from sodam.domain.clock import SystemClock
    from sodam.services.jobs import JobQueue

    settings = _settings()

    async def _go() -> T:
        db = Database(create_engine(settings.database_url))
        try:
            return await action(JobQueue(db, SystemClock(), settings=settings.jobs))
        finally:
            await db.dispose()

    return _run(_go)


@jobs.command("list")
@click.option(
    "--state",
    type=click.Choice(["pending", "running", "done", "dead"]),
    default=None,
    help="only jobs in this state",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def jobs_list(state: str | None, limit: int) -> None:
    """List the newest jobs as tab-separated id, kind, state, attempts/max, due at, last error."""
    for job in _with_jobs(lambda q: q.list_jobs(state=state, limit=limit)):
        error = " ".join((job.last_error or "-").split())
        click.echo(
            f"{job.id}\t{job.kind}\t{job.state}\t{job.attempts}/{job.max_attempts}\t"
            f"{job.run_after.isoformat()}\t{error}"
        )


@jobs.command("retry")
@click.argument("job_ids", nargs=-1, type=int, required=True)
def jobs_retry(job_ids: tuple[int, ...]) -> None:
    """Requeue dead jobs with a fresh set of attempts, due now."""

    async def _requeue(queue: Any) -> list[int]:
        return [job_id for job_id in job_ids if not await queue.requeue(job_id)]

    refused = _with_jobs(_requeue)
    for job_id in job_ids:
        if job_id not in refused:
            click.echo(f"job {job_id} requeued")
    if refused:
        raise click.ClickException(
            f"not dead (or no such job): {', '.join(str(i) for i in refused)}"
        )


if __name__ == "__main__":
    main()
