"""The query plans of the hot read paths: ``python -m bench.chat.explain --database-url URL``.

Runs the app's own repository code for the room list and a history page against an existing
database (typically one the ``history`` scenario seeded and kept: ``--keep``), records every
statement it executes with its parameters, then prints each statement's plan: ``EXPLAIN QUERY
PLAN`` on SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL. Each statement is also timed
(best of ``--repeat`` runs, plain execution, rows fetched). Nothing is written.

The viewer defaults to the member of the most rooms, the room to that viewer's largest room.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa


def _capture(engine: sa.Engine, fn: Callable[[sa.Connection], Any]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def before(
        _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: bool
    ) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as conn, conn.begin():
            fn(conn)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    return seen


def _plan(conn: sa.Connection, statement: str, params: Any) -> list[str]:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            return [f"{'  ' * _depth(r, cursor)}{r[3]}" for r in cursor.fetchall()]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        return [r[0] for r in cursor.fetchall()]
    finally:
        cursor.close()


_PARENTS: dict[int, int] = {}


def _depth(row: Any, _cursor: Any) -> int:
    node, parent = int(row[0]), int(row[1])
    depth = _PARENTS.get(parent, -1) + 1
    _PARENTS[node] = depth
    return depth


def _time(conn: sa.Connection, statement: str, params: Any, repeat: int) -> float:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    best = float("inf")
    try:
        for _ in range(repeat):
            t = time.perf_counter()
            cursor.execute(statement, params)
            cursor.fetchall()
            best = min(best, time.perf_counter() - t)
    finally:
        cursor.close()
    return best * 1000


def _defaults(conn: sa.Connection) -> tuple[int, int]:
    from sodam.db.tables import chat_rooms, room_members

    viewer = conn.execute(
        sa.select(room_members.c.user_id)
        .group_by(room_members.c.user_id)
        .order_by(sa.func.count().desc(), room_members.c.user_id)
        .limit(1)
    ).scalar_one()
    room = conn.execute(
        sa.select(chat_rooms.c.id)
        .join(room_members, room_members.c.room_id == chat_rooms.c.id)
        .where(room_members.c.user_id == viewer)
        .order_by(chat_rooms.c.member_count.desc(), chat_rooms.c.id)
        .limit(1)
    ).scalar_one()
    return int(viewer), int(room)


def main() -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.chat.explain", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--database-url", required=True)
    p.add_argument("--user-id", type=int)
    p.add_argument("--room-id", type=int)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()

    from sodam.db import messages as messages_repo
    from sodam.db import rooms as rooms_repo
    from sodam.db.engine import create_engine
    from sodam.domain.ids import RoomId, UserId
    from sodam.services.views import build_views_txn

    engine = create_engine(args.database_url, pool_size=1)
    with engine.connect() as conn:
        viewer, room = _defaults(conn)
    viewer = args.user_id or viewer
    room = args.room_id or room

    def room_list(conn: sa.Connection) -> None:
        rooms_repo.select_room_list(conn, UserId(viewer))

    def one_room(conn: sa.Connection) -> None:
        rooms_repo.select_room_list(conn, UserId(viewer), RoomId(room))

    def history_page(conn: sa.Connection) -> None:
        _room, membership = rooms_repo.select_room_and_membership(  # type: ignore[misc]
            conn, RoomId(room), UserId(viewer)
        )
        msgs = messages_repo.select_history(
            conn, RoomId(room), visible_from_seq=membership.visible_from_seq, limit=50
        )
        build_views_txn(conn, RoomId(room), msgs)

    print(f"{engine.dialect.name}: viewer {viewer}, room {room}")
    for name, fn in (
        ("room list", room_list),
        ("room list, one room", one_room),
        ("history page", history_page),
    ):
        print(f"\n=== {name}")
        for i, (statement, params) in enumerate(_capture(engine, fn), 1):
            with engine.connect() as conn, conn.begin():
                _PARENTS.clear()
                plan = _plan(conn, statement, params)
                ms = _time(conn, statement, params, args.repeat)
            print(f"\n--- {i}. {ms:.2f} ms (best of {args.repeat})")
            print(" ".join(statement.split()))
            for line in plan:
                print("    " + line)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
