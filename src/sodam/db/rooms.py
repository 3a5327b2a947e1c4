"""Repository for rooms and memberships. Functions take a connection and never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sodam.db.messages import message_columns, message_from_row
from sodam.db.tables import chat_rooms, message_mentions, messages, profiles, room_members
from sodam.db.types import BigId
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.messages import Message
from sodam.domain.rooms import Membership, Room

# Rows are read by position (see message_from_row): a Row's attribute access costs about 1 us a
# column here, more than the room list's query itself for 500 rows of 49 columns. Every
# statement read with _room selects the whole chat_rooms table first, in its column order (so a
# new column shifts nothing by name), and _membership reads the _MEMBERSHIP_FIELDS right after.
_ROOM_AT = {name: i for i, name in enumerate(chat_rooms.c.keys())}
_MEMBERSHIP_FIELDS = (
    "room_id",
    "user_id",
    "role",
    "joined_at",
    "joined_seq",
    "visible_from_seq",
    "joined_event_seq",
    "last_read_seq",
    "muted",
    "favourite",
    "archived",
)
_MEMBERSHIP_AT = len(_ROOM_AT)


def _room(row: Sequence[Any]) -> Room:
    at = _ROOM_AT
    created_by = row[at["created_by"]]
    notice_message_id = row[at["notice_message_id"]]
    return Room(
        id=RoomId(row[at["id"]]),
        kind=row[at["kind"]],
        name=row[at["name"]],
        topic=row[at["topic"]],
        history_visibility=row[at["history_visibility"]],
        created_by=UserId(created_by) if created_by is not None else None,
        created_at=row[at["created_at"]],
        last_seq=row[at["last_seq"]],
        last_event_seq=row[at["last_event_seq"]],
        last_message_at=row[at["last_message_at"]],
        member_count=row[at["member_count"]],
        notice_message_id=MessageId(notice_message_id) if notice_message_id else None,
        archived_at=row[at["archived_at"]],
        members_can_invite=row[at["members_can_invite"]],
    )


def _membership(row: Sequence[Any]) -> Membership:
    (
        room_id,
        user_id,
        role,
        joined_at,
        joined_seq,
        visible_from_seq,
        joined_event_seq,
        last_read_seq,
        muted,
        favourite,
        archived,
    ) = row[_MEMBERSHIP_AT : _MEMBERSHIP_AT + len(_MEMBERSHIP_FIELDS)]
    return Membership(
        room_id=RoomId(room_id),
        user_id=UserId(user_id),
        role=role,
        joined_at=joined_at,
        joined_seq=joined_seq,
        visible_from_seq=visible_from_seq,
        joined_event_seq=joined_event_seq,
        last_read_seq=last_read_seq,
        muted=muted,
        favourite=favourite,
        archived=archived,
    )


def _room_columns_first(statement: sa.Select[Any], *, membership: bool) -> sa.Select[Any]:
    """``statement``, after checking it lays out its columns as _room and _membership read
    them (at import: a mistake fails loudly instead of mixing up fields)."""
    keys = list(statement.selected_columns.keys())
    expected = [*_ROOM_AT, *(_MEMBERSHIP_FIELDS if membership else ())]
    if keys[: len(expected)] != expected:
        raise RuntimeError(f"room columns out of place: {keys[: len(expected)]}")
    return statement


_b = sa.bindparam


def _set(column: sa.Column[Any]) -> sa.BindParameter[Any]:
    """A bound value for ``column`` in an UPDATE's SET clause, with the column's type. Named
    ``set_<column>``: SQLAlchemy reserves a column's own name for its automatic SET parameter."""
    return sa.bindparam(f"set_{column.name}", type_=column.type)


