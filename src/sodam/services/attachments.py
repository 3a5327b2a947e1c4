"""Turning finished uploads into a message's attachments, and telling the room when an
attachment's scan or thumbnail state changes.

Both run inside the caller's write transaction: the attachment rows, the jobs that scan and
thumbnail them (outbox) and the room event all commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from sodam.db import files as files_repo
from sodam.db import messages as messages_repo
from sodam.db import rooms as rooms_repo
from sodam.domain.attachments import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    SCANNER_DISABLED,
    THUMBNAIL_KINDS,
    Attachment,
    thumbnail_key,
)
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.errors import InvalidInput, NotFound
from sodam.services.jobs import enqueue_txn
from sodam.services.roomlog import Outgoing, append_event_txn
from sodam.services.sync import restricted_change
from sodam.services.views import build_views_txn

UPLOAD_NOT_FOUND = ("upload_not_found", "No such upload.")
SCAN_JOB = "files.scan"
THUMBNAIL_JOB = "files.thumbnail"
# A scan waits for clamd (and the file store) with a growing delay (files.scan_retry_s doubling
# up to files.scan_retry_max_s): with the defaults 30 attempts span about 10 to 12 hours of
# outage before the job is dead (the file stays pending; `sodam jobs retry` requeues it).
SCAN_MAX_ATTEMPTS = 30
DELETE_BLOBS_JOB = "files.delete_blobs"


def blob_keys(attachment: Attachment) -> list[str]:
    """Every blob an attachment may have: the file and both thumbnail names (whether or not a
    thumbnail job has written them yet; deleting a missing blob is a no-op)."""
    return [
        attachment.storage_key,
        thumbnail_key(attachment.storage_key, "small"),
        thumbnail_key(attachment.storage_key, "large"),
    ]


def check_upload_ids(upload_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(upload_ids))
    if len(ids) != len(upload_ids):
        raise InvalidInput("upload_ids_duplicate", "An upload is listed twice.")
    if len(ids) > MAX_ATTACHMENTS_PER_MESSAGE:
        raise InvalidInput(
            "too_many_attachments",
            "Too many files in one message.",
            {"max": MAX_ATTACHMENTS_PER_MESSAGE},
        )
    return ids


def attach_uploads_txn(
    conn: sa.Connection,
    *,
    me: UserId,
    room_id: RoomId,
    message_id: MessageId,
    upload_ids: Sequence[str],
    backend: str,
    scanner_enabled: bool,
    now: dt.datetime,
) -> None:
    """Moves the caller's finished uploads into attachments of the message (an upload is
    attached once: its row goes away) and queues a scan and a thumbnail job for each."""
    found = files_repo.select_uploads_of(conn, me, upload_ids)
    for upload_id in upload_ids:
        upload = found.get(upload_id)
        if upload is None or (upload.expires_at is not None and upload.expires_at <= now):
            raise NotFound(*UPLOAD_NOT_FOUND, {"upload_id": upload_id})
        if not upload.finished:
            raise InvalidInput(
                "upload_not_finished", "The upload is not finished.", {"upload_id": upload_id}
            )
    for upload_id in upload_ids:
        upload = found[upload_id]
        meta = upload.metadata
        kind = str(meta.get("kind", "file"))
        attachment_id = files_repo.insert_attachment(
            conn,
            {
                "uploader_id": me,
                "room_id": room_id,
                "message_id": message_id,
                "storage_backend": backend,
                "storage_key": upload.storage_key,
                "file_name": upload.file_name,
                "content_type": str(meta.get("content_type", "application/octet-stream")),
                "kind": kind,
                "size": upload.length,
                "sha256": str(meta.get("sha256", "")),
                "scan_state": "pending" if scanner_enabled else "unscanned",
                "scan_reason": None if scanner_enabled else SCANNER_DISABLED,
                "thumb_state": "pending" if kind in THUMBNAIL_KINDS else "none",
                "created_at": now,
            },
        )
        files_repo.delete_upload(conn, upload.id)
        if scanner_enabled:
            enqueue_txn(
                conn,
                kind=SCAN_JOB,
                payload={"attachment_id": attachment_id},
                now=now,
                dedupe_key=f"{SCAN_JOB}:{attachment_id}",
                max_attempts=SCAN_MAX_ATTEMPTS,
            )
        if kind in THUMBNAIL_KINDS:
            enqueue_txn(
                conn,
                kind=THUMBNAIL_JOB,
                payload={"attachment_id": attachment_id},
                now=now,
                dedupe_key=f"{THUMBNAIL_JOB}:{attachment_id}",
            )


def record_message_change_txn(
    conn: sa.Connection,
    out: Outgoing,
    *,
    room_id: RoomId,
    message_id: MessageId,
    change: str,
    actor: UserId | None,
    now: dt.datetime,
    requires_clean: bool,
) -> None:
    """A ``message.updated`` room event carrying the message's current state (restricted when
    some member may not read the message)."""
    current = messages_repo.select_message(conn, room_id, message_id)
    if current is None:
        return
    strictest = rooms_repo.select_max_visible_from(conn, room_id)
    (view,) = build_views_txn(
        conn,
        room_id,
        [current],
        viewer_visible_from_seq=strictest,
        requires_clean=requires_clean,
    )
    payload = {"message_id": message_id, "change": change}
    append_event_txn(
        conn,
        out,
        room_id=room_id,
        kind="message.updated",
        now=now,
        actor_id=actor,
        message_id=message_id,
        payload=payload,
        live_event=restricted_change("message.updated", payload)
        if current.seq < strictest
        else {"change": change, "message": view.to_wire()},
    )
