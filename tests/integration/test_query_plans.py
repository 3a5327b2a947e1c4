"""SQLite query plans of the hot read paths: every table is reached through an index.

A plan that scans ``messages`` costs nothing on a test database and hundreds of ms on a real one
(the room list once spent 250 ms scanning a million messages for 500 last-message previews), so
the plans are checked here, where they are deterministic. SQLite only: its planner does not
depend on table sizes without ANALYZE, while PostgreSQL rightly prefers sequential scans on the
few rows a test has (its plans were checked on the benchmark's million messages instead;
docs/performance.md, "The room list").
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import make_group, open_direct, react, send


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """This module's tests run on SQLite only (see the module docstring)."""
    path = tmp_path / "sodam.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _explain(app: FastAPI, statement: str, params: Any) -> list[str]:
    """The details of SQLite's EXPLAIN QUERY PLAN for one recorded statement."""
    engine: sa.Engine = app.state.db.engine
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    return [str(r[3]) for r in rows]


class _Recorder:
    def __init__(self) -> None:
        self.selects: list[tuple[str, Any]] = []

    def __call__(
        self, _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects.append((statement, params))


@contextmanager
def _record(app: FastAPI) -> Iterator[_Recorder]:
    engine = app.state.db.engine
    recorder = _Recorder()
    sa.event.listen(engine, "before_cursor_execute", recorder)
    try:
        yield recorder
    finally:
        sa.event.remove(engine, "before_cursor_execute", recorder)


async def _plans_of(app: FastAPI, client: httpx.AsyncClient, path: str, user: LoggedIn) -> str:
    with _record(app) as recorder:
        r = await client.get(path, headers=user.headers)
    assert r.status_code == 200, r.text
    lines = []
    for statement, params in recorder.selects:
        lines.append(" ".join(statement.split())[:120])
        lines.extend("    " + d for d in _explain(app, statement, params))
    return "\n".join(lines)


def _scans(plans: str) -> list[str]:
    return [line.strip() for line in plans.splitlines() if line.strip().startswith("SCAN")]


async def _busy_user(client: httpx.AsyncClient, admin: LoggedIn) -> tuple[LoggedIn, int]:
    me = await create_user(client, admin)
    peer = await create_user(client, admin)
    other = await create_user(client, admin)
    rid = (await make_group(client, me, [peer, other]))["id"]
    first = await send(client, peer, rid, f"<@{me.user_id}> 확인 부탁드려요")
    await send(client, me, rid, "<@all> 회의 시작합니다")
    await send(client, other, rid, "답장", reply_to_id=first["id"])
    assert (await react(client, other, rid, first["id"], "heart")).status_code == 200
    direct = (await open_direct(client, peer, me))["id"]
    await send(client, peer, direct, "안녕하세요")
    return me, rid


async def test_the_room_list_reaches_every_table_through_an_index(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me, _rid = await _busy_user(client, admin)
    plans = await _plans_of(app, client, "/api/rooms", me)
    assert _scans(plans) == [], plans
    # The last message by (room_id, seq), unread <@all> messages from their partial index.
    assert "SEARCH last USING INDEX sqlite_autoindex_messages_2 (room_id=? AND seq=?)" in plans
    assert "ix_messages_room_id_seq_mentions_all" in plans, plans


async def test_a_history_page_reaches_every_table_through_an_index(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me, rid = await _busy_user(client, admin)
    plans = await _plans_of(app, client, f"/api/rooms/{rid}/messages?limit=50", me)
    assert _scans(plans) == [], plans
