"""Repository for read positions (room_members.last_read_seq)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sodam.db.tables import room_members
from sodam.domain.ids import RoomId, UserId


def advance_last_read(
    conn: sa.Connection, room_id: RoomId, user_id: UserId, seq: int, now: dt.datetime
) -> bool:
    """Moves the read position forward only (monotonic); False when it was already there."""
    result = conn.execute(
        sa.update(room_members)
        .where(
            room_members.c.room_id == room_id,
            room_members.c.user_id == user_id,
            room_members.c.last_read_seq < seq,
        )
        .values(last_read_seq=seq, last_read_at=now)
    )
    return result.rowcount == 1


def set_last_read(
    conn: sa.Connection, room_id: RoomId, user_id: UserId, seq: int, now: dt.datetime
) -> None:
    """Sets the read position, backwards too ("mark as unread")."""
    conn.execute(
        sa.update(room_members)
        .where(room_members.c.room_id == room_id, room_members.c.user_id == user_id)
        .values(last_read_seq=seq, last_read_at=now)
    )


def select_laggards(conn: sa.Connection, room_id: RoomId, below_seq: int) -> list[tuple[int, int]]:
    """(user_id, last_read_seq) of members who have not read ``below_seq``: the only ones that
    count toward any unread number of messages up to it. Uses the (room_id, last_read_seq)
    index, so a large room where most members are caught up stays cheap."""
    rows = conn.execute(
        sa.select(room_members.c.user_id, room_members.c.last_read_seq).where(
            room_members.c.room_id == room_id, room_members.c.last_read_seq < below_seq
        )
    )
    return [(r.user_id, r.last_read_seq) for r in rows]


def select_read_positions(conn: sa.Connection, room_id: RoomId) -> list[tuple[int, int]]:
    rows = conn.execute(
        sa.select(room_members.c.user_id, room_members.c.last_read_seq)
        .where(room_members.c.room_id == room_id)
        .order_by(room_members.c.user_id)
    )
    return [(r.user_id, r.last_read_seq) for r in rows]


def select_unread_members(
    conn: sa.Connection,
    room_id: RoomId,
    seq: int,
    sender_id: int | None,
    *,
    after_user_id: int,
    limit: int,
) -> list[int]:
    query = (
        sa.select(room_members.c.user_id)
        .where(
            room_members.c.room_id == room_id,
            room_members.c.last_read_seq < seq,
            room_members.c.user_id > after_user_id,
        )
        .order_by(room_members.c.user_id)
        .limit(limit)
    )
    if sender_id is not None:
        query = query.where(room_members.c.user_id != sender_id)
    return [int(u) for u in (conn.execute(query)).scalars()]
