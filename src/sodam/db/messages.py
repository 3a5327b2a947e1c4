"""Repository for messages, edits, reactions, mentions, pins and the per-room event log."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from sodam.db.tables import (
    message_edits,
    message_mentions,
    message_reactions,
    messages,
    pins,
    room_events,
)
from sodam.domain.events import StoredRoomEvent
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.messages import Message, ReactionSummary

_FIELDS = (
    "id",
    "room_id",
    "seq",
    "event_seq",
    "sender_id",
    "client_msg_id",
    "kind",
    "body",
    "meta",
    "reply_to_id",
    "forwarded_from_id",
    "mentions_all",
    "created_at",
    "edited_at",
    "deleted_at",
    "hidden_at",
)


def message_columns(table: sa.Table | Any, prefix: str = "") -> list[Any]:
    """The message columns in ``_FIELDS`` order, labelled ``prefix + name``; read them back
    with ``message_from_row(row, at=<position of the first one>)``."""
    return [table.c[name].label(prefix + name) for name in _FIELDS]


def message_from_row(row: Sequence[Any], at: int = 0) -> Message:
    """The message whose ``message_columns`` start at position ``at`` of the row.

    Rows are read by position: a Row's attribute or mapping access costs about 1 us a column
    here (a failed normal lookup, then ``__getattr__``), which made converting a page of
    messages cost more than reading it.
    """
    (
        id_,
        room_id,
        seq,
        event_seq,
        sender_id,
        client_msg_id,
        kind,
        body,
        meta,
        reply_to_id,
        forwarded_from_id,
        mentions_all,
        created_at,
        edited_at,
        deleted_at,
        hidden_at,
    ) = row[at : at + len(_FIELDS)]
    return Message(
        id=MessageId(id_),
        room_id=RoomId(room_id),
        seq=seq,
        event_seq=event_seq,
        sender_id=UserId(sender_id) if sender_id else None,
        client_msg_id=client_msg_id,
        kind=kind,
        body=body,
        meta=meta,
        reply_to_id=MessageId(reply_to_id) if reply_to_id else None,
        forwarded_from_id=MessageId(forwarded_from_id) if forwarded_from_id else None,
        mentions_all=mentions_all,
        created_at=created_at,
        edited_at=edited_at,
        deleted_at=deleted_at,
        hidden_at=hidden_at,
    )


_COLUMNS = message_columns(messages)
_b = sa.bindparam


def _set(column: sa.Column[Any]) -> sa.BindParameter[Any]:
    """A bound value for ``column`` in an UPDATE's SET clause, with the column's type (so the
    UtcDateTime check and conversions apply). Named ``set_<column>``: SQLAlchemy reserves a
    column's own name for its automatic SET parameter."""
    return sa.bindparam(f"set_{column.name}", type_=column.type)


