"""The S3 blob store (MinIO in production; moto's server in the tests).

Uploads go into an S3 multipart upload. S3 wants every part but the last to be at least 5 MiB,
while tus clients send whatever chunk sizes they like, so bytes that do not yet fill a part are
kept in a *tail object* until more arrive::

    <key>                                        finished blobs (and thumbnails)
    _uploads/<key>/<upload-hash>/tail-<n>        the bytes after part n of an unfinished upload

``append_upload`` reads the persisted tail (only its first ``state.tail_size`` bytes), uploads
every full part the tail plus the new bytes make, and writes the remainder as the tail after the
new last part. The tail's name carries the number of parts before it, so an append that was
redone from an older persisted state (the caller crashed before saving the new state) still finds
the tail that state refers to: an append that filled a part wrote its remainder under a new name
and left the old tail alone, and an append that did not fill a part rewrote the same tail with
the old bytes as its prefix. Tails no persisted state can refer to are deleted by later appends,
by ``complete_upload`` and by ``abort_upload``; ``list_stale_uploads`` also reports tails left
behind by a crash, and a bucket lifecycle rule on ``_uploads/`` is the last safety net
(docs/storage.md). Memory: an append holds at most one part besides the caller's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sodam.domain.files import content_disposition
from sodam.files.base import (
    BackendName,
    BlobNotFound,
    BlobStoreError,
    StaleUpload,
    StorageUnavailable,
    UploadState,
)
from sodam.files.keys import RESERVED_PREFIX, check_key
from sodam.files.reading import READ_CHUNK, ChunkIterator
from sodam.files.s3errors import S3_ERRORS, TRANSPORT_ERRORS, error_code, map_s3_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
# <reserved prefix>/<key>/<hash of the multipart upload id>/tail-<parts before the tail>
_TAIL_RE = re.compile(
    rf"^{re.escape(RESERVED_PREFIX)}/(?P<key>.+)/(?P<upload>[0-9a-f]{{24}})/tail-(?P<parts>[0-9]+)$"
)


class _BytesWindow(io.RawIOBase):
    """A seekable read-only file over a memoryview, so a slice of the caller's block can be
    sent as a request body without copying it (botocore accepts bytes or file objects)."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        chunk = self._view[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        chunk = bytes(self._view[self._pos : end])
        self._pos += len(chunk)
        return chunk

    def __len__(self) -> int:
        return len(self._view) - self._pos

    def as_body(self) -> IO[bytes]:
        # Typed as the file object it behaves like (the stubs want typing.IO).
        return cast("IO[bytes]", self)


def _upload_hash(multipart_id: str) -> str:
    # Upload ids are long and their alphabet is the server's business: hash them into a name.
    return hashlib.sha256(multipart_id.encode()).hexdigest()[:24]


