"""Shared fixtures.

``database_url`` is parametrised over SQLite and PostgreSQL, so every integration test runs on both
engines; each test gets a fresh database (a copied SQLite file, or a PostgreSQL database cloned
from a migrated template). PostgreSQL is never skipped silently: without a server the tests fail.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.db import migrate
from sodam.db.engine import create_engine
from sodam.domain.clock import FakeClock
from sodam.services.passwords import PasswordHasher
from tests.support.clamd import clamd  # noqa: F401 -- the session fixture, for every test
from tests.support.factories import DEFAULT_PASSWORD, LoggedIn, login
from tests.support.postgres import PostgresServer, start_postgres

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
ADMIN_PASSWORD = "admin-password-for-tests"


def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        migrate.upgrade_sync(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    name = postgres_server.create_database()
    _migrate(postgres_server.url(name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each engine."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "sodam.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("postgres_template"))
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def fast_hasher() -> PasswordHasher:
    # argon2id with test-sized cost; production uses the RFC 9106 profile.
    return PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        admin_password=ADMIN_PASSWORD,
        database={"url": database_url, "migrate_on_start": True},
    )


@pytest.fixture
async def app(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[FastAPI]:
    application = build_app(settings, Overrides(clock=clock, hasher=fast_hasher))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> LoggedIn:
    return await login(client, "admin", ADMIN_PASSWORD)


__all__ = ["DEFAULT_PASSWORD"]
