"""Engine creation and the transaction helpers every repository call runs inside.

``Database`` owns the async engine. Services open exactly one transaction per use case with
``async with db.transaction() as conn`` (or ``db.read()`` for read-only work); repositories take
that connection and never commit. Connection failures and timeouts become ``Unavailable`` so the
API answers 503 with a retryable code instead of 500.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from sodam.errors import Unavailable

logger = logging.getLogger(__name__)


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    sqlite_synchronous: str = "FULL",
    statement_timeout_s: float = 10.0,
) -> AsyncEngine:
    """Create the engine for ``url`` with the per-engine settings Sodam relies on."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database or ""
        in_memory = database in ("", ":memory:")
        if not in_memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        pool: dict[str, Any] = {} if in_memory else {"pool_size": pool_size, "max_overflow": 0}
        engine = create_async_engine(sa_url, connect_args={"timeout": statement_timeout_s}, **pool)
        _install_sqlite_pragmas(engine, sqlite_synchronous)
        return engine
    return create_async_engine(
        sa_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=statement_timeout_s,
        connect_args={
            "timeout": statement_timeout_s,
            "command_timeout": statement_timeout_s,
            "server_settings": {"application_name": "sodam"},
        },
    )


def _install_sqlite_pragmas(engine: AsyncEngine, synchronous: str) -> None:
    # WAL lets readers run beside the single writer; synchronous=FULL makes every acknowledged
    # commit durable across power loss (ADR 0002). foreign_keys is off by default in SQLite.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over so a
    # write transaction starts with BEGIN IMMEDIATE and never fails later on a lock upgrade.
    @event.listens_for(engine.sync_engine, "connect")
    def _disable_pysqlite_begin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _do_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine plus the transaction context managers services use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One read-write transaction; commits on success, rolls back on any exception."""
        try:
            async with self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn
        except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable(exc) from exc
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (deferred BEGIN on SQLite: it never takes the write lock)."""
        try:
            async with self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = await conn.execution_options(sqlite_begin="DEFERRED")
                async with conn.begin():
                    yield conn
        except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable(exc) from exc
            raise

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _unavailable(exc: BaseException) -> Unavailable:
    logger.warning("database unavailable: %s", type(exc).__name__)
    return Unavailable("database_unavailable", "The database is unavailable; try again.")
