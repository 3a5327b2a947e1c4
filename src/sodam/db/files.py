"""Repository for uploads (unfinished and finished tus uploads) and attachments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from sodam.db.tables import attachments, messages, uploads, users
from sodam.domain.attachments import Attachment
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.uploads import Upload


def _upload(row: Any) -> Upload:
    return Upload(
        id=row.id,
        user_id=UserId(row.user_id),
        length=row.length,
        offset=row.offset,
        file_name=row.file_name,
        metadata=dict(row.metadata or {}),
        storage_key=row.storage_key,
        store_state=dict(row.parts or {}),
        created_at=row.created_at,
        expires_at=row.expires_at,
        completed_at=row.completed_at,
    )


def insert_upload(conn: sa.Connection, upload: Upload) -> None:
    conn.execute(
        sa.insert(uploads).values(
            id=upload.id,
            user_id=upload.user_id,
            length=upload.length,
            offset=upload.offset,
            file_name=upload.file_name,
            metadata=upload.metadata,
            storage_key=upload.storage_key,
            parts=upload.store_state,
            created_at=upload.created_at,
            expires_at=upload.expires_at,
            completed_at=upload.completed_at,
        )
    )


def lock_user_for_uploads(conn: sa.Connection, user_id: UserId) -> None:
    """Serialises a user's upload reservations (quota and pending checks) on PostgreSQL; on
    SQLite the single writer already does."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(users.c.id).where(users.c.id == user_id).with_for_update())


def select_upload(conn: sa.Connection, upload_id: str) -> Upload | None:
    row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).first()
    return _upload(row) if row is not None else None


def select_uploads_of(
    conn: sa.Connection, user_id: UserId, upload_ids: Sequence[str]
) -> dict[str, Upload]:
    if not upload_ids:
        return {}
    rows = conn.execute(
        sa.select(uploads).where(uploads.c.user_id == user_id, uploads.c.id.in_(set(upload_ids)))
    )
    return {r.id: _upload(r) for r in rows}


def update_upload_progress(
    conn: sa.Connection,
    upload_id: str,
    *,
    expected_offset: int,
    offset: int,
    store_state: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    completed_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> bool:
    """Moves an upload forward from ``expected_offset``; False if it moved meanwhile (a
    concurrent PATCH on another node) or was deleted."""
    values: dict[str, Any] = {"offset": offset, "parts": store_state}
    if metadata is not None:
        values["metadata"] = metadata
    if completed_at is not None:
        values["completed_at"] = completed_at
    if expires_at is not None:
        values["expires_at"] = expires_at
    result = conn.execute(
        sa.update(uploads)
        .where(
            uploads.c.id == upload_id,
            uploads.c.offset == expected_offset,
            uploads.c.completed_at.is_(None),
        )
        .values(**values)
    )
    return result.rowcount == 1


def delete_upload(conn: sa.Connection, upload_id: str) -> bool:
    return conn.execute(sa.delete(uploads).where(uploads.c.id == upload_id)).rowcount == 1


def select_upload_usage(conn: sa.Connection, user_id: UserId) -> tuple[int, int, int]:
    """(unfinished uploads, bytes reserved by uploads, bytes of the user's live attachments)."""
    pending, reserved = conn.execute(
        sa.select(
            sa.func.count().filter(uploads.c.completed_at.is_(None)),
            sa.func.coalesce(sa.func.sum(uploads.c.length), 0),
        ).where(uploads.c.user_id == user_id)
    ).one()
    stored = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(attachments.c.size), 0)).where(
            attachments.c.uploader_id == user_id, attachments.c.deleted_at.is_(None)
        )
    ).scalar_one()
    return int(pending), int(reserved), int(stored)


def select_expired_uploads(conn: sa.Connection, now: dt.datetime, limit: int) -> list[Upload]:
    rows = conn.execute(
        sa.select(uploads)
        .where(uploads.c.expires_at < now)
        .order_by(uploads.c.expires_at)
        .limit(limit)
    )
    return [_upload(r) for r in rows]


def select_unfinished_upload_keys(conn: sa.Connection) -> list[str]:
    rows = conn.execute(sa.select(uploads.c.storage_key).where(uploads.c.completed_at.is_(None)))
    return [r.storage_key for r in rows]


# --- attachments ------------------------------------------------------------------------------