# Statements are built once at import, with bind parameters, and run with parameter dicts:
# building and compiling a Core statement per call cost more CPU than SQLite took to run it
# (docs/performance.md, "The send path"); a prebuilt one goes straight to the compiled cache.
_BY_CLIENT_ID = sa.select(*_COLUMNS).where(
    messages.c.room_id == _b("room_id"),
    messages.c.sender_id == _b("sender_id"),
    messages.c.client_msg_id == _b("client_msg_id"),
)
_INSERT_MESSAGE = sa.insert(messages).returning(messages.c.id)
_INSERT_MENTION = sa.insert(message_mentions)
_BY_ID_IN_ROOM = sa.select(*_COLUMNS).where(
    messages.c.id == _b("id"), messages.c.room_id == _b("room_id")
)
_BY_ID = sa.select(*_COLUMNS).where(messages.c.id == _b("id"))
_BY_IDS = sa.select(*_COLUMNS).where(messages.c.id.in_(_b("ids", expanding=True)))
_IN_ROOM = sa.select(*_COLUMNS).where(
    messages.c.room_id == _b("room_id"), messages.c.seq >= _b("visible_from_seq")
)
_PAGE_AFTER = (
    _IN_ROOM.where(messages.c.seq > _b("after")).order_by(messages.c.seq.asc()).limit(_b("limit"))
)
_PAGE_BEFORE = (
    _IN_ROOM.where(messages.c.seq < _b("before")).order_by(messages.c.seq.desc()).limit(_b("limit"))
)
_PAGE_LATEST = _IN_ROOM.order_by(messages.c.seq.desc()).limit(_b("limit"))
_MENTIONS_OF = (
    sa.select(message_mentions.c.message_id, message_mentions.c.user_id)
    .where(message_mentions.c.message_id.in_(_b("ids", expanding=True)))
    .order_by(message_mentions.c.message_id, message_mentions.c.user_id)
)
_REACTIONS_OF = (
    sa.select(
        message_reactions.c.message_id,
        message_reactions.c.reaction,
        message_reactions.c.user_id,
    )
    .where(message_reactions.c.message_id.in_(_b("ids", expanding=True)))
    .order_by(
        message_reactions.c.message_id,
        message_reactions.c.created_at,
        message_reactions.c.user_id,
    )
)
_DELETE_REACTION = sa.delete(message_reactions).where(
    message_reactions.c.message_id == _b("message_id"),
    message_reactions.c.user_id == _b("user_id"),
)
_INSERT_REACTION = sa.insert(message_reactions)
_INSERT_EDIT = sa.insert(message_edits)
_UPDATE_BODY = (
    sa.update(messages)
    .where(messages.c.id == _b("message_id"))
    .values(body=_set(messages.c.body), edited_at=_set(messages.c.edited_at))
)
_DELETE_MENTIONS = sa.delete(message_mentions).where(
    message_mentions.c.message_id == _b("message_id")
)
_DELETE_REACTIONS = sa.delete(message_reactions).where(
    message_reactions.c.message_id == _b("message_id")
)
_UPDATE_MENTIONS_ALL = (
    sa.update(messages)
    .where(messages.c.id == _b("message_id"))
    .values(mentions_all=_set(messages.c.mentions_all))
)
_UPDATE_UNSENT = (
    sa.update(messages)
    .where(messages.c.id == _b("message_id"))
    .values(deleted_at=_set(messages.c.deleted_at), deleted_by=_set(messages.c.deleted_by))
)
_UPDATE_HIDDEN = (
    sa.update(messages)
    .where(messages.c.id == _b("message_id"))
    .values(hidden_at=_set(messages.c.hidden_at))
)
_EDITS_OF = (
    sa.select(message_edits.c.previous_body, message_edits.c.edited_at)
    .where(message_edits.c.message_id == _b("message_id"))
    .order_by(message_edits.c.id)
)
_PIN = sa.select(pins.c.message_id).where(
    pins.c.room_id == _b("room_id"), pins.c.message_id == _b("message_id")
)
_INSERT_PIN = sa.insert(pins)
_DELETE_PIN = sa.delete(pins).where(
    pins.c.room_id == _b("room_id"), pins.c.message_id == _b("message_id")
)
_PINNED_IDS = (
    sa.select(pins.c.message_id)
    .where(pins.c.room_id == _b("room_id"))
    .order_by(pins.c.pinned_at.desc())
)
_INSERT_ROOM_EVENT = sa.insert(room_events)
_MESSAGES_AFTER = (
    sa.select(*_COLUMNS)
    .where(messages.c.room_id == _b("room_id"), messages.c.event_seq > _b("after"))
    .order_by(messages.c.event_seq)
    .limit(_b("limit"))
)
_EVENTS_AFTER = (
    sa.select(
        room_events.c.room_id,
        room_events.c.event_seq,
        room_events.c.kind,
        room_events.c.actor_id,
        room_events.c.message_id,
        room_events.c.subject_user_id,
        room_events.c.payload,
        room_events.c.created_at,
    )
    .where(room_events.c.room_id == _b("room_id"), room_events.c.event_seq > _b("after"))
    .order_by(room_events.c.event_seq)
    .limit(_b("limit"))
)


def select_message_by_client_id(
    conn: sa.Connection, room_id: RoomId, sender_id: UserId, client_msg_id: str
) -> Message | None:
    row = conn.execute(
        _BY_CLIENT_ID,
        {"room_id": room_id, "sender_id": sender_id, "client_msg_id": client_msg_id},
    ).first()
    return message_from_row(row) if row else None


