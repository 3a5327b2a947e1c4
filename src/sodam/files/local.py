"""The local-disk blob store (the default): one directory, three subdirectories.

Layout under ``root``::

    uploads/<key>   unfinished uploads: one partial file each, appended at state.size
    blobs/<key>     finished blobs (uploads renamed here whole, thumbnails written by put)
    tmp/            put() writes here first, then renames into blobs/

Durability: every method that changes something fsyncs the file and the directory entries it
created before returning, so "durable when it returns" holds across a power cut. Every file
replacement is a rename within one filesystem, so readers see the old blob or the new one, never
a torn one. A full disk (ENOSPC, EDQUOT, EFBIG) raises ``StorageFull`` and leaves the partial file
exactly as long as the persisted state says; any other I/O error raises ``StorageUnavailable``.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import stat
import tempfile
from pathlib import Path

from sodam.files.base import (
    BackendName,
    BlobNotFound,
    BlobStoreError,
    StaleUpload,
    StorageFull,
    StorageUnavailable,
    UploadState,
)
from sodam.files.keys import check_key
from sodam.files.reading import ChunkIterator

logger = logging.getLogger(__name__)

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_ABSENT = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


def _storage_error(exc: OSError, operation: str) -> BlobStoreError:
    name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    if exc.errno in _FULL_ERRNOS:
        logger.warning("local blob store is full (%s during %s)", name, operation)
        return StorageFull(f"no space left on the file store ({name})")
    logger.error("local blob store failed (%s during %s)", name, operation)
    return StorageUnavailable(f"file store I/O error ({name})")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], offset + done)


# An upload's write block: every block is fsynced before the upload records its offset, and a
# chat commit's own fsync on the same disk waits behind the block being written. 2 MiB rather
# than 8 cut the chat's p95 during fifty uploads by about a third (7 runs each) at the same
# upload speed, and takes a quarter of the memory per upload; it costs four times the fsyncs
# and progress rows (docs/performance.md, "Files").
DEFAULT_PART_SIZE = 2 * 1024 * 1024


class LocalBlobStore:
    """``BlobStore`` on a local directory (see the module docstring for the layout)."""

    backend: BackendName = "local"

    def __init__(self, root: Path, *, part_size: int = DEFAULT_PART_SIZE) -> None:
        if part_size <= 0:
            raise ValueError("part_size must be positive")
        self.root = root
        self.part_size = part_size
        self._uploads = root / "uploads"
        self._blobs = root / "blobs"
        self._tmp = root / "tmp"

    # --- paths -------------------------------------------------------------------------------
    def _upload_path(self, key: str) -> Path:
        return self._uploads / check_key(key)

    def _blob_path(self, key: str) -> Path:
        return self._blobs / check_key(key)

    def _make_dirs(self, directory: Path) -> None:
        """Creates ``directory`` (and parents) so that the new entries survive a power cut."""
        created: list[Path] = []
        current = directory
        while not current.is_dir():
            created.append(current)
            if current.parent == current:
                break
            current = current.parent
        directory.mkdir(parents=True, exist_ok=True)
        for path in reversed(created):
            _fsync_dir(path.parent)

    # --- resumable uploads -------------------------------------------------------------------
    def begin_upload(self, key: str) -> UploadState:
        path = self._upload_path(key)
        try:
            self._make_dirs(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(path.parent)
        except OSError as exc:
            raise _storage_error(exc, "begin_upload") from exc
        return UploadState()

    def append_upload(self, key: str, state: UploadState, data: bytes) -> UploadState:
        path = self._upload_path(key)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        except _ABSENT:
            raise BlobNotFound(f"no unfinished upload {key}") from None
        except OSError as exc:
            raise _storage_error(exc, "append_upload") from exc
        try:
            length = os.fstat(fd).st_size
            if length < state.size:
                raise BlobNotFound(f"unfinished upload {key} holds fewer bytes than its state")
            if length > state.size:  # an append whose new state was never persisted
                os.ftruncate(fd, state.size)
            try:
                _pwrite_all(fd, data, state.size)
                os.fsync(fd)
            except OSError:
                # Whatever part of ``data`` reached the file is cut off again, so the partial
                # file matches the persisted state and a retry (after space is freed) is clean.
                self._truncate_quietly(fd, state.size)
                raise
        except OSError as exc:
            raise _storage_error(exc, "append_upload") from exc
        finally:
            os.close(fd)
        return UploadState(size=state.size + len(data))

    @staticmethod
    def _truncate_quietly(fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)  # shrinking needs no free space
            os.fsync(fd)
        except OSError as exc:
            logger.error(
                "could not cut a failed append back (%s)", errno.errorcode.get(exc.errno or 0)
            )

    def complete_upload(self, key: str, state: UploadState) -> None:
        source = self._upload_path(key)
        target = self._blob_path(key)
        try:
            fd = os.open(source, os.O_WRONLY | os.O_CLOEXEC)
        except _ABSENT:
            # Completed before, by a call whose caller did not live to record it?
            if self.size(key) == state.size:
                return
            raise BlobNotFound(f"no unfinished upload {key}") from None
        except OSError as exc:
            raise _storage_error(exc, "complete_upload") from exc
        try:
            length = os.fstat(fd).st_size
            if length < state.size:
                raise BlobNotFound(f"unfinished upload {key} holds fewer bytes than its state")
            if length > state.size:
                os.ftruncate(fd, state.size)
            os.fsync(fd)
        except OSError as exc:
            raise _storage_error(exc, "complete_upload") from exc
        finally:
            os.close(fd)
        try:
            self._make_dirs(target.parent)
            os.replace(source, target)
            _fsync_dir(target.parent)
            _fsync_dir(source.parent)
        except OSError as exc:
            raise _storage_error(exc, "complete_upload") from exc

    def abort_upload(self, key: str, state: UploadState) -> None:
        try:
            self._upload_path(key).unlink()
        except _ABSENT:
            return
        except OSError as exc:
            raise _storage_error(exc, "abort_upload") from exc

    def list_stale_uploads(self, older_than: dt.datetime) -> list[StaleUpload]:
        """Partial files last written before ``older_than`` (the mtime is the last append, so
        an upload still making progress is never listed)."""
        stale: list[StaleUpload] = []
        try:
            for dirpath, _dirnames, filenames in os.walk(self._uploads):
                for name in filenames:
                    path = Path(dirpath) / name
                    try:
                        mtime = path.stat().st_mtime
                    except FileNotFoundError:  # completed or aborted meanwhile
                        continue
                    written = dt.datetime.fromtimestamp(mtime, dt.UTC)
                    if written >= older_than:
                        continue
                    key = path.relative_to(self._uploads).as_posix()
                    try:
                        check_key(key)
                    except ValueError:
                        logger.warning("ignoring a file in uploads/ that is not a blob key")
                        continue
                    stale.append(StaleUpload(key=key, multipart_id=None, started_at=written))
        except OSError as exc:
            raise _storage_error(exc, "list_stale_uploads") from exc
        return sorted(stale, key=lambda upload: upload.key)

    # --- blobs -------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self._blob_path(key)
        tmp_name: str | None = None
        try:
            self._make_dirs(self._tmp)
            self._make_dirs(target.parent)
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
            try:
                _pwrite_all(fd, data, 0)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp_name, target)
            tmp_name = None
            _fsync_dir(target.parent)
        except OSError as exc:
            raise _storage_error(exc, "put") from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)

    def open_read(self, key: str, start: int = 0, end: int | None = None) -> ChunkIterator:
        if start < 0 or (end is not None and end < start):
            raise ValueError("invalid byte range")
        path = self._blob_path(key)
        try:
            fh = path.open("rb", buffering=0)
        except _ABSENT:
            raise BlobNotFound(f"no blob {key}") from None
        except OSError as exc:
            raise _storage_error(exc, "open_read") from exc
        try:
            fh.seek(start)
        except OSError as exc:
            fh.close()
            raise _storage_error(exc, "open_read") from exc

        def read(n: int) -> bytes:
            return fh.read(n) or b""

        def map_error(exc: Exception) -> BlobStoreError:
            if isinstance(exc, OSError):
                return _storage_error(exc, "open_read")
            return StorageUnavailable("file store read failed")

        length = None if end is None else end - start
        return ChunkIterator(read, fh.close, length, map_error, (OSError,))

    def size(self, key: str) -> int | None:
        try:
            st = self._blob_path(key).stat()
        except _ABSENT:
            return None
        except OSError as exc:
            raise _storage_error(exc, "size") from exc
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def delete(self, key: str) -> None:
        try:
            self._blob_path(key).unlink()
        except _ABSENT:
            return
        except OSError as exc:
            raise _storage_error(exc, "delete") from exc

    def presigned_url(
        self,
        key: str,
        *,
        file_name: str,
        content_type: str,
        inline: bool,
        expires_s: int,
    ) -> str | None:
        return None  # the app serves local blobs itself
