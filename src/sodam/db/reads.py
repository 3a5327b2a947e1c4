"""Repository for read positions (room_members.last_read_seq)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sodam.db.tables import room_members
from sodam.domain.ids import RoomId, UserId

_b = sa.bindparam

# Built once with bind parameters (see db/messages.py). SET values are named set_<column>:
# SQLAlchemy reserves a column's own name for its automatic SET parameter.
_SET_READ = {
    "last_read_seq": _b("set_last_read_seq", type_=room_members.c.last_read_seq.type),
    "last_read_at": _b("set_last_read_at", type_=room_members.c.last_read_at.type),
}
_THIS_MEMBER = (
    room_members.c.room_id == _b("where_room_id"),
    room_members.c.user_id == _b("where_user_id"),
)
_ADVANCE_READ = (
    sa.update(room_members)
    .where(*_THIS_MEMBER, room_members.c.last_read_seq < _b("set_last_read_seq"))
    .values(**_SET_READ)
)
_SET_READ_POSITION = sa.update(room_members).where(*_THIS_MEMBER).values(**_SET_READ)
_LAGGARDS = sa.select(room_members.c.user_id, room_members.c.last_read_seq).where(
    room_members.c.room_id == _b("room_id"), room_members.c.last_read_seq < _b("below_seq")
)
_READ_POSITIONS = (
    sa.select(room_members.c.user_id, room_members.c.last_read_seq)
    .where(room_members.c.room_id == _b("room_id"))
    .order_by(room_members.c.user_id)
)
_UNREAD_MEMBERS = sa.select(room_members.c.user_id).where(
    room_members.c.room_id == _b("room_id"),
    room_members.c.last_read_seq < _b("seq"),
    room_members.c.user_id > _b("after_user_id"),
)
_UNREAD_MEMBERS_ALL = _UNREAD_MEMBERS.order_by(room_members.c.user_id).limit(_b("limit"))
_UNREAD_MEMBERS_BUT_SENDER = (
    _UNREAD_MEMBERS.where(room_members.c.user_id != _b("sender_id"))
    .order_by(room_members.c.user_id)
    .limit(_b("limit"))
)


def advance_last_read(
    conn: sa.Connection, room_id: RoomId, user_id: UserId, seq: int, now: dt.datetime
) -> bool:
    """Moves the read position forward only (monotonic); False when it was already there."""
    result = conn.execute(
        _ADVANCE_READ,
        {
            "where_room_id": room_id,
            "where_user_id": user_id,
            "set_last_read_seq": seq,
            "set_last_read_at": now,
        },
    )
    return result.rowcount == 1


def set_last_read(
    conn: sa.Connection, room_id: RoomId, user_id: UserId, seq: int, now: dt.datetime
) -> None:
    """Sets the read position, backwards too ("mark as unread")."""
    conn.execute(
        _SET_READ_POSITION,
        {
            "where_room_id": room_id,
            "where_user_id": user_id,
            "set_last_read_seq": seq,
            "set_last_read_at": now,
        },
    )


def select_laggards(conn: sa.Connection, room_id: RoomId, below_seq: int) -> list[tuple[int, int]]:
    """(user_id, last_read_seq) of members who have not read ``below_seq``: the only ones that
    count toward any unread number of messages up to it. Uses the (room_id, last_read_seq)
    index, so a large room where most members are caught up stays cheap."""
    rows = conn.execute(_LAGGARDS, {"room_id": room_id, "below_seq": below_seq})
    # Unpacked, not r.user_id: a Row's attribute access costs ~1 us (db/messages.py).
    return [(user_id, last_read_seq) for user_id, last_read_seq in rows]


def select_read_positions(conn: sa.Connection, room_id: RoomId) -> list[tuple[int, int]]:
    rows = conn.execute(_READ_POSITIONS, {"room_id": room_id})
    return [(user_id, last_read_seq) for user_id, last_read_seq in rows]


def select_unread_members(
    conn: sa.Connection,
    room_id: RoomId,
    seq: int,
    sender_id: int | None,
    *,
    after_user_id: int,
    limit: int,
) -> list[int]:
    params = {"room_id": room_id, "seq": seq, "after_user_id": after_user_id, "limit": limit}
    if sender_id is None:
        rows = conn.execute(_UNREAD_MEMBERS_ALL, params)
    else:
        rows = conn.execute(_UNREAD_MEMBERS_BUT_SENDER, {**params, "sender_id": sender_id})
    return [int(u) for u in rows.scalars()]