def insert_message(
    conn: sa.Connection,
    *,
    room_id: RoomId,
    seq: int,
    event_seq: int,
    sender_id: UserId | None,
    client_msg_id: str | None,
    kind: str,
    body: str | None,
    meta: dict[str, Any] | None,
    reply_to_id: MessageId | None,
    forwarded_from_id: MessageId | None,
    mentions_all: bool,
    now: dt.datetime,
) -> Message:
    values = {
        "room_id": room_id,
        "seq": seq,
        "event_seq": event_seq,
        "sender_id": sender_id,
        "client_msg_id": client_msg_id,
        "kind": kind,
        "body": body,
        "meta": meta,
        "reply_to_id": reply_to_id,
        "forwarded_from_id": forwarded_from_id,
        "mentions_all": mentions_all,
        "created_at": now,
    }
    message_id = conn.execute(_INSERT_MESSAGE, values).scalar_one()
    return Message(
        id=MessageId(message_id),
        room_id=room_id,
        seq=seq,
        event_seq=event_seq,
        sender_id=sender_id,
        client_msg_id=client_msg_id,
        kind=kind,  # type: ignore[arg-type]  # kind is validated by the caller
        body=body,
        meta=meta,
        reply_to_id=reply_to_id,
        forwarded_from_id=forwarded_from_id,
        mentions_all=mentions_all,
        created_at=now,
        edited_at=None,
        deleted_at=None,
        hidden_at=None,
    )


def insert_mentions(conn: sa.Connection, message: Message, user_ids: Sequence[int]) -> None:
    if not user_ids:
        return
    conn.execute(
        _INSERT_MENTION,
        [
            {"message_id": message.id, "user_id": u, "room_id": message.room_id, "seq": message.seq}
            for u in user_ids
        ],
    )


def select_message(conn: sa.Connection, room_id: RoomId, message_id: MessageId) -> Message | None:
    row = conn.execute(_BY_ID_IN_ROOM, {"id": message_id, "room_id": room_id}).first()
    return message_from_row(row) if row else None


def select_message_any_room(conn: sa.Connection, message_id: MessageId) -> Message | None:
    row = conn.execute(_BY_ID, {"id": message_id}).first()
    return message_from_row(row) if row else None


def select_messages_by_id(conn: sa.Connection, ids: Sequence[int]) -> dict[MessageId, Message]:
    if not ids:
        return {}
    rows = conn.execute(_BY_IDS, {"ids": sorted(set(ids))})
    return {MessageId(r[0]): message_from_row(r) for r in rows}


def select_history(
    conn: sa.Connection,
    room_id: RoomId,
    *,
    visible_from_seq: int,
    before: int | None = None,
    after: int | None = None,
    limit: int,
) -> list[Message]:
    """A page of messages in ascending seq; ``before``/``after`` are exclusive bounds."""
    params: dict[str, Any] = {
        "room_id": room_id,
        "visible_from_seq": visible_from_seq,
        "limit": limit,
    }
    if after is not None:
        rows = conn.execute(_PAGE_AFTER, {**params, "after": after})
        return [message_from_row(r) for r in rows]
    if before is not None:
        rows = conn.execute(_PAGE_BEFORE, {**params, "before": before})
    else:
        rows = conn.execute(_PAGE_LATEST, params)
    return [message_from_row(r) for r in rows][::-1]


def select_mentions(
    conn: sa.Connection, message_ids: Sequence[int]
) -> dict[MessageId, tuple[int, ...]]:
    if not message_ids:
        return {}
    out: dict[MessageId, list[int]] = defaultdict(list)
    for message_id, user_id in conn.execute(_MENTIONS_OF, {"ids": list(message_ids)}):
        out[MessageId(message_id)].append(user_id)
    return {k: tuple(v) for k, v in out.items()}


