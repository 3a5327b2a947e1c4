"""The ``sodam`` command line against real SQLite and PostgreSQL databases.

Commands run through click's CliRunner with SODAM_* variables pointing at the test's database, the
way an operator runs them in the server's shell. Where a test also talks to the running app (the
``client`` fixture shares the database), the command runs in a thread because the CLI starts its
own event loop. The CLI hashes with production argon2 cost, so these tests keep their count low.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from sodam.__main__ import main
from sodam.db import migrate
from sodam.db.engine import create_engine
from tests.support.factories import DEFAULT_PASSWORD, LoggedIn, create_user, login
from tests.support.postgres import PostgresServer

CLI_PASSWORD = "password-from-the-cli-1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("SODAM_"):
            monkeypatch.delenv(name)
    yield


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {"SODAM_DATA_DIR": str(data_dir), "SODAM_DATABASE__URL": database_url, **extra}


def sodam(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


async def sodam_async(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return await asyncio.to_thread(sodam, env, *args, stdin=stdin)


def _users(result: Result) -> dict[str, list[str]]:
    """list-users output by user name: [id, display name, admin flag, state]."""
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines() if line]
    return {row[1]: [row[0], *row[2:]] for row in rows}


# --- users ---------------------------------------------------------------------------------------


def test_create_user_then_list_users(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path / "var")
    created = sodam(
        env,
        "admin",
        "create-user",
        "Kim.Minsu",
        "--display-name",
        "김민수",
        "--password",
        CLI_PASSWORD,
    )
    assert created.exit_code == 0, created.output
    assert created.output.startswith("created user kim.minsu (id ")

    sodam(env, "admin", "create-user", "boss", "--admin", "--password", CLI_PASSWORD)
    users = _users(sodam(env, "admin", "list-users"))
    assert users["kim.minsu"][1:] == ["김민수", "-", "active"]
    assert users["boss"][1:] == ["boss", "admin", "active"]


def test_create_user_reads_the_password_from_stdin(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path / "var")
    result = sodam(env, "admin", "create-user", "lee", stdin=CLI_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert CLI_PASSWORD not in result.output
    assert "lee" in _users(sodam(env, "admin", "list-users"))


def test_create_user_refuses_a_taken_name_and_a_weak_password(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path / "var")
    sodam(env, "admin", "create-user", "park", "--password", CLI_PASSWORD)

    taken = sodam(env, "admin", "create-user", "PARK", "--password", CLI_PASSWORD)
    assert taken.exit_code == 1
    assert "username_taken" in taken.output

    weak = sodam(env, "admin", "create-user", "choi", "--password", "short")
    assert weak.exit_code == 1
    assert "password_too_short" in weak.output
    assert "choi" not in _users(sodam(env, "admin", "list-users"))


async def test_set_password_ends_sessions_and_the_new_password_works(
    database_url: str, tmp_path: Path, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    env = _env(database_url, tmp_path / "cli")
    result = await sodam_async(
        env, "admin", "set-password", user.username, "--password", CLI_PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"password set for {user.username}\n"

    assert (await client.get("/api/me", headers=user.headers)).status_code == 401
    old = await client.post(
        "/api/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    await login(client, user.username, CLI_PASSWORD)


async def test_deactivate_logs_the_user_out_of_the_running_server(
    database_url: str, tmp_path: Path, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    env = _env(database_url, tmp_path / "cli")
    result = await sodam_async(env, "admin", "deactivate", user.username)
    assert result.exit_code == 0, result.output

    assert (await client.get("/api/me", headers=user.headers)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refresh.status_code == 401

    active = _users(await sodam_async(env, "admin", "list-users"))
    everyone = _users(await sodam_async(env, "admin", "list-users", "--all"))
    assert user.username not in active
    assert everyone[user.username][-1] == "deactivated"
    assert everyone["admin"][-1] == "active"


def test_commands_on_an_unknown_user_fail_clearly(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path / "var")
    for args in (
        ("admin", "deactivate", "nobody"),
        ("admin", "set-password", "nobody", "--password", CLI_PASSWORD),
    ):
        result = sodam(env, *args)
        assert result.exit_code == 1
        assert "user_not_found" in result.output


# --- migrate -------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return migrate.current_revision_sync(engine)
    finally:
        engine.dispose()


def test_migrate_brings_an_empty_database_to_head(empty_database_url: str, tmp_path: Path) -> None:
    env = _env(empty_database_url, tmp_path / "var")
    assert _revision(empty_database_url) is None
    result = sodam(env, "migrate")
    assert result.exit_code == 0, result.output
    assert result.output == f"database at revision {migrate.head_revision()}\n"
    assert _revision(empty_database_url) == migrate.head_revision()

    again = sodam(env, "migrate")
    assert again.exit_code == 0, again.output
    assert _users(sodam(env, "admin", "list-users")) == {}


def test_migrate_to_an_explicit_revision(empty_database_url: str, tmp_path: Path) -> None:
    env = _env(empty_database_url, tmp_path / "var")
    head = migrate.head_revision()
    result = sodam(env, "migrate", "--revision", head)
    assert result.exit_code == 0, result.output
    assert _revision(empty_database_url) == head


def test_default_database_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    result = sodam({"SODAM_DATA_DIR": str(data_dir)}, "migrate")
    assert result.exit_code == 0, result.output
    assert (data_dir / "sodam.db").is_file()


# --- config show ---------------------------------------------------------------------------------


def test_config_show_prints_effective_settings_with_secrets_masked(tmp_path: Path) -> None:
    env = _env(
        "postgresql+asyncpg://sodam:db-password-9@db.internal:5432/sodam",
        tmp_path / "var",
        SODAM_SECRET_KEY="signing-key-" + "9" * 30,
        SODAM_ADMIN_PASSWORD="first-admin-password",
        SODAM_REDIS__URL="redis://:redis-password-9@cache:6379/0",
        SODAM_S3__SECRET_ACCESS_KEY="s3-secret-value-9",
        SODAM_LIMITS__MESSAGE_MAX_CHARS="4000",
    )
    result = sodam(env, "config", "show")
    assert result.exit_code == 0, result.output
    for secret in ("db-password-9", "9" * 30, "first-admin-password", "redis-password-9", "s3-"):
        assert secret not in result.output
    shown = json.loads(result.output)
    assert (
        shown["database"]["url"] == "postgresql+asyncpg://sodam:**********@db.internal:5432/sodam"
    )
    assert shown["secret_key"] == shown["admin_password"] == "**********"
    assert shown["limits"]["message_max_chars"] == 4000
    assert shown["data_dir"] == str(tmp_path / "var")


def test_config_show_reads_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "sodam.toml"
    config.write_text("port = 9443\n[auth]\naccess_token_ttl_s = 600\n", encoding="utf-8")
    result = sodam({"SODAM_CONFIG_FILE": str(config)}, "config", "show")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["port"], shown["auth"]["access_token_ttl_s"]) == (9443, 600)


def test_invalid_settings_are_reported_not_raised(tmp_path: Path) -> None:
    result = sodam({"SODAM_SECRET_KEY": "change-me"}, "config", "show")
    assert result.exit_code == 1
    assert "invalid settings" in result.output
    assert "placeholder" in result.output
