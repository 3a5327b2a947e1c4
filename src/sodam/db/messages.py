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
    return [table.c[name].label(prefix + name) for name in _FIELDS]


def message_from_row(row: Any, prefix: str = "") -> Message:
    g = row._mapping
    return Message(
        id=MessageId(g[prefix + "id"]),
        room_id=RoomId(g[prefix + "room_id"]),
        seq=g[prefix + "seq"],
        event_seq=g[prefix + "event_seq"],
        sender_id=UserId(g[prefix + "sender_id"]) if g[prefix + "sender_id"] else None,
        client_msg_id=g[prefix + "client_msg_id"],
        kind=g[prefix + "kind"],
        body=g[prefix + "body"],
        meta=g[prefix + "meta"],
        reply_to_id=MessageId(g[prefix + "reply_to_id"]) if g[prefix + "reply_to_id"] else None,
        forwarded_from_id=(
            MessageId(g[prefix + "forwarded_from_id"]) if g[prefix + "forwarded_from_id"] else None
        ),
        mentions_all=g[prefix + "mentions_all"],
        created_at=g[prefix + "created_at"],
        edited_at=g[prefix + "edited_at"],
        deleted_at=g[prefix + "deleted_at"],
        hidden_at=g[prefix + "hidden_at"],
    )


_COLUMNS = message_columns(messages)


def select_message_by_client_id(
    conn: sa.Connection, room_id: RoomId, sender_id: UserId, client_msg_id: str
) -> Message | None:
    row = (
        conn.execute(
            sa.select(*_COLUMNS).where(
                messages.c.room_id == room_id,
                messages.c.sender_id == sender_id,
                messages.c.client_msg_id == client_msg_id,
            )
        )
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
    message_id = (
        conn.execute(sa.insert(messages).values(**values).returning(messages.c.id))
    ).scalar_one()
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
        sa.insert(message_mentions),
        [
            {"message_id": message.id, "user_id": u, "room_id": message.room_id, "seq": message.seq}
            for u in user_ids
        ],
    )


def select_message(conn: sa.Connection, room_id: RoomId, message_id: MessageId) -> Message | None:
    row = (
        conn.execute(
            sa.select(*_COLUMNS).where(messages.c.id == message_id, messages.c.room_id == room_id)
        )
    ).first()
    return message_from_row(row) if row else None


def select_message_any_room(conn: sa.Connection, message_id: MessageId) -> Message | None:
    row = (conn.execute(sa.select(*_COLUMNS).where(messages.c.id == message_id))).first()
    return message_from_row(row) if row else None


def select_messages_by_id(conn: sa.Connection, ids: Sequence[int]) -> dict[MessageId, Message]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(*_COLUMNS).where(messages.c.id.in_(set(ids))))
    return {MessageId(r.id): message_from_row(r) for r in rows}


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
    query = sa.select(*_COLUMNS).where(
        messages.c.room_id == room_id, messages.c.seq >= visible_from_seq
    )
    if after is not None:
        query = query.where(messages.c.seq > after).order_by(messages.c.seq.asc())
    else:
        if before is not None:
            query = query.where(messages.c.seq < before)
        query = query.order_by(messages.c.seq.desc())
    rows = [message_from_row(r) for r in conn.execute(query.limit(limit))]
    return rows if after is not None else rows[::-1]


def select_mentions(
    conn: sa.Connection, message_ids: Sequence[int]
) -> dict[MessageId, tuple[int, ...]]:
    if not message_ids:
        return {}
    out: dict[MessageId, list[int]] = defaultdict(list)
    rows = conn.execute(
        sa.select(message_mentions.c.message_id, message_mentions.c.user_id)
        .where(message_mentions.c.message_id.in_(message_ids))
        .order_by(message_mentions.c.message_id, message_mentions.c.user_id)
    )
    for r in rows:
        out[MessageId(r.message_id)].append(r.user_id)
    return {k: tuple(v) for k, v in out.items()}


