"""Programmatic Alembic: upgrade, downgrade, current revision and the drift check.

Alembic's command API is synchronous; each function here runs it inside ``run_sync`` on one async
connection, so the same code works for aiosqlite and asyncpg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from sodam.db.tables import metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(sync_conn: sa.Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def schema_drift(engine: AsyncEngine) -> list[Any]:
    """Differences between the migrated database and the table definitions (empty = in sync)."""

    def _compare(sync_conn: sa.Connection) -> list[Any]:
        ctx = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(_compare)


async def _run(engine: AsyncEngine, action: Any) -> None:
    def _in_sync(sync_conn: sa.Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        action(cfg)

    async with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        raw: Any = None
        if sqlite:
            # Batch migrations recreate tables, so foreign keys must be off while they run; the
            # pragma is ignored inside a transaction, hence the raw connection before any BEGIN.
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None  # noqa: S101 -- a checked-out connection has a driver
            await raw.execute("PRAGMA foreign_keys=OFF")
        try:
            await conn.run_sync(_in_sync)
            await conn.commit()
        finally:
            if sqlite:
                await conn.rollback()
                await raw.execute("PRAGMA foreign_keys=ON")
