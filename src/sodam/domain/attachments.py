"""Attachments: files sent in messages, their scan and thumbnail states, who may download them.

A file's body lives in the blob store (never in the database); the attachment row holds its
metadata. Scanning and thumbnailing are background jobs; their results change the states here
and reach clients as ``message.updated`` events (docs/files.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sodam.domain.ids import MessageId, RoomId, UserId

AttachmentKind = Literal["image", "video", "audio", "file"]
ScanState = Literal["pending", "clean", "infected", "unscanned"]
ThumbState = Literal["pending", "ready", "none", "failed"]

MAX_ATTACHMENTS_PER_MESSAGE = 10
SCANNER_DISABLED = "scanner_disabled"
# Served inline (shown in the browser) only for these types; everything else is a download.
INLINE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "text/plain"}
)
THUMBNAIL_KINDS = frozenset({"image", "video"})


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    uploader_id: UserId | None
    room_id: RoomId | None
    message_id: MessageId | None
    storage_backend: str
    storage_key: str
    file_name: str
    content_type: str
    kind: AttachmentKind
    size: int
    sha256: str
    width: int | None
    height: int | None
    scan_state: ScanState
    scan_reason: str | None
    thumb_small_key: str | None
    thumb_large_key: str | None
    thumb_state: ThumbState
    created_at: dt.datetime
    deleted_at: dt.datetime | None


def others_may_download(attachment: Attachment, *, requires_clean: bool) -> bool:
    """Whether members other than the uploader may download the file now.

    Infected files are blocked for everyone. With a scanner configured and ``requires_clean``
    (the default), only files found clean are shared; without a scanner files are "unscanned"
    with reason ``scanner_disabled`` and shared (the admin chose to run without one)."""
    if attachment.deleted_at is not None or attachment.scan_state == "infected":
        return False
    if attachment.scan_state == "clean":
        return True
    if attachment.scan_state == "unscanned" and attachment.scan_reason == SCANNER_DISABLED:
        return True
    return not requires_clean


def may_download(attachment: Attachment, viewer: UserId, *, requires_clean: bool) -> bool:
    if attachment.deleted_at is not None or attachment.scan_state == "infected":
        return False
    if attachment.uploader_id == viewer:
        return True
    return others_may_download(attachment, requires_clean=requires_clean)


def attachment_wire(attachment: Attachment, *, requires_clean: bool) -> dict[str, Any]:
    a = attachment
    return {
        "id": a.id,
        "file_name": a.file_name,
        "content_type": a.content_type,
        "kind": a.kind,
        "size": a.size,
        "sha256": a.sha256,
        "width": a.width,
        "height": a.height,
        "scan_state": a.scan_state,
        "scan_reason": a.scan_reason,
        "thumbnail": a.thumb_state,
        "downloadable": others_may_download(a, requires_clean=requires_clean),
    }


def storage_key_for(upload_id: str, now: dt.datetime) -> str:
    """Blob keys are server ids, never derived from the user's file name."""
    return f"{now:%Y/%m}/{upload_id}"


def thumbnail_key(storage_key: str, size: Literal["small", "large"]) -> str:
    return f"{storage_key}.thumb-{size}.webp"


def file_extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""