def select_reactions(
    conn: sa.Connection, message_ids: Sequence[int]
) -> dict[MessageId, tuple[ReactionSummary, ...]]:
    if not message_ids:
        return {}
    grouped: dict[MessageId, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = conn.execute(
        sa.select(
            message_reactions.c.message_id,
            message_reactions.c.reaction,
            message_reactions.c.user_id,
        )
        .where(message_reactions.c.message_id.in_(message_ids))
        .order_by(
            message_reactions.c.message_id,
            message_reactions.c.created_at,
            message_reactions.c.user_id,
        )
    )
    for r in rows:
        grouped[MessageId(r.message_id)][r.reaction].append(r.user_id)
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
    conn.execute(
        sa.delete(message_reactions).where(
            message_reactions.c.message_id == message_id,
            message_reactions.c.user_id == user_id,
        )
    )
    conn.execute(
        sa.insert(message_reactions).values(
            message_id=message_id, user_id=user_id, reaction=reaction, created_at=now
        )
    )


def delete_reaction(conn: sa.Connection, message_id: MessageId, user_id: UserId) -> bool:
    result = conn.execute(
        sa.delete(message_reactions).where(
            message_reactions.c.message_id == message_id,
            message_reactions.c.user_id == user_id,
        )
    )
    return result.rowcount == 1


def update_message_body(
    conn: sa.Connection, message: Message, body: str, editor_id: UserId, now: dt.datetime
) -> None:
    """Keeps the previous body in message_edits, then stores the new one."""
    conn.execute(
        sa.insert(message_edits).values(
            message_id=message.id,
            previous_body=message.body or "",
            editor_id=editor_id,
            edited_at=now,
        )
    )
    conn.execute(
        sa.update(messages).where(messages.c.id == message.id).values(body=body, edited_at=now)
    )


def replace_mentions(
    conn: sa.Connection, message: Message, user_ids: Sequence[int], mentions_all: bool
) -> None:
    conn.execute(sa.delete(message_mentions).where(message_mentions.c.message_id == message.id))
    insert_mentions(conn, message, user_ids)
    conn.execute(
        sa.update(messages).where(messages.c.id == message.id).values(mentions_all=mentions_all)
    )


def update_message_unsent(
    conn: sa.Connection, message_id: MessageId, actor_id: UserId, now: dt.datetime
) -> None:
    """Marks a message unsent for everyone. The original body stays for compliance (retention
    and legal hold decide when it is purged); every reader gets a tombstone."""
    conn.execute(
        sa.update(messages)
        .where(messages.c.id == message_id)
        .values(deleted_at=now, deleted_by=actor_id)
    )
    conn.execute(sa.delete(message_mentions).where(message_mentions.c.message_id == message_id))
    conn.execute(sa.delete(message_reactions).where(message_reactions.c.message_id == message_id))


def update_message_hidden(
    conn: sa.Connection, message_id: MessageId, hidden_at: dt.datetime | None
) -> None:
    conn.execute(sa.update(messages).where(messages.c.id == message_id).values(hidden_at=hidden_at))


def select_edits(conn: sa.Connection, message_id: MessageId) -> list[tuple[str, dt.datetime]]:
    rows = conn.execute(
        sa.select(message_edits.c.previous_body, message_edits.c.edited_at)
        .where(message_edits.c.message_id == message_id)
        .order_by(message_edits.c.id)
    )
    return [(r.previous_body, r.edited_at) for r in rows]


def insert_pin(
    conn: sa.Connection, room_id: RoomId, message_id: MessageId, user_id: UserId, now: dt.datetime
) -> bool:
    exists = (
        conn.execute(
            sa.select(pins.c.message_id).where(
                pins.c.room_id == room_id, pins.c.message_id == message_id
            )
        )
    ).first()
    if exists:
        return False
    conn.execute(
        sa.insert(pins).values(
            room_id=room_id, message_id=message_id, pinned_by=user_id, pinned_at=now
        )
    )
    return True


def delete_pin(conn: sa.Connection, room_id: RoomId, message_id: MessageId) -> bool:
    result = conn.execute(
        sa.delete(pins).where(pins.c.room_id == room_id, pins.c.message_id == message_id)
    )
    return result.rowcount == 1


def select_pinned_ids(conn: sa.Connection, room_id: RoomId) -> list[MessageId]:
    rows = conn.execute(
        sa.select(pins.c.message_id)
        .where(pins.c.room_id == room_id)
        .order_by(pins.c.pinned_at.desc())
    )
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
        sa.insert(room_events).values(
            room_id=room_id,
            event_seq=event_seq,
            kind=kind,
            actor_id=actor_id,
            message_id=message_id,
            subject_user_id=subject_user_id,
            payload=payload,
            created_at=now,
        )
    )


def select_events_after(
    conn: sa.Connection, room_id: RoomId, after_event_seq: int, limit: int
) -> tuple[list[Message], list[StoredRoomEvent]]:
    """Messages created and other room events with event_seq > cursor, at most ``limit`` in all
    (the caller merges them by event_seq and keeps the first ``limit``)."""
    msg_rows = conn.execute(
        sa.select(*_COLUMNS)
        .where(messages.c.room_id == room_id, messages.c.event_seq > after_event_seq)
        .order_by(messages.c.event_seq)
        .limit(limit)
    )
    found = [message_from_row(r) for r in msg_rows]
    ev_rows = conn.execute(
        sa.select(room_events)
        .where(room_events.c.room_id == room_id, room_events.c.event_seq > after_event_seq)
        .order_by(room_events.c.event_seq)
        .limit(limit)
    )
    events = [
        StoredRoomEvent(
            room_id=RoomId(r.room_id),
            event_seq=r.event_seq,
            kind=r.kind,
            actor_id=UserId(r.actor_id) if r.actor_id else None,
            message_id=MessageId(r.message_id) if r.message_id else None,
            subject_user_id=UserId(r.subject_user_id) if r.subject_user_id else None,
            payload=dict(r.payload),
            created_at=r.created_at,
        )
        for r in ev_rows
    ]
    return found, events