# Statements are built once at import, with bind parameters, and run with parameter dicts, so a
# call costs a compiled-cache lookup instead of building and compiling the statement anew
# (docs/performance.md, "The send path").
_INSERT_ROOM = sa.insert(chat_rooms).returning(chat_rooms.c.id)
_ROOM_ID_BY_DIRECT_KEY = sa.select(chat_rooms.c.id).where(chat_rooms.c.direct_key == _b("key"))
_ROOM = _room_columns_first(
    sa.select(chat_rooms).where(chat_rooms.c.id == _b("room_id")), membership=False
)
_ROOM_AND_MEMBERSHIP = _room_columns_first(
    sa.select(chat_rooms, *(room_members.c[name] for name in _MEMBERSHIP_FIELDS))
    .join(room_members, room_members.c.room_id == chat_rooms.c.id)
    .where(chat_rooms.c.id == _b("room_id"), room_members.c.user_id == _b("user_id")),
    membership=True,
)
_INSERT_MEMBER = sa.insert(room_members)
_DELETE_MEMBER = sa.delete(room_members).where(
    room_members.c.room_id == _b("room_id"), room_members.c.user_id == _b("user_id")
)
_REFRESH_MEMBER_COUNT = (
    sa.update(chat_rooms)
    .where(chat_rooms.c.id == _b("room_id"))
    .values(
        member_count=sa.select(sa.func.count())
        .where(room_members.c.room_id == _b("room_id"))
        .scalar_subquery()
    )
    .returning(chat_rooms.c.member_count)
)
_NEXT_EVENT_SEQ = (
    sa.update(chat_rooms)
    .where(chat_rooms.c.id == _b("room_id"))
    .values(last_event_seq=chat_rooms.c.last_event_seq + 1)
    .returning(chat_rooms.c.last_seq, chat_rooms.c.last_event_seq)
)
_NEXT_MESSAGE_SEQS = (
    sa.update(chat_rooms)
    .where(chat_rooms.c.id == _b("room_id"))
    .values(
        last_event_seq=chat_rooms.c.last_event_seq + 1,
        last_seq=chat_rooms.c.last_seq + 1,
        last_message_at=_set(chat_rooms.c.last_message_at),
    )
    .returning(chat_rooms.c.last_seq, chat_rooms.c.last_event_seq)
)
# The columns to change come as parameters named after them (SQLAlchemy adds them to SET).
_UPDATE_ROOM = sa.update(chat_rooms).where(chat_rooms.c.id == _b("where_room_id"))
_UPDATE_MEMBER = sa.update(room_members).where(
    room_members.c.room_id == _b("where_room_id"), room_members.c.user_id == _b("where_user_id")
)
_MEMBER_ROOM_IDS = sa.select(room_members.c.room_id).where(room_members.c.user_id == _b("user_id"))
_MEMBERS_PAGE = (
    sa.select(
        room_members.c.user_id,
        profiles.c.display_name,
        room_members.c.role,
        room_members.c.joined_at,
        room_members.c.last_read_seq,
    )
    .join(profiles, profiles.c.user_id == room_members.c.user_id)
    .where(room_members.c.room_id == _b("room_id"), room_members.c.user_id > _b("after_user_id"))
    .order_by(room_members.c.user_id)
    .limit(_b("limit"))
)
_MEMBER_USER_IDS = sa.select(room_members.c.user_id).where(room_members.c.room_id == _b("room_id"))
_OLDEST_OTHER_MEMBER = (
    sa.select(room_members.c.user_id)
    .where(room_members.c.room_id == _b("room_id"), room_members.c.user_id != _b("user_id"))
    .order_by(
        sa.case((room_members.c.role == "admin", 0), else_=1),
        room_members.c.joined_at,
        room_members.c.user_id,
    )
    .limit(1)
)
_MEMBERS_AMONG = (
    sa.select(room_members.c.user_id)
    .where(
        room_members.c.room_id == _b("room_id"),
        room_members.c.user_id.in_(_b("user_ids", expanding=True)),
    )
    .order_by(room_members.c.user_id)
)
_MAX_VISIBLE_FROM = sa.select(sa.func.max(room_members.c.visible_from_seq)).where(
    room_members.c.room_id == _b("room_id")
)
_MEMBER_ROOM_HEADS = (
    sa.select(chat_rooms.c.id, chat_rooms.c.last_event_seq)
    .join(room_members, room_members.c.room_id == chat_rooms.c.id)
    .where(room_members.c.user_id == _b("user_id"))
)
_ROOM_HEADS = sa.select(chat_rooms.c.id, chat_rooms.c.last_event_seq).where(
    chat_rooms.c.id.in_(_b("room_ids", expanding=True))
)