def _attachment(row: Any) -> Attachment:
    return Attachment(
        id=row.id,
        uploader_id=UserId(row.uploader_id) if row.uploader_id is not None else None,
        room_id=RoomId(row.room_id) if row.room_id is not None else None,
        message_id=MessageId(row.message_id) if row.message_id is not None else None,
        storage_backend=row.storage_backend,
        storage_key=row.storage_key,
        file_name=row.file_name,
        content_type=row.content_type,
        kind=row.kind,
        size=row.size,
        sha256=row.sha256,
        width=row.width,
        height=row.height,
        scan_state=row.scan_state,
        scan_reason=row.scan_reason,
        thumb_small_key=row.thumb_small_key,
        thumb_large_key=row.thumb_large_key,
        thumb_state=row.thumb_state,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def insert_attachment(conn: sa.Connection, values: dict[str, Any]) -> int:
    result = conn.execute(sa.insert(attachments).values(**values).returning(attachments.c.id))
    return int(result.scalar_one())


def select_attachment(conn: sa.Connection, attachment_id: int) -> Attachment | None:
    row = conn.execute(sa.select(attachments).where(attachments.c.id == attachment_id)).first()
    return _attachment(row) if row is not None else None


def select_attachments_for_messages(
    conn: sa.Connection, message_ids: Sequence[int]
) -> dict[MessageId, tuple[Attachment, ...]]:
    if not message_ids:
        return {}
    rows = conn.execute(
        sa.select(attachments)
        .where(attachments.c.message_id.in_(set(message_ids)))
        .order_by(attachments.c.id)
    )
    found: dict[MessageId, list[Attachment]] = defaultdict(list)
    for r in rows:
        found[MessageId(r.message_id)].append(_attachment(r))
    return {k: tuple(v) for k, v in found.items()}


def update_pending_attachment(
    conn: sa.Connection, attachment_id: int, column: str, values: dict[str, Any]
) -> bool:
    """Sets a job's result only on a live attachment whose ``column`` (scan_state or
    thumb_state) is still pending; False when there is nothing to change."""
    result = conn.execute(
        sa.update(attachments)
        .where(
            attachments.c.id == attachment_id,
            attachments.c[column] == "pending",
            attachments.c.deleted_at.is_(None),
        )
        .values(**values)
    )
    return result.rowcount == 1


def update_attachment(conn: sa.Connection, attachment_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(attachments).where(attachments.c.id == attachment_id).values(**values))


def mark_message_attachments_deleted(
    conn: sa.Connection, message_id: MessageId, now: dt.datetime
) -> list[Attachment]:
    """Unsending a message removes its files; returns those whose blobs are to be deleted."""
    rows = conn.execute(
        sa.update(attachments)
        .where(attachments.c.message_id == message_id, attachments.c.deleted_at.is_(None))
        .values(deleted_at=now)
        .returning(*attachments.c)
    )
    return [_attachment(r) for r in rows]


def select_drawer(
    conn: sa.Connection,
    room_id: RoomId,
    *,
    kinds: Sequence[str],
    visible_from_seq: int,
    before_id: int | None,
    limit: int,
) -> list[tuple[Attachment, UserId | None, dt.datetime]]:
    """Files of a room, newest first, with their message's sender and time; files of unsent
    messages and of messages before the viewer's visible history are left out."""
    query = (
        sa.select(
            attachments, messages.c.sender_id.label("m_sender"), messages.c.created_at.label("m_at")
        )
        .join(messages, messages.c.id == attachments.c.message_id)
        .where(
            attachments.c.room_id == room_id,
            attachments.c.kind.in_(list(kinds)),
            attachments.c.deleted_at.is_(None),
            messages.c.deleted_at.is_(None),
            messages.c.hidden_at.is_(None),
            messages.c.seq >= visible_from_seq,
        )
        .order_by(attachments.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(attachments.c.id < before_id)
    return [
        (_attachment(r), UserId(r.m_sender) if r.m_sender is not None else None, r.m_at)
        for r in conn.execute(query)
    ]


def select_expired_attachments(
    conn: sa.Connection, created_before: dt.datetime, limit: int
) -> list[Attachment]:
    rows = conn.execute(
        sa.select(attachments)
        .where(attachments.c.created_at < created_before, attachments.c.deleted_at.is_(None))
        .order_by(attachments.c.id)
        .limit(limit)
    )
    return [_attachment(r) for r in rows]
