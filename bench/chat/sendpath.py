"""The server-side cost of one send, without WebSockets: ``python -m bench.chat.sendpath``.

Runs in this process against a fresh SQLite database (WAL, synchronous=FULL, the app's
``Database`` with its group-commit writer thread), with ``--concurrency`` senders in one room:

- ``service``: ``MessageService.send_message`` as the gateway calls it (the real send path);
- ``prebuilt``: the same five statements (authorise, idempotency lookup, take seqs, insert, move
  the sender's read position) as SQLAlchemy Core statements built once with bind parameters;
- ``driver``: the same five statements as SQL text on the DB-API cursor (SQLite's own floor).

The three share the writer thread and the group commit, so the differences are the CPU spent in
Python per send: what building statements per call costs, and what a prebuilt-statement
repository would save (docs/performance.md, "next steps").
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvloop

from bench.chat.setup import BenchUser, build_direct, layout


async def _drive(
    n: int, concurrency: int, send: Callable[[int, int], Awaitable[None]]
) -> dict[str, float]:
    per = n // concurrency
    cpu0, t0 = time.process_time(), time.perf_counter()

    async def one(worker: int) -> None:
        for k in range(per):
            await send(worker, k)

    await asyncio.gather(*(one(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    done = per * concurrency
    return {
        "sends": done,
        "sends_per_s": round(done / elapsed, 1),
        "cpu_us_per_send": round(cpu / done * 1e6, 1),
    }


def _prebuilt_statements() -> dict[str, Any]:
    from sodam.db.tables import chat_rooms, messages, room_members

    b = sa.bindparam
    return {
        "member": sa.select(chat_rooms, room_members.c.role, room_members.c.last_read_seq)
        .join(room_members, room_members.c.room_id == chat_rooms.c.id)
        .where(chat_rooms.c.id == b("room"), room_members.c.user_id == b("user")),
        "existing": sa.select(messages.c.id).where(
            messages.c.room_id == b("room"),
            messages.c.sender_id == b("user"),
            messages.c.client_msg_id == b("cmid"),
        ),
        "seqs": sa.update(chat_rooms)
        .where(chat_rooms.c.id == b("room"))
        .values(
            last_seq=chat_rooms.c.last_seq + 1,
            last_event_seq=chat_rooms.c.last_event_seq + 1,
            last_message_at=b("now"),
        )
        .returning(chat_rooms.c.last_seq, chat_rooms.c.last_event_seq),
        "insert": sa.insert(messages).returning(messages.c.id),
        "read": sa.update(room_members)
        .where(
            room_members.c.room_id == b("room"),
            room_members.c.user_id == b("user"),
            room_members.c.last_read_seq < b("seq"),
        )
        .values(last_read_seq=b("seq"), last_read_at=b("now")),
    }


DRIVER_SQL = {
    "member": "SELECT chat_rooms.*, room_members.role, room_members.last_read_seq FROM chat_rooms "
    "JOIN room_members ON room_members.room_id = chat_rooms.id "
    "WHERE chat_rooms.id = ? AND room_members.user_id = ?",
    "existing": "SELECT id FROM messages WHERE room_id = ? AND sender_id = ? AND client_msg_id = ?",
    "seqs": "UPDATE chat_rooms SET last_seq = last_seq + 1, last_event_seq = last_event_seq + 1, "
    "last_message_at = ? WHERE id = ? RETURNING last_seq, last_event_seq",
    "insert": "INSERT INTO messages (room_id, seq, event_seq, sender_id, client_msg_id, kind, "
    "body, mentions_all, created_at) VALUES (?, ?, ?, ?, ?, 'text', ?, 0, ?) RETURNING id",
    "read": "UPDATE room_members SET last_read_seq = ?, last_read_at = ? "
    "WHERE room_id = ? AND user_id = ? AND last_read_seq < ?",
}


async def run(n: int, concurrency: int, variants: list[str]) -> dict[str, Any]:
    from sodam.bus.memory import MemoryBus
    from sodam.config import LimitSettings
    from sodam.db import migrate
    from sodam.db.engine import Database, create_engine
    from sodam.domain.clock import SystemClock
    from sodam.domain.ids import RoomId
    from sodam.services.messages import MessageService

    root = Path(tempfile.mkdtemp(prefix="sodam-sendpath-"))
    url = f"sqlite:///{root / 'sodam.db'}"
    try:
        engine = create_engine(url, sqlite_synchronous="FULL")
        migrate.upgrade_sync(engine)
        engine.dispose()
        world = await build_direct(
            url, secrets.token_urlsafe(48), layout(concurrency, 1), concurrency, tag="sp"
        )
        room = world.rooms[0].id
        db = Database(create_engine(url, sqlite_synchronous="FULL"))
        service = MessageService(db, SystemClock(), MemoryBus(), LimitSettings())
        principals = await _principals(db, world.users)
        body = "오늘 회의 자료 공유드립니다. 확인 부탁드려요!"
        out: dict[str, Any] = {"n": n, "concurrency": concurrency}

        async def via_service(worker: int, k: int) -> None:
            await service.send_message(
                principals[worker], RoomId(room), client_msg_id=f"svc-msg-{worker}-{k}", body=body
            )

        await _drive(200, concurrency, via_service)  # warm-up
        if "service" in variants:
            out["service"] = await _drive(n, concurrency, via_service)

        stmts = _prebuilt_statements()
        users = [u.id for u in world.users]

        async def via_prebuilt(worker: int, k: int) -> None:
            def txn(conn: sa.Connection) -> None:
                now = dt.datetime.now(dt.UTC)
                user = users[worker]
                cmid = f"pre-msg-{worker}-{k}"
                conn.execute(stmts["member"], {"room": room, "user": user}).one()
                conn.execute(stmts["existing"], {"room": room, "user": user, "cmid": cmid}).first()
                seq, ev = conn.execute(stmts["seqs"], {"room": room, "now": now}).one()
                conn.execute(
                    stmts["insert"],
                    {
                        "room_id": room,
                        "seq": seq,
                        "event_seq": ev,
                        "sender_id": user,
                        "client_msg_id": cmid,
                        "kind": "text",
                        "body": body,
                        "mentions_all": False,
                        "created_at": now,
                    },
                ).scalar_one()
                conn.execute(stmts["read"], {"room": room, "user": user, "seq": seq, "now": now})

            await db.write(txn)

        if "prebuilt" in variants:
            out["prebuilt"] = await _drive(n, concurrency, via_prebuilt)

        async def via_driver(worker: int, k: int) -> None:
            def txn(conn: sa.Connection) -> None:
                now = dt.datetime.now(dt.UTC).isoformat()
                user = users[worker]
                cmid = f"drv-msg-{worker}-{k}"
                cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cur.execute(DRIVER_SQL["member"], (room, user)).fetchone()
                cur.execute(DRIVER_SQL["existing"], (room, user, cmid)).fetchone()
                seq, ev = cur.execute(DRIVER_SQL["seqs"], (now, room)).fetchone()
                cur.execute(DRIVER_SQL["insert"], (room, seq, ev, user, cmid, body, now))
                cur.fetchone()
                cur.execute(DRIVER_SQL["read"], (seq, now, room, user, seq))
                cur.close()

            await db.write(txn)

        if "driver" in variants:
            out["driver"] = await _drive(n, concurrency, via_driver)
        await db.dispose()
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _principals(db: Any, users: list[BenchUser]) -> list[Any]:
    from sodam.db import users as users_repo
    from sodam.domain.ids import SessionId, UserId
    from sodam.services.context import Principal

    found = await db.read(lambda conn: [users_repo.select_user(conn, UserId(u.id)) for u in users])
    return [Principal(user=u, session_id=SessionId("bench")) for u in found]


def main() -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.chat.sendpath", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument(
        "--variants",
        default="service,prebuilt,driver",
        help="comma-separated subset of service, prebuilt, driver (default: all three)",
    )
    args = p.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    out = uvloop.run(run(args.n, args.concurrency, variants))
    print(f"{args.n} sends by {args.concurrency} senders in one room, SQLite synchronous=FULL")
    for key in variants:
        print(f"{key:9} {out[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
