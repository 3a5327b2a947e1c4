"""The ``sodam`` command line: serve, migrate, config show, admin ..."""

from __future__ import annotations

import asyncio
import json
import logging
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
        ws_per_message_deflate=settings.realtime.compression,
        timeout_graceful_shutdown=20,
    )


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


if __name__ == "__main__":
    main()
