"""SQL statements on the hot paths (STYLE.md §12): a send, a history page and the room list run a
fixed number of statements, whatever the page size or the number of rooms, so an N+1 fails here.

Counted: every statement the app's engine runs for the request (the session lookup included),
except transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE) and PRAGMAs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine.interfaces import CacheStats

from sodam.config import Settings
from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    StatementLog,
    count_statements,
    make_group,
    open_direct,
    post_message,
    react,
    send,
)

# The exact numbers; a change here is a deliberate decision, not noise. Every request starts with
# the session lookup (1) and, inside a room, the room-and-membership check (1).
# send: + client_msg_id lookup, seq UPDATE ... RETURNING, message INSERT, own read position.
SEND_STATEMENTS = {"sqlite": 6, "postgresql": 6}
# duplicate send: + client_msg_id lookup, then the view: mentions, reactions, read positions.
DUPLICATE_SEND_STATEMENTS = {"sqlite": 6, "postgresql": 6}
# history: + the page, mentions, reactions, quoted messages, read positions of laggards.
HISTORY_STATEMENTS = {"sqlite": 7, "postgresql": 7}
# room list: + one query for all rooms with their peers, mention counts and last messages (one
# snapshot: a separate last-message query could see newer messages on PostgreSQL).
ROOM_LIST_STATEMENTS = {"sqlite": 2, "postgresql": 2}


@contextmanager
def _cache_use(app: FastAPI) -> Iterator[list[tuple[str, str]]]:
    """(cache outcome, SQL) of each statement run inside the block: CACHE_HIT when SQLAlchemy
    took its compiled form from the cache (transaction control and PRAGMAs are left out)."""
    engine = app.state.db.engine
    seen: list[tuple[str, str]] = []

    def _after(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(
            ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
        ):
            seen.append((CacheStats(context.cache_hit).name, text))

    sa.event.listen(engine, "after_cursor_execute", _after)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "after_cursor_execute", _after)


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    # The embedded job runner polls on the same engine and its statements would be counted.
    return settings.model_copy(update={"embedded_workers": False})


def _dialect(app: FastAPI) -> str:
    name: str = app.state.db.dialect
    return name


async def _busy_room(
    client: httpx.AsyncClient, owner: LoggedIn, others: list[LoggedIn], n: int
) -> int:
    """A room whose messages have everything a page must show: mentions, reactions, replies."""
    room = await make_group(client, owner, others)
    rid = room["id"]
    previous = None
    for i in range(n):
        sender = [owner, *others][i % (len(others) + 1)]
        body = f"<@{others[0].user_id}> #{i}" if i % 3 == 0 else f"#{i}"
        reply_to = {"reply_to_id": previous["id"]} if previous and i % 4 == 0 else {}
        previous = await send(client, sender, rid, body, **reply_to)
        if i % 2 == 0:
            r = await react(client, others[-1], rid, previous["id"], "heart")
            assert r.status_code == 200
    return rid


async def test_a_send_takes_a_fixed_number_of_statements(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    rid = (await make_group(client, owner, [member]))["id"]
    await send(client, owner, rid, "데우기")  # warm caches and the pool
    logs: list[StatementLog] = []
    for i in range(3):
        with count_statements(app) as log:
            r = await post_message(client, owner, rid, f"본문 {i}")
        assert r.status_code == 200, r.text
        logs.append(log)
    expected = SEND_STATEMENTS[_dialect(app)]
    assert [log.count for log in logs] == [expected] * 3, str(logs[0])


async def test_a_duplicate_send_takes_a_fixed_number_of_statements(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    rid = (await make_group(client, owner, []))["id"]
    await send(client, owner, rid, "원본", client_msg_id="dup-count-01")
    with count_statements(app) as log:
        r = await post_message(client, owner, rid, "원본", client_msg_id="dup-count-01")
    assert r.json()["duplicate"] is True
    assert log.count == DUPLICATE_SEND_STATEMENTS[_dialect(app)], str(log)


async def test_a_history_page_takes_the_same_statements_whatever_its_size(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    others = [await create_user(client, admin) for _ in range(3)]
    rid = await _busy_room(client, owner, others, 60)
    counts: dict[int, int] = {}
    for limit in (5, 50):
        with count_statements(app) as log:
            r = await client.get(
                f"/api/rooms/{rid}/messages", params={"limit": limit}, headers=owner.headers
            )
        assert r.status_code == 200, r.text
        assert len(r.json()["messages"]) == limit
        counts[limit] = log.count
    expected = HISTORY_STATEMENTS[_dialect(app)]
    assert counts == {5: expected, 50: expected}, str(log)


async def test_the_room_list_takes_the_same_statements_whatever_the_number_of_rooms(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    peers = [await create_user(client, admin) for _ in range(8)]
    unused_peers = iter(peers)

    async def add_rooms(groups: int, directs: int) -> None:
        for i in range(groups):
            peer = peers[i % len(peers)]
            rid = (await make_group(client, me, [peer], name=f"방 {i}"))["id"]
            await send(client, peer, rid, f"<@{me.user_id}> 확인 #{i}")
        for _ in range(directs):
            peer = next(unused_peers)
            rid = (await open_direct(client, peer, me))["id"]
            await send(client, peer, rid, f"<@{me.user_id}> 안녕")

    async def list_count(expected_rooms: int) -> int:
        with count_statements(app) as log:
            r = await client.get("/api/rooms", headers=me.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()["rooms"]) == expected_rooms
        assert all(room["unread_mentions"] == 1 for room in r.json()["rooms"])
        return log.count

    await add_rooms(groups=2, directs=1)
    few = await list_count(3)
    await add_rooms(groups=12, directs=5)
    many = await list_count(20)
    assert (few, many) == (ROOM_LIST_STATEMENTS[_dialect(app)],) * 2


async def test_the_hot_paths_reuse_compiled_statements(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    """Once warm, a send, a history page and the room list compile nothing: each statement is
    a compiled-cache hit (a construct SQLAlchemy cannot cache would compile on every call)."""
    owner = await create_user(client, admin)
    others = [await create_user(client, admin) for _ in range(2)]
    rid = await _busy_room(client, owner, others, 8)

    async def round_trip(i: int) -> None:
        await send(client, owner, rid, f"<@{others[0].user_id}> 확인 {i}")
        for path in (f"/api/rooms/{rid}/messages?limit=50", "/api/rooms", f"/api/rooms/{rid}"):
            r = await client.get(path, headers=owner.headers)
            assert r.status_code == 200, r.text

    await round_trip(0)
    with _cache_use(app) as seen:
        await round_trip(1)
    # a send with a mention 8 (SEND_STATEMENTS + the mentioned members + their rows), a history
    # page 7, the room list 2, one room's summary 2
    assert len(seen) == 19, "\n".join(f"{h} {t[:90]}" for h, t in seen)
    assert [s for s in seen if s[0] != "CACHE_HIT"] == []
