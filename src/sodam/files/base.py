"""The blob store interface: where file bodies live (never in the database).

Two backends implement it: ``sodam.files.local.LocalBlobStore`` (default, a directory on local
disk) and ``sodam.files.s3.S3BlobStore`` (S3 / MinIO). Every method is synchronous and blocking:
services call them on threads of their own (``sodam.services.storage.BlobIO``), like the database
repositories, so a store that stops answering never holds the threads anything else needs.

Uploads are written incrementally and resumably (tus): ``begin_upload`` returns an
``UploadState`` the caller persists (uploads.multipart_id / uploads.parts); each
``append_upload`` call appends bytes at ``state.size`` and returns the new state, which is
durable once the call returns. The caller always passes the state it last persisted, so an append
that ran but whose new state was never saved (a crash in between) is simply redone: appends are
idempotent with respect to the persisted state. On S3 the bytes go into a multipart upload
(parts of ``part_size`` bytes, at least 5 MB); a remainder smaller than a part is kept in a
separate "tail" object until more bytes arrive, so no app node holds a file in memory and any
node can continue an upload another node started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

BackendName = Literal["local", "s3"]


class BlobStoreError(Exception):
    """Base class of the blob store's errors."""


class BlobNotFound(BlobStoreError):
    """No blob (or no upload) under that key."""


class StorageFull(BlobStoreError):
    """The disk or bucket has no room (ENOSPC, EDQUOT, S3 quota): answered 507."""


class StorageUnavailable(BlobStoreError):
    """The store cannot be reached or failed (S3 down, timeouts, I/O errors): answered 503."""


@dataclass(slots=True)
class UploadState:
    """Where an unfinished upload stands; JSON-able so the uploads row can keep it."""

    size: int = 0  # bytes durably appended so far
    multipart_id: str | None = None  # S3 multipart upload id
    parts: list[tuple[int, str]] = field(default_factory=list)  # S3: (part number, ETag)
    tail_size: int = 0  # S3: bytes kept in the tail object, not yet in a part

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "multipart_id": self.multipart_id,
            "parts": [[n, etag] for n, etag in self.parts],
            "tail_size": self.tail_size,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> UploadState:
        if not data:
            return cls()
        return cls(
            size=int(data.get("size", 0)),
            multipart_id=data.get("multipart_id"),
            parts=[(int(n), str(etag)) for n, etag in data.get("parts", [])],
            tail_size=int(data.get("tail_size", 0)),
        )


@dataclass(frozen=True, slots=True)
class StaleUpload:
    """An unfinished upload the store still holds (for cleaning up abandoned ones)."""

    key: str
    multipart_id: str | None
    started_at: dt.datetime | None


class BlobReader(Iterator[bytes], Protocol):
    """What ``open_read`` returns: chunks of the blob. It holds a file or an HTTP connection until
    exhausted or closed, so a download cut short (the client went away) must call ``close()``."""

    def close(self) -> None: ...


class BlobStore(Protocol):
    backend: BackendName
    part_size: int  # callers hand append_upload blocks of this size (the last one may be smaller)

    # --- resumable uploads ---------------------------------------------------------------------
    def begin_upload(self, key: str) -> UploadState: ...

    def append_upload(self, key: str, state: UploadState, data: bytes) -> UploadState:
        """Appends ``data`` at ``state.size``; durable when it returns. Bytes the store holds
        beyond ``state.size`` (from an append whose state was never persisted) are discarded."""
        ...

    def complete_upload(self, key: str, state: UploadState) -> None:
        """Turns the upload into the readable blob ``key``."""
        ...

    def abort_upload(self, key: str, state: UploadState) -> None:
        """Removes whatever the unfinished upload holds; idempotent."""
        ...

    def list_stale_uploads(self, older_than: dt.datetime) -> list[StaleUpload]:
        """Unfinished uploads (S3 multipart uploads, local partial files) started before
        ``older_than``: the cleaner aborts those the database no longer knows."""
        ...

    # --- blobs ---------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Stores a small blob whole (thumbnails)."""
        ...

    def open_read(self, key: str, start: int = 0, end: int | None = None) -> BlobReader:
        """The bytes ``[start, end)`` of a blob in chunks of at most 1 MiB; BlobNotFound if
        there is none. The iterator holds a file or connection: exhaust or close it."""
        ...

    def size(self, key: str) -> int | None:
        """The blob's size, or None when there is no such blob."""
        ...

    def delete(self, key: str) -> None:
        """Removes a blob; idempotent."""
        ...

    def presigned_url(
        self,
        key: str,
        *,
        file_name: str,
        content_type: str,
        inline: bool,
        expires_s: int,
    ) -> str | None:
        """A short-lived URL that downloads the blob directly from the store with the given
        Content-Disposition/Content-Type, or None when the backend cannot make one (local)."""
        ...
