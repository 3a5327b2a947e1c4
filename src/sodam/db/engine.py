"""The database: sync SQLAlchemy Core run in threads, the way Synapse's ``runInteraction`` does.

A use case hands ``Database.write`` (or ``read``) one synchronous function that receives a
``sqlalchemy.Connection`` and does the whole transaction; by convention those functions end in
``_txn``. They run off the event loop:

- **SQLite**: one writer thread owns the only write connection and applies **group commit**:
  it takes every queued write, runs each in its own SAVEPOINT (a failure rolls back only its own
  work), then COMMITs once. With ``synchronous=FULL`` each COMMIT is an fsync (ADR 0002), so
  sharing it is what lets a disk acknowledge thousands of durable sends per second. A ``write``
  returns only after the COMMIT that made it durable. Reads run on a small pool of reader threads
  (WAL readers never block the writer).

  Writes come in two classes. Most are **interactive** (a send, a read marker, a login): someone
  waits for them. Bookkeeping that nobody watches closely (an upload's rows, the job runner's
  claims and results) is written with ``background=True``: a group takes every queued
  interactive write but at most ``BACKGROUND_PER_GROUP`` background ones, so a burst of them
  (fifty uploads starting at once) cannot put a chat message behind fifty transactions; it waits
  for at most one group's worth. Background writes are never starved: places for up to
  ``BACKGROUND_PER_GROUP`` of them are kept in every group.
- **PostgreSQL** (psycopg): a thread pool as large as the connection pool; each ``write`` is its
  own transaction; PostgreSQL groups WAL flushes itself.

Why not an async driver: per statement, SQLAlchemy's asyncio layer over aiosqlite cost ~530 µs
on this machine against ~23 µs for the same statement on a sync connection (ADR 0003). A
transaction is one thread hop, not one per statement.

Connection failures and timeouts (a statement cancelled by ``statement_timeout``, no pooled
connection free within the pool timeout) become ``Unavailable`` (HTTP 503, retryable), never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from sodam.errors import Unavailable
from sodam.observability.failpoints import Failpoints

logger = logging.getLogger(__name__)

T = TypeVar("T")
Txn = Callable[[sa.Connection], T]

MAX_GROUP = 256  # writes per group commit at most
BACKGROUND_PER_GROUP = 4  # background writes per group commit at most
_SAVEPOINT = "SAVEPOINT sodam_write"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT sodam_write"
_RELEASE = "RELEASE SAVEPOINT sodam_write"


def normalise_url(url: str) -> sa.URL:
    """Accepts ``postgresql://``, ``postgresql+asyncpg://`` and ``sqlite+aiosqlite://`` forms and
    returns the sync driver URL Sodam runs on (psycopg, pysqlite)."""
    sa_url = sa.make_url(url)
    backend = sa_url.get_backend_name()
    if backend == "postgresql":
        return sa_url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return sa_url.set(drivername="sqlite+pysqlite")
    raise ValueError(f"unsupported database: {backend} (use PostgreSQL or SQLite)")


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    sqlite_synchronous: str = "FULL",
    statement_timeout_s: float = 10.0,
) -> sa.Engine:
    """The sync engine for ``url`` with the per-engine settings Sodam relies on."""
    sa_url = normalise_url(url)
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database or ""
        in_memory = database in ("", ":memory:")
        if not in_memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        pool: dict[str, Any] = (
            {"poolclass": sa.StaticPool}
            if in_memory
            else {"pool_size": pool_size, "max_overflow": 0}
        )
        engine = sa.create_engine(
            sa_url,
            connect_args={"timeout": statement_timeout_s, "check_same_thread": False},
            **pool,
        )
        _install_sqlite_pragmas(engine, sqlite_synchronous)
        return engine
    timeout_ms = int(statement_timeout_s * 1000)
    return sa.create_engine(
        sa_url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=statement_timeout_s,
        connect_args={
            "connect_timeout": max(1, int(statement_timeout_s)),
            "application_name": "sodam",
            "options": f"-c statement_timeout={timeout_ms} "
            f"-c idle_in_transaction_session_timeout={timeout_ms * 3}",
        },
    )


def _install_sqlite_pragmas(engine: sa.Engine, synchronous: str) -> None:
    # WAL lets readers run beside the single writer; synchronous=FULL makes every acknowledged
    # commit durable across power loss (ADR 0002). foreign_keys is off by default in SQLite.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    # A write transaction starts with BEGIN IMMEDIATE so it never fails later on a lock upgrade;
    # reads use a deferred BEGIN and never take the write lock.
    @event.listens_for(engine, "begin")
    def _do_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class _Job:
    fn: Callable[[sa.Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    done: bool = field(default=False)


class _SqliteWriter:
    """The one thread that writes to SQLite, committing queued writes in groups."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._ready = threading.Condition()
        self._interactive: deque[_Job] = deque()
        self._background: deque[_Job] = deque()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sodam-sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, job: _Job, *, background: bool = False) -> None:
        with self._ready:
            (self._background if background else self._interactive).append(job)
            self._ready.notify()

    def close(self) -> None:
        """Writes already queued are committed first."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout=30)

    def _next_batch(self) -> list[_Job] | None:
        """Blocks for the next write, then takes every interactive write queued and up to
        ``BACKGROUND_PER_GROUP`` background ones (the group); None once asked to stop and
        nothing is left."""
        with self._ready:
            while not self._interactive and not self._background:
                if self._stopping:
                    return None
                self._ready.wait()
            # Places for the background writes are kept first, so that a flood of interactive
            # ones (MAX_GROUP and more queued) cannot starve them.
            background = min(len(self._background), BACKGROUND_PER_GROUP)
            batch: list[_Job] = []
            while self._interactive and len(batch) < MAX_GROUP - background:
                batch.append(self._interactive.popleft())
            batch.extend(self._background.popleft() for _ in range(background))
            return batch

    def _run(self) -> None:
        conn: sa.Connection | None = None
        while (batch := self._next_batch()) is not None:
            try:
                if conn is None:
                    conn = self._engine.connect().execution_options(sqlite_begin="IMMEDIATE")
                self._run_batch(conn, batch)
            except BaseException as exc:
                logger.warning("sqlite group commit failed: %s", type(exc).__name__)
                if conn is not None:
                    conn.invalidate()
                    conn.close()
                    conn = None
                for job in batch:
                    job.error = job.error or exc
            for job in batch:
                _resolve(job)
        if conn is not None:
            conn.close()

    @staticmethod
    def _run_batch(conn: sa.Connection, batch: list[_Job]) -> None:
        # Each job's SAVEPOINT goes to the sqlite3 connection directly: through SQLAlchemy
        # (begin_nested) the pair cost ~90 us of CPU per write, a sixth of a send, against ~2 us.
        # SQLAlchemy's own transaction (the root one below, and any begin_nested a job opens
        # inside its savepoint) is unaffected: savepoints nest, and rolling back to this one also
        # discards any the job left behind.
        raw: Any = conn.connection.driver_connection  # sqlite3.Connection
        with conn.begin():
            for job in batch:
                if job.future.cancelled():
                    continue
                raw.execute(_SAVEPOINT)
                try:
                    job.result = job.fn(conn)
                except BaseException as exc:
                    raw.execute(_ROLLBACK_TO)
                    raw.execute(_RELEASE)
                    job.error = exc
                    if not isinstance(exc, Exception):
                        raise
                else:
                    raw.execute(_RELEASE)
        # Leaving the block above COMMITs: only now is any job's work durable.


def _resolve(job: _Job) -> None:
    def _set() -> None:
        if job.future.done():
            return
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)

    job.loop.call_soon_threadsafe(_set)


class Database:
    """Runs ``*_txn`` functions in transactions off the event loop."""

    def __init__(
        self, engine: sa.Engine, *, readers: int = 4, failpoints: Failpoints | None = None
    ) -> None:
        self.engine = engine
        self._failpoints = failpoints or Failpoints()
        self.dialect = engine.dialect.name
        workers = readers if self.is_sqlite else max(2, engine.pool.size())  # type: ignore[attr-defined]  # QueuePool has size()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sodam-db")
        self._writer = _SqliteWriter(engine) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def write(self, fn: Txn[T], *, background: bool = False) -> T:
        """Runs ``fn`` in a read-write transaction and returns once it is durable. An exception
        from ``fn`` rolls back its work and is re-raised here. ``background``: bookkeeping no
        one waits on closely, which on SQLite gives way to interactive writes (the module's
        docstring); PostgreSQL runs every write in its own transaction and ignores it."""
        try:
            if self._writer is not None:
                loop = asyncio.get_running_loop()
                job = _Job(fn=fn, loop=loop, future=loop.create_future())
                self._writer.submit(job, background=background)
                result: T = await job.future
                return result
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._run_in_transaction, fn
            )
        except (OperationalError, InterfaceError, PoolTimeout, OSError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable(exc) from exc
            raise

    async def read(self, fn: Txn[T]) -> T:
        """Runs ``fn`` in a read-only transaction (a consistent snapshot)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._run_in_transaction, fn
            )
        except (OperationalError, InterfaceError, PoolTimeout, OSError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable(exc) from exc
            raise

    def _run_in_transaction(self, fn: Txn[T]) -> T:
        with self.engine.connect() as conn, conn.begin():
            slow = self._failpoints.check("db.slow") if not self.is_sqlite else None
            if slow is not None and slow.seconds:
                # A slow database (F7): the sleep counts against statement_timeout like real work.
                conn.execute(sa.text("SELECT pg_sleep(:s)"), {"s": slow.seconds})
            return fn(conn)

    async def ping(self) -> None:
        await self.read(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())

    async def dispose(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
        self._pool.shutdown(wait=True)
        self.engine.dispose()


def _unavailable(exc: BaseException) -> Unavailable:
    logger.warning("database unavailable: %s", type(exc).__name__)
    return Unavailable("database_unavailable", "The database is unavailable; try again.")
