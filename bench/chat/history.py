"""Reading at scale: a user in 500 rooms with 1,000,000 messages stored.

Seeding (direct, documented in docs/performance.md):

1. 1,000 users, and 500 group rooms all owned by user 0 (the viewer), through the app's services
   (``setup.build_direct``): room 0 holds all 1,000 users, rooms 1-499 the viewer and 4 others.
2. Messages by bulk INSERT through the app's table definitions (``sodam.db.tables.messages``,
   SQLAlchemy Core ``executemany`` in chunks of 10,000): 200,000 in the 1,000-member room and the
   rest spread evenly over the other 499, each with the next ``seq`` and ``event_seq`` of its
   room; each room's ``last_seq``, ``last_event_seq`` and ``last_message_at`` are then set as the
   send path would have left them. One message in 200 mentions the viewer
   (``message_mentions``).
3. Read positions: every member of every room is 0-300 messages behind (uniformly random), so
   unread counts and the per-message "unread members" numbers are all non-trivial.

Then, against the running server over HTTP (httpx, one connection, sequential requests after 10
warm-up requests), as the viewer: ``GET /api/rooms`` (the room list with unread counts) and
``GET /api/rooms/{big}/messages?limit=50`` (the newest page, where every message has unread
members), plus 50-message pages at random positions (``before=<seq>``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
from typing import Any

import httpx

from bench.chat.procstats import ProcSampler
from bench.chat.scenarios import Scenario
from bench.chat.servers import Stack
from bench.chat.setup import World, build_direct
from bench.chat.stats import percentiles

CHUNK = 10_000
BEHIND_MAX = 300
MENTION_EVERY = 200
BODY = "오늘 회의 자료 공유드립니다. 확인 부탁드려요!"


def history_layout(n_users: int, n_rooms: int) -> list[list[int]]:
    rooms = [list(range(n_users))]
    for k in range(1, n_rooms):
        others = sorted({1 + (k * 4 + j) % (n_users - 1) for j in range(4)})
        rooms.append([0, *others])
    return rooms


def seed_messages(database_url: str, world: World, total: int, big: int) -> dict[str, Any]:
    """Bulk-inserts the messages, room heads, mentions and read positions (sync; in a thread)."""
    import sqlalchemy as sa

    from sodam.db.engine import create_engine
    from sodam.db.tables import chat_rooms, message_mentions, messages, room_members

    rng = random.Random(4)  # reproducible test data
    engine = create_engine(database_url, pool_size=2, sqlite_synchronous="NORMAL")
    viewer = world.users[0].id
    per_room = (total - big) // max(1, len(world.rooms) - 1)
    started = time.monotonic()
    base = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    inserted = 0
    try:
        for index, room in enumerate(world.rooms):
            count = big if index == 0 else per_room
            with engine.begin() as conn:
                head = conn.execute(
                    sa.select(chat_rooms.c.last_seq, chat_rooms.c.last_event_seq).where(
                        chat_rooms.c.id == room.id
                    )
                ).one()
                seq0, ev0 = int(head.last_seq), int(head.last_event_seq)
                members = room.member_ids
                # Rooms interleave in time so the room list order is not the creation order.
                step = dt.timedelta(seconds=30 * 86400 / max(count, 1))
                offset = dt.timedelta(seconds=index)
                rows = []
                for i in range(1, count + 1):
                    rows.append(
                        {
                            "room_id": room.id,
                            "seq": seq0 + i,
                            "event_seq": ev0 + i,
                            "sender_id": members[i % len(members)],
                            "client_msg_id": f"seed-{room.id}-{i}",
                            "kind": "text",
                            "body": f"{i}번째 메시지: {BODY}",
                            "mentions_all": False,
                            "created_at": base + step * i + offset,
                        }
                    )
                    if len(rows) == CHUNK:
                        conn.execute(sa.insert(messages), rows)
                        rows = []
                if rows:
                    conn.execute(sa.insert(messages), rows)
                inserted += count
                last_seq = seq0 + count
                conn.execute(
                    sa.update(chat_rooms)
                    .where(chat_rooms.c.id == room.id)
                    .values(
                        last_seq=last_seq,
                        last_event_seq=ev0 + count,
                        last_message_at=base + step * count + offset,
                    )
                )
                mentioned = conn.execute(
                    sa.select(messages.c.id, messages.c.seq).where(
                        messages.c.room_id == room.id,
                        messages.c.seq > seq0,
                        messages.c.seq % MENTION_EVERY == 0,
                    )
                ).all()
                if mentioned:
                    conn.execute(
                        sa.insert(message_mentions),
                        [
                            {"message_id": m.id, "user_id": viewer, "room_id": room.id}
                            | {"seq": m.seq}
                            for m in mentioned
                        ],
                    )
                conn.execute(
                    sa.update(room_members)
                    .where(
                        room_members.c.room_id == sa.bindparam("r"),
                        room_members.c.user_id == sa.bindparam("u"),
                    )
                    .values(last_read_seq=sa.bindparam("s")),
                    [
                        {"r": room.id, "u": m, "s": max(0, last_seq - rng.randint(0, BEHIND_MAX))}
                        for m in members
                    ],
                )
            if index % 50 == 0:
                print(
                    f"[history] seeded {inserted:,} messages ({index + 1} rooms)", file=sys.stderr
                )
        # PostgreSQL: fresh statistics, as autovacuum would gather after such a bulk load.
        # SQLite: none, as in production (the server never runs ANALYZE), so its planner works
        # from the schema alone. (Before, an uncommitted ANALYZE was rolled back on SQLite and
        # failed on PostgreSQL.)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return {"messages": inserted, "seed_s": round(time.monotonic() - started, 1)}


def _cpu_by_group(report: dict[str, Any]) -> dict[str, float]:
    return {
        name: float(v["cpu_s"])
        for name, v in report.items()
        if isinstance(v, dict) and name in ("server", "postgres")
    }


async def timed_gets(
    http: httpx.AsyncClient, token: str, paths: list[str], warmup: int = 10
) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    for path in paths[:warmup]:
        (await http.get(path, headers=headers)).raise_for_status()
    out = []
    for path in paths:
        t = time.perf_counter()
        r = await http.get(path, headers=headers)
        out.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return out


async def run_history(
    sc: Scenario,
    args: argparse.Namespace,
    stack: Stack | None,
    urls: list[str],
    sampler: ProcSampler,
) -> tuple[dict[str, Any], dict[str, Any]]:
    database_url = stack.database_url if stack else args.database_url
    secret = stack.secret_key if stack else args.secret_key
    if not (database_url and secret):
        raise SystemExit("history seeds directly: it needs --database-url and --secret-key")
    total = int(sc.extra["messages"])
    big = int(sc.extra["big_room_messages"])
    requests = int(sc.extra["requests"])
    print(f"[history] creating {sc.users} users and {sc.rooms} rooms ...", file=sys.stderr)
    world = await build_direct(
        database_url,
        secret,
        history_layout(sc.users, sc.rooms),
        sc.users,
        tag=f"hist{int(time.time()) % 100000}",
    )
    seeded = await asyncio.to_thread(seed_messages, database_url, world, total, big)
    setup_info = {"setup": "direct", "setup_s": round(world.setup_s, 1), **seeded}
    viewer = world.users[0]
    big_room = world.rooms[0]
    async with httpx.AsyncClient(base_url=urls[0], timeout=60.0) as http:
        r = await http.get(
            f"/api/rooms/{big_room.id}", headers={"Authorization": f"Bearer {viewer.token}"}
        )
        r.raise_for_status()
        last_seq = int(r.json()["last_seq"])
        sampler.mark()
        phases = [_cpu_by_group(sampler.report())]
        room_list = await timed_gets(http, viewer.token, ["/api/rooms"] * requests)
        phases.append(_cpu_by_group(sampler.report()))
        latest = await timed_gets(
            http, viewer.token, [f"/api/rooms/{big_room.id}/messages?limit=50"] * requests
        )
        phases.append(_cpu_by_group(sampler.report()))
        rng = random.Random(7)  # reproducible positions
        paths = [
            f"/api/rooms/{big_room.id}/messages?limit=50&before={rng.randint(51, last_seq)}"
            for _ in range(requests)
        ]
        randoms = await timed_gets(http, viewer.token, paths)
        server = sampler.report()
        phases.append(_cpu_by_group(server))
        listing = (
            await http.get("/api/rooms", headers={"Authorization": f"Bearer {viewer.token}"})
        ).json()
    result = {
        "rooms_in_list": len(listing["rooms"]),
        "total_unread": listing["total_unread"],
        "messages_stored": seeded["messages"],
        "big_room_members": len(big_room.member_ids),
        "room_list_ms": percentiles(room_list),
        "history_latest_ms": percentiles(latest),
        "history_random_ms": percentiles(randoms),
        # CPU per request of each process group (server node(s), PostgreSQL) in each phase,
        # warm-up requests included: steadier than latency on a shared machine.
        "cpu_ms_per_request": {
            phase: {
                group: round(1000 * (after[group] - before[group]) / (requests + 10), 2)
                for group in after
            }
            for phase, before, after in zip(
                ("room_list", "history_latest", "history_random"),
                phases[:-1],
                phases[1:],
                strict=True,
            )
        },
        "server": server,
    }
    return result, setup_info