def insert_room(
    conn: sa.Connection,
    *,
    kind: str,
    name: str | None,
    topic: str | None,
    direct_key: str | None,
    history_visibility: str,
    created_by: UserId,
    now: dt.datetime,
) -> RoomId | None:
    """Inserts a room; None when a direct room with that key already exists (a lost race)."""
    values = {
        "kind": kind,
        "name": name,
        "topic": topic,
        "direct_key": direct_key,
        "history_visibility": history_visibility,
        "created_by": created_by,
        "created_at": now,
        "last_message_at": now,
    }
    if direct_key is None:
        return RoomId(conn.execute(_INSERT_ROOM, values).scalar_one())
    try:
        with conn.begin_nested():
            return RoomId(conn.execute(_INSERT_ROOM, values).scalar_one())
    except IntegrityError:
        return None


def select_room_id_by_direct_key(conn: sa.Connection, key: str) -> RoomId | None:
    found = conn.execute(_ROOM_ID_BY_DIRECT_KEY, {"key": key}).scalar_one_or_none()
    return RoomId(found) if found is not None else None


def select_room(conn: sa.Connection, room_id: RoomId) -> Room | None:
    row = conn.execute(_ROOM, {"room_id": room_id}).first()
    return _room(row) if row else None


def select_room_and_membership(
    conn: sa.Connection, room_id: RoomId, user_id: UserId
) -> tuple[Room, Membership] | None:
    """The room and the caller's membership in one statement (the authorisation choke point)."""
    row = conn.execute(_ROOM_AND_MEMBERSHIP, {"room_id": room_id, "user_id": user_id}).first()
    if row is None:
        return None
    return _room(row), _membership(row)


def insert_member(
    conn: sa.Connection,
    *,
    room_id: RoomId,
    user_id: UserId,
    role: str,
    now: dt.datetime,
    joined_seq: int,
    joined_event_seq: int,
    visible_from_seq: int,
) -> bool:
    """Adds a member; False when they already are one."""
    try:
        with conn.begin_nested():
            conn.execute(
                _INSERT_MEMBER,
                {
                    "room_id": room_id,
                    "user_id": user_id,
                    "role": role,
                    "joined_at": now,
                    "joined_seq": joined_seq,
                    "joined_event_seq": joined_event_seq,
                    "visible_from_seq": visible_from_seq,
                    # Joining counts as having read everything before: the unread arithmetic
                    # then never counts a newcomer for older messages (domain/unread.py).
                    "last_read_seq": joined_seq,
                    "last_read_at": now,
                },
            )
    except IntegrityError:
        return False
    return True


def delete_member(conn: sa.Connection, room_id: RoomId, user_id: UserId) -> bool:
    result = conn.execute(_DELETE_MEMBER, {"room_id": room_id, "user_id": user_id})
    return result.rowcount == 1


def refresh_member_count(conn: sa.Connection, room_id: RoomId) -> int:
    return int(conn.execute(_REFRESH_MEMBER_COUNT, {"room_id": room_id}).scalar_one())


def next_seqs(
    conn: sa.Connection, room_id: RoomId, *, message: bool, now: dt.datetime
) -> tuple[int, int]:
    """Takes the room's next event seq (and next message seq when ``message``).

    The UPDATE locks the room row until commit (PostgreSQL; SQLite serialises all writers), so
    seqs are handed out in commit order and a reader never sees seq N before N-1 commits.
    """
    if message:
        row = conn.execute(
            _NEXT_MESSAGE_SEQS, {"room_id": room_id, "set_last_message_at": now}
        ).one()
    else:
        row = conn.execute(_NEXT_EVENT_SEQ, {"room_id": room_id}).one()
    return int(row.last_seq), int(row.last_event_seq)


def update_room_fields(conn: sa.Connection, room_id: RoomId, values: dict[str, Any]) -> None:
    conn.execute(_UPDATE_ROOM, {"where_room_id": room_id, **values})


def update_member_fields(
    conn: sa.Connection, room_id: RoomId, user_id: UserId, values: dict[str, Any]
) -> None:
    conn.execute(_UPDATE_MEMBER, {"where_room_id": room_id, "where_user_id": user_id, **values})


