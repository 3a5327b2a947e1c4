"""Blob store errors as the service errors clients see (507 storage_full, 503
storage_unavailable, 404 file_not_found)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sodam.errors import AppError, NotFound, Unavailable
from sodam.files.base import BlobNotFound, StorageFull, StorageUnavailable


class InsufficientStorage(AppError):
    default_code = "storage_full"
    default_message = "The server has no room to store this file."


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except StorageFull as exc:
        raise InsufficientStorage() from exc
    except StorageUnavailable as exc:
        raise Unavailable(
            "storage_unavailable",
            "File storage is unavailable; try again later.",
            {"retry_after_s": 5},
        ) from exc
    except BlobNotFound as exc:
        raise NotFound("file_not_found", "No such file.") from exc
