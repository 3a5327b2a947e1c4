"""A database that cannot answer in time is a retryable 503 (``Unavailable``), never a 500: a
statement over the timeout, and a wait for a pooled connection over the timeout (F3, F7)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sodam.db.engine import Database, create_engine
from sodam.errors import Unavailable
from sodam.observability.failpoints import Failpoints
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(postgres_server: PostgresServer) -> Database:
    url = postgres_server.url("postgres", "psycopg")
    return Database(create_engine(url, pool_size=1, statement_timeout_s=0.5))


async def test_no_free_pooled_connection_in_time_is_unavailable(db: Database) -> None:
    held = db.engine.connect()  # the pool's only connection is busy elsewhere
    try:
        with pytest.raises(Unavailable) as raised:
            await db.read(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())
        assert raised.value.code == "database_unavailable"
    finally:
        held.close()
        await db.dispose()


async def test_a_statement_over_the_timeout_is_unavailable(db: Database) -> None:
    try:
        with pytest.raises(Unavailable):
            await db.write(lambda conn: conn.execute(sa.text("SELECT pg_sleep(2)")))
        assert await db.read(lambda conn: conn.execute(sa.text("SELECT 1")).scalar()) == 1
    finally:
        await db.dispose()


async def test_the_slow_database_failpoint_delays_every_transaction(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.url("postgres", "psycopg")
    db = Database(
        create_engine(url, statement_timeout_s=0.5), failpoints=Failpoints("db.slow=sleep:1")
    )
    try:
        with pytest.raises(Unavailable):
            await db.read(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())
    finally:
        await db.dispose()
