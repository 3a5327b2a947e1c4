"""Alembic migrations on an empty SQLite file and an empty PostgreSQL database.

Each test starts from a database that has never been migrated (not the migrated template the
other integration tests clone), so upgrade, downgrade and the drift check run for real.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sodam.db import migrate
from sodam.db.engine import create_engine
from sodam.db.tables import chat_rooms, messages, metadata, users
from tests.support.postgres import PostgresServer

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on a database that has no tables at all."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    engine = create_engine(server.url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        server.drop_database(name)


def _table_names(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def _leftover_relations(engine: sa.Engine) -> set[str]:
    """Every table, index, sequence and view still in the database except Alembic's own."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            )
        else:
            rows = conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S', 'v', 'm')"
                )
            )
        names = {row[0] for row in rows}
    return {n for n in names if not n.startswith("alembic_version")}


def test_empty_database_upgrades_downgrades_and_upgrades_again_without_drift(
    empty_engine: sa.Engine,
) -> None:
    assert _table_names(empty_engine) == set()
    assert migrate.current_revision_sync(empty_engine) is None

    migrate.upgrade_sync(empty_engine)
    assert migrate.current_revision_sync(empty_engine) == migrate.head_revision()
    assert _table_names(empty_engine) >= set(metadata.tables)
    assert migrate.schema_drift_sync(empty_engine) == []

    migrate.downgrade_sync(empty_engine, "base")
    assert migrate.current_revision_sync(empty_engine) is None
    assert _leftover_relations(empty_engine) == set()

    migrate.upgrade_sync(empty_engine)
    assert migrate.current_revision_sync(empty_engine) == migrate.head_revision()
    assert migrate.schema_drift_sync(empty_engine) == []


def test_upgrade_at_head_is_a_no_op(empty_engine: sa.Engine) -> None:
    migrate.upgrade_sync(empty_engine)
    migrate.upgrade_sync(empty_engine)
    assert migrate.current_revision_sync(empty_engine) == migrate.head_revision()
    assert migrate.schema_drift_sync(empty_engine) == []


def test_drift_check_reports_a_schema_that_differs_from_the_tables(
    empty_engine: sa.Engine,
) -> None:
    # Proves the drift check can fail: a missing index must show up as a difference.
    migrate.upgrade_sync(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_messages_sender_id_created_at"))
    drift = migrate.schema_drift_sync(empty_engine)
    assert any(
        diff[0] == "add_index" and diff[1].name == "ix_messages_sender_id_created_at"
        for diff in drift
        if isinstance(diff, tuple)
    ), drift


# --- constraints that carry invariants (reliability.md I2, I3; product.md M1) -------------------


@pytest.fixture
def migrated_engine(empty_engine: sa.Engine) -> sa.Engine:
    migrate.upgrade_sync(empty_engine)
    return empty_engine


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    return int((conn.execute(sa.insert(table).values(**values).returning(table.c.id))).one()[0])


def _room_and_sender(engine: sa.Engine) -> tuple[int, int]:
    with engine.begin() as conn:
        user_id = _insert(conn, users, username="kim", created_at=NOW)
        room_id = _insert(conn, chat_rooms, kind="group", name="개발팀", created_at=NOW)
    return room_id, user_id


def _message(room_id: int, sender_id: int, *, seq: int, client_msg_id: str) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "sender_id": sender_id,
        "seq": seq,
        "event_seq": seq,
        "client_msg_id": client_msg_id,
        "body": "안녕하세요",
        "created_at": NOW,
    }


def test_a_room_cannot_hold_two_messages_with_the_same_seq(
    migrated_engine: sa.Engine,
) -> None:
    room_id, sender_id = _room_and_sender(migrated_engine)
    with migrated_engine.begin() as conn:
        _insert(conn, messages, **_message(room_id, sender_id, seq=1, client_msg_id="a"))
    with pytest.raises(IntegrityError), migrated_engine.begin() as conn:
        _insert(conn, messages, **_message(room_id, sender_id, seq=1, client_msg_id="b"))


def test_a_sender_cannot_reuse_a_client_msg_id_in_a_room(
    migrated_engine: sa.Engine,
) -> None:
    room_id, sender_id = _room_and_sender(migrated_engine)
    with migrated_engine.begin() as conn:
        _insert(conn, messages, **_message(room_id, sender_id, seq=1, client_msg_id="c1"))
    with pytest.raises(IntegrityError), migrated_engine.begin() as conn:
        _insert(conn, messages, **_message(room_id, sender_id, seq=2, client_msg_id="c1"))


def test_the_same_client_msg_id_is_fine_in_another_room(
    migrated_engine: sa.Engine,
) -> None:
    room_id, sender_id = _room_and_sender(migrated_engine)
    with migrated_engine.begin() as conn:
        other_room = _insert(conn, chat_rooms, kind="group", name="기획팀", created_at=NOW)
        _insert(conn, messages, **_message(room_id, sender_id, seq=1, client_msg_id="c1"))
        _insert(conn, messages, **_message(other_room, sender_id, seq=1, client_msg_id="c1"))
        count = (conn.execute(sa.select(sa.func.count()).select_from(messages))).scalar_one()
    assert count == 2


def test_only_one_direct_room_exists_per_pair(migrated_engine: sa.Engine) -> None:
    with migrated_engine.begin() as conn:
        _insert(conn, chat_rooms, kind="direct", direct_key="1:2", created_at=NOW)
    with pytest.raises(IntegrityError), migrated_engine.begin() as conn:
        _insert(conn, chat_rooms, kind="direct", direct_key="1:2", created_at=NOW)
