"""Creating the benchmark's users, rooms and access tokens.

Two ways, both producing a ``World``:

- ``rest``: through the admin REST API of a running server, in parallel: the admin logs in,
  creates each user (``POST /api/admin/users``), each user logs in (``POST /api/auth/login``), and
  the first member of each room creates it (``POST /api/rooms``). Every user costs the server one
  argon2id hash and one verification (about 0.4 s + 0.25 s of CPU here), so this is for tens of
  users.
- ``direct``: through the application's own services and repositories on the server's database
  (the benchmark started the server and knows its database URL and token signing key): users
  are created by ``AccountService.create_user`` with a cheap argon2 cost (they never log in with
  a password), a session row is inserted per user with ``sessions_repo.insert_session`` and an
  access token minted for it with the server's ``TokenCodec`` and key, and rooms are created by
  ``RoomService.create_group``. The data is exactly what the REST path would store; only the
  password hashing and login round trips are skipped. Needed for 1,000 to 5,000 users.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass, field

import httpx

ROOM_NAME = "벤치마크 방 {}"
PASSWORD = "bench-password-" + "x" * 8


@dataclass
class BenchUser:
    id: int
    username: str
    token: str


@dataclass
class BenchRoom:
    id: int
    member_ids: list[int]
    head: int  # last_event_seq when the world was built: the members' resume cursor


@dataclass
class World:
    users: list[BenchUser]
    rooms: list[BenchRoom]
    setup: str
    setup_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def rooms_of(self) -> dict[int, list[BenchRoom]]:
        out: dict[int, list[BenchRoom]] = {u.id: [] for u in self.users}
        for room in self.rooms:
            for member in room.member_ids:
                out.setdefault(member, []).append(room)
        return out


def layout(n_users: int, n_rooms: int, rooms_per_user: int = 1) -> list[list[int]]:
    """Member indexes of each room, every user in ``rooms_per_user`` different rooms of equal size.

    Rooms form ``rooms_per_user`` layers of ``n_rooms / rooms_per_user`` rooms; in layer ``k``
    user ``u`` joins room ``(u + k * (u // width)) % width`` of the layer, a permutation inside
    each block of ``width`` users, so sizes stay equal and the layers group users differently.
    """
    if n_rooms % rooms_per_user:
        raise ValueError("n_rooms must be a multiple of rooms_per_user")
    width = n_rooms // rooms_per_user
    rooms: list[list[int]] = [[] for _ in range(n_rooms)]
    for user in range(n_users):
        for k in range(rooms_per_user):
            rooms[k * width + (user + k * (user // width)) % width].append(user)
    for members in rooms:
        members.sort()
    return rooms


# --- REST ------------------------------------------------------------------------------------


async def build_rest(
    base_url: str,
    admin_user: str,
    admin_password: str,
    rooms: list[list[int]],
    n_users: int,
    *,
    tag: str,
    concurrency: int = 8,
) -> World:
    started = asyncio.get_running_loop().time()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0, limits=limits) as http:
        admin_token = await _login(http, admin_user, admin_password)
        gate = asyncio.Semaphore(concurrency)

        async def make_user(i: int) -> BenchUser:
            username = f"bench-{tag}-{i:05d}"
            async with gate:
                r = await http.post(
                    "/api/admin/users",
                    json={
                        "username": username,
                        "password": PASSWORD,
                        "display_name": f"벤치 {i}",
                    },
                    headers={"Authorization": f"Bearer {admin_token}"},
                )
                r.raise_for_status()
                token = await _login(http, username, PASSWORD)
            return BenchUser(id=int(r.json()["id"]), username=username, token=token)

        users = list(await asyncio.gather(*(make_user(i) for i in range(n_users))))

        async def make_room(k: int, members: list[int]) -> BenchRoom:
            owner = users[members[0]]
            async with gate:
                r = await http.post(
                    "/api/rooms",
                    json={
                        "kind": "group",
                        "name": ROOM_NAME.format(k),
                        "member_ids": [users[m].id for m in members[1:]],
                    },
                    headers={"Authorization": f"Bearer {owner.token}"},
                )
            r.raise_for_status()
            body = r.json()
            return BenchRoom(
                id=int(body["id"]),
                member_ids=[users[m].id for m in members],
                head=int(body["last_event_seq"]),
            )

        made = await asyncio.gather(*(make_room(k, m) for k, m in enumerate(rooms)))
    return World(
        users=users,
        rooms=list(made),
        setup="rest",
        setup_s=asyncio.get_running_loop().time() - started,
    )


async def _login(http: httpx.AsyncClient, username: str, password: str) -> str:
    r = await http.post("/api/auth/login", json={"username": username, "password": password})
    r.raise_for_status()
    return str(r.json()["access_token"])


# --- direct ----------------------------------------------------------------------------------


async def build_direct(
    database_url: str,
    secret_key: str,
    rooms: list[list[int]],
    n_users: int,
    *,
    tag: str,
    access_ttl_s: int = 7200,
    concurrency: int = 64,
) -> World:
    """Users, sessions, tokens and rooms through the app's services on its database."""
    import sqlalchemy as sa

    from sodam.bus.memory import MemoryBus
    from sodam.config import AuthSettings
    from sodam.db import sessions as sessions_repo
    from sodam.db.engine import Database, create_engine
    from sodam.domain.clock import SystemClock
    from sodam.domain.ids import SessionId, UserId
    from sodam.services.accounts import AccountService
    from sodam.services.context import Principal
    from sodam.services.passwords import PasswordHasher
    from sodam.services.rooms import RoomService
    from sodam.services.tokens import TokenCodec

    started = asyncio.get_running_loop().time()
    clock = SystemClock()
    bus = MemoryBus()  # nobody listens: no client is connected while the world is built
    db = Database(create_engine(database_url, pool_size=8, sqlite_synchronous="NORMAL"))
    cheap = PasswordHasher(time_cost=1, memory_cost_kib=64, parallelism=1)
    accounts = AccountService(db, clock, cheap, bus, AuthSettings())
    room_service = RoomService(db, clock, bus)
    codec = TokenCodec(secret_key, access_ttl_s=access_ttl_s, leeway_s=30)
    gate = asyncio.Semaphore(concurrency)
    try:

        async def make_user(i: int) -> tuple[BenchUser, Principal]:
            username = f"bench-{tag}-{i:05d}"
            async with gate:
                user = await accounts.create_user(
                    None, username=username, password=PASSWORD, display_name=f"벤치 {i}"
                )
                session_id = SessionId(secrets.token_hex(16))
                now = clock.now()

                def session_txn(conn: sa.Connection) -> None:
                    sessions_repo.insert_session(
                        conn,
                        session_id=session_id,
                        user_id=UserId(user.id),
                        device_name="bench",
                        user_agent="bench/chat",
                        ip_address="127.0.0.1",
                        auth_method="password",
                        now=now,
                        expires_at=now + dt.timedelta(days=1),
                    )

                await db.write(session_txn)
            token = codec.issue_access(UserId(user.id), session_id, now)
            return BenchUser(user.id, username, token), Principal(user, session_id)

        made = await asyncio.gather(*(make_user(i) for i in range(n_users)))
        users = [u for u, _ in made]
        principals = [p for _, p in made]

        async def make_room(k: int, members: list[int]) -> BenchRoom:
            async with gate:
                summary = await room_service.create_group(
                    principals[members[0]],
                    name=ROOM_NAME.format(k),
                    topic=None,
                    member_ids=[users[m].id for m in members[1:]],
                )
            return BenchRoom(
                id=summary.room.id,
                member_ids=[users[m].id for m in members],
                head=summary.room.last_event_seq,
            )

        bench_rooms = list(await asyncio.gather(*(make_room(k, m) for k, m in enumerate(rooms))))
    finally:
        await db.dispose()
    return World(
        users=users,
        rooms=bench_rooms,
        setup="direct",
        setup_s=asyncio.get_running_loop().time() - started,
    )


async def room_heads(base_url: str, token: str, room_ids: list[int]) -> dict[int, int]:
    """Each room's current last_event_seq, as one member sees it over REST."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        out: dict[int, int] = {}
        for room_id in room_ids:
            r = await http.get(
                f"/api/rooms/{room_id}", headers={"Authorization": f"Bearer {token}"}
            )
            r.raise_for_status()
            out[room_id] = int(r.json()["last_event_seq"])
        return out