def select_member_room_ids(conn: sa.Connection, user_id: UserId) -> list[RoomId]:
    rows = conn.execute(_MEMBER_ROOM_IDS, {"user_id": user_id})
    return [RoomId(r) for r in rows.scalars()]


@dataclass(frozen=True, slots=True)
class MemberRow:
    user_id: UserId
    display_name: str
    role: str
    joined_at: dt.datetime
    last_read_seq: int


def select_members(
    conn: sa.Connection, room_id: RoomId, *, after_user_id: int = 0, limit: int = 1000
) -> list[MemberRow]:
    rows = conn.execute(
        _MEMBERS_PAGE, {"room_id": room_id, "after_user_id": after_user_id, "limit": limit}
    )
    return [
        MemberRow(UserId(user_id), display_name, role, joined_at, last_read_seq)
        for user_id, display_name, role, joined_at, last_read_seq in rows
    ]


def select_member_user_ids(conn: sa.Connection, room_id: RoomId) -> list[UserId]:
    rows = conn.execute(_MEMBER_USER_IDS, {"room_id": room_id})
    return [UserId(u) for u in rows.scalars()]


def select_oldest_other_member(
    conn: sa.Connection, room_id: RoomId, user_id: UserId
) -> UserId | None:
    """The next owner when the owner leaves: the highest role, then the earliest to join."""
    found = conn.execute(
        _OLDEST_OTHER_MEMBER, {"room_id": room_id, "user_id": user_id}
    ).scalar_one_or_none()
    return UserId(found) if found is not None else None


@dataclass(frozen=True, slots=True)
class RoomListRow:
    room: Room
    membership: Membership
    peer_user_id: UserId | None
    peer_name: str | None
    unread_mentions: int
    last_message: Message | None


def _room_list_statement(*, one_room: bool) -> sa.Select[Any]:
    """Every room of ``:user_id`` (or only ``:room_id``) with what the room list shows.

    Built once at import with bind parameters, so a call only binds values and hits SQLAlchemy's
    compiled cache (building and compiling this statement per call cost more than running it).
    Plans (docs/performance.md, "The room list"): the user's rooms from the (user_id, room_id)
    index; the last message joined on ``chat_rooms.last_seq`` through UNIQUE(room_id, seq);
    unread mentions from the (user_id, room_id, seq) index; unread <@all> messages from the
    partial index on messages WHERE mentions_all; the peer of a 1:1 room from its members.
    """
    user_id = sa.bindparam("user_id", type_=BigId)
    me = room_members.alias("me")
    peer = room_members.alias("peer")
    last = messages.alias("last")
    peer_id = (
        # correlate: the peer lookup must refer to the outer room row, not a copy of it
        sa.select(peer.c.user_id)
        .where(peer.c.room_id == chat_rooms.c.id, peer.c.user_id != user_id)
        .limit(1)
        .correlate(chat_rooms)
        .scalar_subquery()
    )
    peer_name = (
        sa.select(profiles.c.display_name)
        .where(profiles.c.user_id == peer_id)
        .correlate(chat_rooms)
        .scalar_subquery()
    )
    is_direct = chat_rooms.c.kind == "direct"
    mentions = (
        sa.select(sa.func.count())
        .select_from(message_mentions)
        .where(
            message_mentions.c.user_id == user_id,
            message_mentions.c.room_id == chat_rooms.c.id,
            message_mentions.c.seq > me.c.last_read_seq,
        )
        .scalar_subquery()
    )
    # <@all> messages count for everyone but their sender, unless the message also names the
    # user (already counted above). The predicate must read exactly like the partial index's
    # WHERE (``mentions_all``): SQLite uses a partial index only for a term identical to it, and
    # SQLAlchemy renders the Boolean column as ``mentions_all = 1`` there, which made this a
    # walk over every unread message of every room.
    mentioned_all = (
        sa.select(sa.func.count())
        .select_from(messages)
        .where(
            messages.c.room_id == chat_rooms.c.id,
            sa.literal_column("messages.mentions_all"),
            messages.c.seq > me.c.last_read_seq,
            messages.c.deleted_at.is_(None),
            sa.or_(messages.c.sender_id.is_(None), messages.c.sender_id != user_id),
            ~sa.exists().where(
                message_mentions.c.message_id == messages.c.id,
                message_mentions.c.user_id == user_id,
            ),
        )
        .scalar_subquery()
    )
    query = (
        sa.select(
            chat_rooms,
            *(me.c[name] for name in _MEMBERSHIP_FIELDS),
            # Only 1:1 rooms show a peer; CASE spares the lookups for every other room.
            sa.case((is_direct, peer_id)).label("peer_user_id"),
            sa.case((is_direct, peer_name)).label("peer_name"),
            (mentions + mentioned_all).label("unread_mentions"),
            *message_columns(last, _LAST),
        )
        .join(me, me.c.room_id == chat_rooms.c.id)
        # The preview in the same statement (one snapshot: on PostgreSQL's READ COMMITTED a
        # second statement could see a newer last message than this row's last_seq).
        .outerjoin(
            last, sa.and_(last.c.room_id == chat_rooms.c.id, last.c.seq == chat_rooms.c.last_seq)
        )
        .where(me.c.user_id == user_id)
        .order_by(chat_rooms.c.last_message_at.desc(), chat_rooms.c.id.desc())
    )
    if one_room:
        query = query.where(chat_rooms.c.id == sa.bindparam("room_id", type_=BigId))
    return query