def select_reactions(
    conn: sa.Connection, message_ids: Sequence[int]
) -> dict[MessageId, tuple[ReactionSummary, ...]]:
    if not message_ids:
        return {}
    grouped: dict[MessageId, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for message_id, reaction, user_id in conn.execute(_REACTIONS_OF, {"ids": list(message_ids)}):
        grouped[MessageId(message_id)][reaction].append(user_id)
    return {
        mid: tuple(
            ReactionSummary(reaction=name, count=len(users), user_ids=tuple(users))
            for name, users in by_reaction.items()
        )
        for mid, by_reaction in grouped.items()
    }


def upsert_reaction(
    conn: sa.Connection, message_id: MessageId, user_id: UserId, reaction: str, now: dt.datetime
) -> None:
    conn.execute(_DELETE_REACTION, {"message_id": message_id, "user_id": user_id})
    conn.execute(
        _INSERT_REACTION,
        {"message_id": message_id, "user_id": user_id, "reaction": reaction, "created_at": now},
    )


def delete_reaction(conn: sa.Connection, message_id: MessageId, user_id: UserId) -> bool:
    result = conn.execute(_DELETE_REACTION, {"message_id": message_id, "user_id": user_id})
    return result.rowcount == 1


def update_message_body(
    conn: sa.Connection, message: Message, body: str, editor_id: UserId, now: dt.datetime
) -> None:
    """Keeps the previous body in message_edits, then stores the new one."""
    conn.execute(
        _INSERT_EDIT,
        {
            "message_id": message.id,
            "previous_body": message.body or "",
            "editor_id": editor_id,
            "edited_at": now,
        },
    )
    conn.execute(_UPDATE_BODY, {"message_id": message.id, "set_body": body, "set_edited_at": now})


def replace_mentions(
    conn: sa.Connection, message: Message, user_ids: Sequence[int], mentions_all: bool
) -> None:
    conn.execute(_DELETE_MENTIONS, {"message_id": message.id})
    insert_mentions(conn, message, user_ids)
    conn.execute(_UPDATE_MENTIONS_ALL, {"message_id": message.id, "set_mentions_all": mentions_all})


def update_message_unsent(
    conn: sa.Connection, message_id: MessageId, actor_id: UserId, now: dt.datetime
) -> None:
    """Marks a message unsent for everyone. The original body stays for compliance (retention
    and legal hold decide when it is purged); every reader gets a tombstone."""
    conn.execute(
        _UPDATE_UNSENT,
        {"message_id": message_id, "set_deleted_at": now, "set_deleted_by": actor_id},
    )
    conn.execute(_DELETE_MENTIONS, {"message_id": message_id})
    conn.execute(_DELETE_REACTIONS, {"message_id": message_id})


def update_message_hidden(
    conn: sa.Connection, message_id: MessageId, hidden_at: dt.datetime | None
) -> None:
    conn.execute(_UPDATE_HIDDEN, {"message_id": message_id, "set_hidden_at": hidden_at})


def select_edits(conn: sa.Connection, message_id: MessageId) -> list[tuple[str, dt.datetime]]:
    rows = conn.execute(_EDITS_OF, {"message_id": message_id})
    return [(previous_body, edited_at) for previous_body, edited_at in rows]


def insert_pin(
    conn: sa.Connection, room_id: RoomId, message_id: MessageId, user_id: UserId, now: dt.datetime
) -> bool:
    if conn.execute(_PIN, {"room_id": room_id, "message_id": message_id}).first():
        return False
    conn.execute(
        _INSERT_PIN,
        {"room_id": room_id, "message_id": message_id, "pinned_by": user_id, "pinned_at": now},
    )
    return True


def delete_pin(conn: sa.Connection, room_id: RoomId, message_id: MessageId) -> bool:
    result = conn.execute(_DELETE_PIN, {"room_id": room_id, "message_id": message_id})
    return result.rowcount == 1


def select_pinned_ids(conn: sa.Connection, room_id: RoomId) -> list[MessageId]:
    rows = conn.execute(_PINNED_IDS, {"room_id": room_id})
    return [MessageId(m) for m in rows.scalars()]


def insert_room_event(
    conn: sa.Connection,
    *,
    room_id: RoomId,
    event_seq: int,
    kind: str,
    actor_id: UserId | None,
    message_id: MessageId | None,
    subject_user_id: UserId | None,
    payload: dict[str, Any],
    now: dt.datetime,
) -> None:
    conn.execute(
        _INSERT_ROOM_EVENT,
        {
            "room_id": room_id,
            "event_seq": event_seq,
            "kind": kind,
            "actor_id": actor_id,
            "message_id": message_id,
            "subject_user_id": subject_user_id,
            "payload": payload,
            "created_at": now,
        },
    )


def select_events_after(
    conn: sa.Connection, room_id: RoomId, after_event_seq: int, limit: int
) -> tuple[list[Message], list[StoredRoomEvent]]:
    """Messages created and other room events with event_seq > cursor, at most ``limit`` in all
    (the caller merges them by event_seq and keeps the first ``limit``)."""
    params = {"room_id": room_id, "after": after_event_seq, "limit": limit}
    found = [message_from_row(r) for r in conn.execute(_MESSAGES_AFTER, params)]
    events = [
        StoredRoomEvent(
            room_id=RoomId(ev_room_id),
            event_seq=event_seq,
            kind=kind,
            actor_id=UserId(actor_id) if actor_id else None,
            message_id=MessageId(message_id) if message_id else None,
            subject_user_id=UserId(subject_user_id) if subject_user_id else None,
            payload=dict(payload),
            created_at=created_at,
        )
        for (
            ev_room_id,
            event_seq,
            kind,
            actor_id,
            message_id,
            subject_user_id,
            payload,
            created_at,
        ) in conn.execute(_EVENTS_AFTER, params)
    ]
    return found, events