class S3BlobStore:
    """``BlobStore`` on an S3-compatible bucket (see the module docstring for the design)."""

    backend: BackendName = "s3"

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        bucket: str,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        part_size: int = 8 * 1024 * 1024,
        create_bucket: bool = False,
        connect_timeout_s: float = 5,
        read_timeout_s: float = 60,
        max_attempts: int = 3,
        public_endpoint_url: str | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        """``session``: a boto3 session to create the clients from (tests share one, since
        loading the S3 model takes a quarter of a second); by default a new one."""
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError("part_size must be between 5 MiB and 5 GiB")
        self.part_size = part_size
        self.bucket = bucket
        self._create_bucket = create_bucket
        self._bucket_ready = not create_bucket
        self._bucket_lock = threading.Lock()
        self._region = region
        config = Config(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            # total_max_attempts counts every try; botocore's "max_attempts" would count
            # retries only (one more try, one more read timeout on a stalled S3).
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            max_pool_connections=32,
            # boto3 >= 1.36 sends CRC checksums by default, which older MinIO releases and other
            # S3-compatible servers reject; S3 checks Content-Length and the ETag is the MD5.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # Never boto3's module-level default session: it is shared, mutable global state.
        session = session or boto3.session.Session()
        credentials: dict[str, Any] = {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._client: S3Client = session.client(
            "s3", endpoint_url=endpoint_url, config=config, **credentials
        )
        # Presigned URLs are signed for the host the browser will talk to.
        self._presign_client: S3Client = (
            session.client("s3", endpoint_url=public_endpoint_url, config=config, **credentials)
            if public_endpoint_url
            else self._client
        )

    # --- helpers -----------------------------------------------------------------------------
    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        try:
            yield
        except S3_ERRORS as exc:
            mapped = map_s3_error(exc)
            if isinstance(mapped, StorageUnavailable):
                logger.warning("S3 %s failed: %s", operation, mapped)
            raise mapped from exc

    def ensure_bucket(self) -> None:
        """Creates the bucket if it does not exist (``create_bucket=True``; development and
        tests). Called lazily by the first operation, so the app starts while S3 is down."""
        if self._bucket_ready:
            return
        with self._bucket_lock:
            if self._bucket_ready:
                return
            try:
                with self._errors("head_bucket"):
                    self._client.head_bucket(Bucket=self.bucket)
            except BlobNotFound:
                self._make_bucket()
            self._bucket_ready = True

    def _make_bucket(self) -> None:
        try:
            with self._errors("create_bucket"):
                if self._region == "us-east-1":
                    self._client.create_bucket(Bucket=self.bucket)
                else:
                    self._client.create_bucket(
                        Bucket=self.bucket,
                        CreateBucketConfiguration={"LocationConstraint": self._region},  # type: ignore[typeddict-item] # any region name
                    )
        except StorageUnavailable as exc:
            cause = exc.__cause__
            if not (
                isinstance(cause, ClientError) and error_code(cause) == "BucketAlreadyOwnedByYou"
            ):
                raise

    def _tail_key(self, key: str, multipart_id: str, parts_before: int) -> str:
        return f"{RESERVED_PREFIX}/{key}/{_upload_hash(multipart_id)}/tail-{parts_before}"

    def _read_tail(self, key: str, multipart_id: str, state: UploadState, into: memoryview) -> None:
        """Fills ``into`` with the ``state.tail_size`` bytes of the tail ``state`` refers to."""
        tail_key = self._tail_key(key, multipart_id, len(state.parts))
        filled = 0
        with self._errors("get tail"):
            body = self._client.get_object(
                Bucket=self.bucket, Key=tail_key, Range=f"bytes=0-{state.tail_size - 1}"
            )["Body"]
            try:
                while filled < state.tail_size:
                    chunk = body.read(min(READ_CHUNK, state.tail_size - filled))
                    if not chunk:
                        break
                    into[filled : filled + len(chunk)] = chunk
                    filled += len(chunk)
            finally:
                body.close()
        if filled != state.tail_size:
            raise BlobNotFound(f"the tail of upload {key} is shorter than its state")

    def _upload_part(
        self, key: str, multipart_id: str, number: int, data: memoryview
    ) -> tuple[int, str]:
        with self._errors("upload_part"):
            answer = self._client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
                PartNumber=number,
                Body=_BytesWindow(data).as_body(),
            )
        return number, answer["ETag"]

    def _put_tail(self, key: str, multipart_id: str, parts_before: int, data: memoryview) -> None:
        with self._errors("put tail"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=self._tail_key(key, multipart_id, parts_before),
                Body=_BytesWindow(data).as_body(),
            )

    def _delete_tails(self, key: str, multipart_id: str | None, keep: set[int]) -> None:
        """Deletes the upload's tail objects except those after ``keep`` parts; with no
        ``multipart_id``, the tails of every upload of ``key``."""
        prefix = f"{RESERVED_PREFIX}/{key}/"
        if multipart_id is not None:
            prefix += f"{_upload_hash(multipart_id)}/"
        doomed: list[str] = []
        with self._errors("list tails"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    match = _TAIL_RE.match(item["Key"])
                    if match is None or match["key"] != key:
                        continue  # not a tail, or the tail of a longer key
                    if int(match["parts"]) not in keep:
                        doomed.append(item["Key"])
        for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1000 keys
            with self._errors("delete tails"):
                self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={
                        "Objects": [{"Key": k} for k in doomed[start : start + 1000]],
                        "Quiet": True,
                    },
                )

    def _forget_tails(self, key: str, multipart_id: str, keep: set[int]) -> None:
        """``_delete_tails`` after the work is done: a failure leaves garbage that a later
        append, the cleaner or the lifecycle rule removes, and must not fail the call."""
        try:
            self._delete_tails(key, multipart_id, keep)
        except BlobStoreError as exc:
            logger.warning("could not delete obsolete upload tails: %s", exc)

    # --- resumable uploads -------------------------------------------------------------------
    def begin_upload(self, key: str) -> UploadState:
        check_key(key)
        self.ensure_bucket()
        with self._errors("create_multipart_upload"):
            answer = self._client.create_multipart_upload(Bucket=self.bucket, Key=key)
        return UploadState(multipart_id=answer["UploadId"])

    def append_upload(self, key: str, state: UploadState, data: bytes) -> UploadState:
        check_key(key)
        self.ensure_bucket()
        multipart_id = state.multipart_id
        if multipart_id is None:
            raise ValueError("an S3 upload state needs its multipart_id")
        if not data:
            return UploadState.from_json(state.to_json())
        size = self.part_size
        parts = list(state.parts)
        view = memoryview(data)
        tail = state.tail_size
        offset = 0  # how much of ``data`` is in a part or the new tail so far
        if tail + len(data) < size:
            # No part gets full: rewrite the same tail with the persisted bytes as its prefix.
            buffer = memoryview(bytearray(tail + len(data)))
            if tail:
                self._read_tail(key, multipart_id, state, buffer[:tail])
            buffer[tail:] = view  # (through a memoryview: a bytearray slice assignment copies)
            self._put_tail(key, multipart_id, len(parts), buffer)
            new_tail = len(buffer)
        else:
            if tail:
                first = memoryview(bytearray(size))
                self._read_tail(key, multipart_id, state, first[:tail])
                first[tail:] = view[: size - tail]
                offset = size - tail
                parts.append(self._upload_part(key, multipart_id, len(parts) + 1, first))
                del first
            while len(data) - offset >= size:
                part = view[offset : offset + size]
                parts.append(self._upload_part(key, multipart_id, len(parts) + 1, part))
                offset += size
            new_tail = len(data) - offset
            if new_tail:
                self._put_tail(key, multipart_id, len(parts), view[offset:])
        if state.parts:
            # Tails before the persisted state's are obsolete, and those after it are left from
            # appends whose state was never persisted; keep the persisted one (a redo may need
            # it) and the new one.
            self._forget_tails(key, multipart_id, keep={len(state.parts), len(parts)})
        return UploadState(
            size=state.size + len(data),
            multipart_id=multipart_id,
            parts=parts,
            tail_size=new_tail,
        )

    def complete_upload(self, key: str, state: UploadState) -> None:
        check_key(key)
        self.ensure_bucket()
        multipart_id = state.multipart_id
        if state.size == 0:
            # A multipart upload needs at least one part: an empty blob is a plain PUT.
            with self._errors("put"):
                self._client.put_object(Bucket=self.bucket, Key=key, Body=b"")
            self.abort_upload(key, state)
            return
        if multipart_id is None:
            raise ValueError("an S3 upload state needs its multipart_id")
        parts = list(state.parts)
        try:
            if state.tail_size:
                # The last part may be smaller than 5 MiB: the tail becomes the final part.
                last = memoryview(bytearray(state.tail_size))
                self._read_tail(key, multipart_id, state, last)
                parts.append(self._upload_part(key, multipart_id, len(parts) + 1, last))
                del last
            with self._errors("complete_multipart_upload"):
                self._client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=multipart_id,
                    MultipartUpload={
                        "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]
                    },
                )
        except BlobNotFound:
            # Completed before, by a call whose caller did not live to record it?
            if self.size(key) != state.size:
                raise
        actual = self.size(key)
        if actual != state.size:
            raise BlobStoreError(f"completed blob {key} has {actual} bytes, not {state.size}")
        self._forget_tails(key, multipart_id, keep=set())

    def abort_upload(self, key: str, state: UploadState) -> None:
        """Aborts the multipart upload (if any) and deletes its tails; with no multipart id,
        deletes every tail kept for ``key`` (orphans reported by ``list_stale_uploads``)."""
        check_key(key)
        self.ensure_bucket()
        if state.multipart_id is not None:
            try:
                with self._errors("abort_multipart_upload"):
                    self._client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=state.multipart_id
                    )
            except BlobNotFound:
                pass  # aborted or completed already
        self._delete_tails(key, state.multipart_id, keep=set())

    def list_stale_uploads(self, older_than: dt.datetime) -> list[StaleUpload]:
        """Multipart uploads initiated before ``older_than``, plus tails older than that whose
        multipart upload is gone (left by a crash during complete or abort), reported with
        ``multipart_id=None``."""
        self.ensure_bucket()
        # Tails first: an upload begun after this listing cannot make its tails look orphaned.
        tails: dict[tuple[str, str], dt.datetime] = {}
        with self._errors("list tails"):
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{RESERVED_PREFIX}/"
            ):
                for item in page.get("Contents", []):
                    match = _TAIL_RE.match(item["Key"])
                    if match is None:
                        continue
                    tail_of = (match["key"], match["upload"])
                    modified = item["LastModified"].astimezone(dt.UTC)
                    tails[tail_of] = min(modified, tails.get(tail_of, modified))
        stale: list[StaleUpload] = []
        live: set[tuple[str, str]] = set()
        with self._errors("list_multipart_uploads"):
            for uploads_page in self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket
            ):
                for upload in uploads_page.get("Uploads", []):
                    key, upload_id = upload["Key"], upload["UploadId"]
                    live.add((key, _upload_hash(upload_id)))
                    initiated = upload["Initiated"].astimezone(dt.UTC)
                    if initiated < older_than:
                        stale.append(StaleUpload(key, upload_id, initiated))
        orphans: dict[str, dt.datetime] = {}
        for (key, upload_hash), modified in tails.items():
            if (key, upload_hash) not in live and modified < older_than:
                orphans[key] = min(modified, orphans.get(key, modified))
        stale.extend(StaleUpload(key, None, modified) for key, modified in orphans.items())
        return sorted(stale, key=lambda upload: (upload.key, upload.multipart_id or ""))

    # --- blobs -------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        self.ensure_bucket()
        with self._errors("put"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )

    def open_read(self, key: str, start: int = 0, end: int | None = None) -> ChunkIterator:
        check_key(key)
        self.ensure_bucket()
        if start < 0 or (end is not None and end < start):
            raise ValueError("invalid byte range")
        if end == start:
            if self.size(key) is None:
                raise BlobNotFound(f"no blob {key}")
            return ChunkIterator(lambda _n: b"", lambda: None, 0, map_s3_error, ())
        try:
            if start or end is not None:
                answer = self._client.get_object(
                    Bucket=self.bucket,
                    Key=key,
                    Range=f"bytes={start}-{'' if end is None else end - 1}",
                )
            else:
                answer = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) == "InvalidRange":
                # ``start`` is at or past the end of the blob: nothing to read.
                return ChunkIterator(lambda _n: b"", lambda: None, 0, map_s3_error, ())
            raise map_s3_error(exc) from exc
        except TRANSPORT_ERRORS as exc:
            raise map_s3_error(exc) from exc
        body = answer["Body"]
        length = None if end is None else end - start
        return ChunkIterator(body.read, body.close, length, map_s3_error, TRANSPORT_ERRORS)

    def size(self, key: str) -> int | None:
        check_key(key)
        self.ensure_bucket()
        try:
            with self._errors("head_object"):
                answer = self._client.head_object(Bucket=self.bucket, Key=key)
        except BlobNotFound:
            return None
        return answer["ContentLength"]

    def delete(self, key: str) -> None:
        check_key(key)
        self.ensure_bucket()
        with self._errors("delete_object"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def presigned_url(
        self,
        key: str,
        *,
        file_name: str,
        content_type: str,
        inline: bool,
        expires_s: int,
    ) -> str:
        check_key(key)
        with self._errors("presign"):
            return self._presign_client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": content_disposition(file_name, inline),
                    "ResponseContentType": content_type,
                },
                ExpiresIn=expires_s,
            )