_LAST = "lastmsg_"
_ROOM_LIST = _room_columns_first(_room_list_statement(one_room=False), membership=True)
_ROOM_LIST_ONE = _room_columns_first(_room_list_statement(one_room=True), membership=True)
_RL_KEYS = list(_ROOM_LIST.selected_columns.keys())
_RL_PEER_USER_ID = _RL_KEYS.index("peer_user_id")
_RL_PEER_NAME = _RL_KEYS.index("peer_name")
_RL_UNREAD_MENTIONS = _RL_KEYS.index("unread_mentions")
_RL_LAST_AT = _RL_KEYS.index(_LAST + "id")


def select_room_list(
    conn: sa.Connection, user_id: UserId, room_id: RoomId | None = None
) -> list[RoomListRow]:
    """Every room of the user (or only ``room_id``) with what the room list shows, the last
    message included, in one statement whatever the number of rooms."""
    if room_id is None:
        rows = conn.execute(_ROOM_LIST, {"user_id": user_id})
    else:
        rows = conn.execute(_ROOM_LIST_ONE, {"user_id": user_id, "room_id": room_id})
    out: list[RoomListRow] = []
    for r in rows:
        peer_user = UserId(r[_RL_PEER_USER_ID]) if r[_RL_PEER_USER_ID] else None
        out.append(
            RoomListRow(
                room=_room(r),
                membership=_membership(r),
                peer_user_id=peer_user,
                peer_name=r[_RL_PEER_NAME] if peer_user else None,
                unread_mentions=int(r[_RL_UNREAD_MENTIONS]),
                last_message=(
                    message_from_row(r, _RL_LAST_AT) if r[_RL_LAST_AT] is not None else None
                ),
            )
        )
    return out


def select_members_among(conn: sa.Connection, room_id: RoomId, user_ids: set[int]) -> list[UserId]:
    """Which of ``user_ids`` are members (mentions of non-members are dropped)."""
    if not user_ids:
        return []
    rows = conn.execute(_MEMBERS_AMONG, {"room_id": room_id, "user_ids": sorted(user_ids)})
    return [UserId(u) for u in rows.scalars()]


def select_max_visible_from(conn: sa.Connection, room_id: RoomId) -> int:
    found = conn.execute(_MAX_VISIBLE_FROM, {"room_id": room_id}).scalar_one_or_none()
    return int(found or 0)


def select_member_room_heads(conn: sa.Connection, user_id: UserId) -> dict[RoomId, int]:
    """The rooms of a user with each room's last_event_seq (one statement)."""
    rows = conn.execute(_MEMBER_ROOM_HEADS, {"user_id": user_id})
    return {RoomId(room_id): int(head) for room_id, head in rows}


def select_room_heads(conn: sa.Connection, room_ids: set[int]) -> dict[RoomId, int]:
    if not room_ids:
        return {}
    rows = conn.execute(_ROOM_HEADS, {"room_ids": sorted(room_ids)})
    return {RoomId(room_id): int(head) for room_id, head in rows}
