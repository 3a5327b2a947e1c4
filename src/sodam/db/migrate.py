"""Programmatic Alembic: upgrade, downgrade, current revision and the drift check.

The functions are coroutines that run Alembic (synchronous) in a thread, so callers on the event
loop never block; ``*_sync`` variants serve the CLI and tests that have no loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

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


def _run_sync(engine: sa.Engine, action: Any) -> None:
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations recreate tables, so foreign keys must be off while they run (the
            # pragma is ignored inside a transaction, hence before any BEGIN).
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            action(cfg)
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def upgrade_sync(engine: sa.Engine, revision: str = "head") -> None:
    _run_sync(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade_sync(engine: sa.Engine, revision: str) -> None:
    _run_sync(engine, lambda cfg: command.downgrade(cfg, revision))


def current_revision_sync(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_drift_sync(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, metadata))


async def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade_sync, engine, revision)


async def downgrade(engine: sa.Engine, revision: str) -> None:
    await asyncio.to_thread(downgrade_sync, engine, revision)


async def current_revision(engine: sa.Engine) -> str | None:
    return await asyncio.to_thread(current_revision_sync, engine)


async def schema_drift(engine: sa.Engine) -> list[Any]:
    """Differences between the migrated database and the table definitions (empty = in sync)."""
    return await asyncio.to_thread(schema_drift_sync, engine)
