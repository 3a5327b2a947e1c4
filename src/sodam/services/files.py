"""Files of rooms: authorised downloads and thumbnails, the room drawer (서랍), and the jobs that
scan, thumbnail, delete and expire files (docs/files.md, docs/media.md).

Who may read a file is decided on every request from the current membership: a room the caller
is not in, a guessed id, a file of an unsent message or of history before the caller joined all
answer 404 like a missing file. Infected files are blocked for everyone.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

import sqlalchemy as sa

from sodam.bus.base import Bus
from sodam.config import FileSettings
from sodam.db import audit as audit_repo
from sodam.db import files as files_repo
from sodam.db import messages as messages_repo
from sodam.db.engine import Database
from sodam.domain.attachments import (
    Attachment,
    may_download,
    thumbnail_key,
)
from sodam.domain.clock import Clock
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.errors import Conflict, Forbidden, InvalidInput, NotFound
from sodam.files.base import (
    BlobNotFound,
    BlobReader,
    BlobStore,
    StorageFull,
    StorageUnavailable,
)
from sodam.files.media import MediaRefused, make_thumbnails, video_poster
from sodam.observability.failpoints import Failpoints
from sodam.services.attachments import DELETE_BLOBS_JOB, blob_keys, record_message_change_txn
from sodam.services.context import Principal
from sodam.services.jobs import Job, PermanentJobError, RetryLater, enqueue_txn
from sodam.services.roomlog import Outgoing
from sodam.services.rooms import get_room_for_member_txn
from sodam.services.storage import BlobIO, storage_errors

logger = logging.getLogger(__name__)

FILE_NOT_FOUND = ("file_not_found", "No such file.")
DRAWER_KINDS: dict[str, tuple[str, ...]] = {
    "media": ("image", "video"),
    "image": ("image",),
    "video": ("video",),
    "audio": ("audio",),
    "file": ("file",),
    "all": ("image", "video", "audio", "file"),
}
# What ``open_chunks`` returns (named here so the API layer need not import the blob store).
ChunkReader = BlobReader
# Images larger than this are not thumbnailed (their header is still checked for the pixel cap).
THUMBNAIL_INPUT_MAX_BYTES = 64 * 1024 * 1024


class ScanVerdictLike(Protocol):
    @property
    def state(self) -> str: ...  # clean | infected | unscanned | error
    @property
    def signature(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...


class Scanner(Protocol):
    async def scan(
        self, chunks: AsyncIterator[bytes] | Iterator[bytes], size: int
    ) -> ScanVerdictLike: ...


@dataclass(frozen=True, slots=True)
class FileAccess:
    attachment: Attachment
    key: str
    size: int
    inline_ok: bool


@dataclass(frozen=True, slots=True)
class DrawerItem:
    attachment: Attachment
    sender_id: UserId | None
    created_at: dt.datetime


class FileService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        store: BlobStore,
        settings: FileSettings,
        scanner: Scanner | None,
        failpoints: Failpoints | None = None,
        blob_io: BlobIO | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._store = store
        self._settings = settings
        self._scanner = scanner
        self._failpoints = failpoints or Failpoints()
        self._io = blob_io or BlobIO()
        self._rng = random.Random()  # noqa: S311 -- retry jitter, not security

    @property
    def store(self) -> BlobStore:
        return self._store

    @property
    def requires_clean(self) -> bool:
        return self._settings.download_requires_clean

    # --- authorised reads ---------------------------------------------------------------------

    def _readable_txn(self, conn: sa.Connection, me: UserId, attachment_id: int) -> Attachment:
        attachment = files_repo.select_attachment(conn, attachment_id)
        if (
            attachment is None
            or attachment.deleted_at is not None
            or attachment.room_id is None
            or attachment.message_id is None
        ):
            raise NotFound(*FILE_NOT_FOUND)
        try:
            _room, membership = get_room_for_member_txn(conn, attachment.room_id, me)
        except NotFound as exc:
            raise NotFound(*FILE_NOT_FOUND) from exc
        message = messages_repo.select_message(conn, attachment.room_id, attachment.message_id)
        if (
            message is None
            or message.is_unsent
            or message.hidden_at is not None  # 가리기 hides the files too
            or message.seq < membership.visible_from_seq
        ):
            raise NotFound(*FILE_NOT_FOUND)
        return attachment

    def _check_shareable(self, attachment: Attachment, me: UserId) -> None:
        if attachment.scan_state == "infected":
            raise Forbidden("file_blocked", "This file was blocked: a virus was found.")
        if not may_download(attachment, me, requires_clean=self.requires_clean):
            raise Conflict(
                "file_not_scanned",
                "This file can be downloaded once the virus scan has finished.",
                {"scan_state": attachment.scan_state},
            )

    async def open_file(self, principal: Principal, attachment_id: int) -> FileAccess:
        me = principal.user.id
        attachment = await self._db.read(
            partial(self._readable_txn, me=me, attachment_id=attachment_id)
        )
        self._check_shareable(attachment, me)
        return FileAccess(attachment, attachment.storage_key, attachment.size, inline_ok=True)

    async def open_thumbnail(
        self, principal: Principal, attachment_id: int, size: Literal["small", "large"]
    ) -> FileAccess:
        me = principal.user.id
        attachment = await self._db.read(
            partial(self._readable_txn, me=me, attachment_id=attachment_id)
        )
        self._check_shareable(attachment, me)
        key = attachment.thumb_small_key if size == "small" else attachment.thumb_large_key
        if attachment.thumb_state != "ready" or key is None:
            raise NotFound("thumbnail_not_found", "This file has no thumbnail (yet).")
        with storage_errors():
            length = await self._io.run(self._store.size, key)
        if length is None:
            raise NotFound("thumbnail_not_found", "This file has no thumbnail (yet).")
        return FileAccess(attachment, key, length, inline_ok=True)

    async def next_chunk(self, reader: ChunkReader) -> bytes | None:
        """The reader's next chunk (None at the end), read on a blob thread."""
        return await self._io.run(next, reader, None)

    async def close_reader(self, reader: ChunkReader) -> None:
        await self._io.run(reader.close)

    async def open_chunks(self, key: str, start: int, end: int) -> ChunkReader:
        """The bytes [start, end) of a blob, opened now (a file store that is down answers 503,
        a missing blob 404, before any part of a response is sent). Read it with
        ``next_chunk`` and close it with ``close_reader`` however the response ends."""
        with storage_errors():
            return await self._io.run(self._store.open_read, key, start, end)

    def presigned_url(self, access: FileAccess, *, inline: bool, expires_s: int) -> str | None:
        return self._store.presigned_url(
            access.key,
            file_name=access.attachment.file_name,
            content_type=access.attachment.content_type,
            inline=inline,
            expires_s=expires_s,
        )

    async def drawer(
        self,
        principal: Principal,
        room_id: RoomId,
        *,
        kind: str,
        before_id: int | None,
        limit: int,
    ) -> tuple[list[DrawerItem], bool]:
        kinds = DRAWER_KINDS.get(kind)
        if kinds is None:
            raise InvalidInput(
                "drawer_kind_invalid", "Unknown kind.", {"kinds": list(DRAWER_KINDS)}
            )

        def drawer_txn(conn: sa.Connection) -> tuple[list[DrawerItem], bool]:
            _room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            rows = files_repo.select_drawer(
                conn,
                room_id,
                kinds=kinds,
                visible_from_seq=membership.visible_from_seq,
                before_id=before_id,
                limit=limit + 1,
            )
            items = [DrawerItem(a, sender, at) for a, sender, at in rows[:limit]]
            return items, len(rows) > limit

        return await self._db.read(drawer_txn)

    # --- jobs ---------------------------------------------------------------------------------

    async def _load_for_job(self, job: Job) -> Attachment | None:
        try:
            attachment_id = int(job.payload["attachment_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentJobError("payload without attachment_id") from exc
        attachment = await self._db.read(
            partial(files_repo.select_attachment, attachment_id=attachment_id)
        )
        if attachment is None or attachment.deleted_at is not None:
            return None  # unsent or expired meanwhile: nothing to do
        return attachment

    async def scan_job(self, job: Job) -> None:
        """``files.scan``: stream the file to clamd. Clean/infected/unscanned are final; a
        scanner (or file store) that is down or times out leaves the file pending and the job
        retries with a growing delay (``files.scan_retry_s`` doubling up to
        ``files.scan_retry_max_s``). Nothing but clamd's own verdict ever makes a file clean."""
        attachment = await self._load_for_job(job)
        if attachment is None or attachment.scan_state != "pending":
            return
        if self._scanner is None:
            # The file was sent where a scanner is configured; this worker has none. Never
            # decide "unscanned, shared" here: wait for a worker that can scan.
            raise self._scan_retry(job, "no scanner configured on this worker")
        key = str(attachment.id)
        try:
            verdict = await self._scanner.scan(
                self._iter_blob(attachment.storage_key, key), attachment.size
            )
        except StorageUnavailable as exc:
            raise self._scan_retry(job, f"file store unavailable: {exc}") from None
        except BlobNotFound:
            raise PermanentJobError("the file's blob is missing") from None
        if verdict.state == "error":
            raise self._scan_retry(job, f"scanner unavailable: {verdict.reason or 'error'}")
        if verdict.state not in ("clean", "infected", "unscanned"):
            raise self._scan_retry(job, f"unexpected verdict {verdict.state}")
        # kill -9 here: the verdict is lost with the process; the lease expires and the scan
        # runs again (F2), the file staying pending meanwhile.
        self._failpoints.check("files.scan.before_verdict", key)
        await self._set_scan(attachment, verdict.state, verdict.reason, verdict.signature)

    def _scan_retry(self, job: Job, reason: str) -> RetryLater:
        """The next scan attempt after ``scan_retry_s * 2**(attempt-1)`` seconds, at most
        ``scan_retry_max_s``, shortened by up to a quarter at random (files that failed
        together do not all come back together)."""
        exponent = min(max(job.attempts, 1) - 1, 62)
        delay = min(self._settings.scan_retry_s * 2.0**exponent, self._settings.scan_retry_max_s)
        return RetryLater(delay * (1.0 - 0.25 * self._rng.random()), reason)

    async def _iter_blob(self, key: str, failpoint_key: str | None = None) -> AsyncIterator[bytes]:
        """A blob's chunks read in a thread, one at a time (memory stays at one chunk)."""
        it = await self._io.run(self._store.open_read, key)
        done = object()
        try:
            while True:
                chunk = await self._io.run(next, it, done)
                if chunk is done:
                    return
                assert isinstance(chunk, bytes)  # noqa: S101 -- the store yields bytes
                yield chunk
                # kill -9 here: clamd has part of the stream and sees the connection drop.
                self._failpoints.check("files.scan.streaming", failpoint_key)
        finally:
            await self._io.run(it.close)

    async def _set_scan(
        self, attachment: Attachment, state: str, reason: str | None, signature: str | None
    ) -> None:
        now = self._clock.now()
        out = Outgoing()

        def scan_txn(conn: sa.Connection) -> bool:
            # Only a pending, live file takes a verdict: a re-run (a lost lease) or a file
            # unsent meanwhile changes nothing and tells no one twice.
            if not files_repo.update_pending_attachment(
                conn,
                attachment.id,
                "scan_state",
                {"scan_state": state, "scan_reason": reason, "scanned_at": now},
            ):
                return False
            self._attachment_changed_txn(conn, out, attachment, now)
            if state == "infected":
                audit_repo.insert_audit_log(
                    conn,
                    at=now,
                    actor_id=None,
                    action="file.infected",
                    target_type="attachment",
                    target_id=str(attachment.id),
                    data={
                        "signature": signature,
                        "uploader_id": attachment.uploader_id,
                        "room_id": attachment.room_id,
                        "sha256": attachment.sha256,
                    },
                )
                if attachment.uploader_id is not None:
                    # The sender is told (on every device), with the file's name.
                    out.to_user(
                        attachment.uploader_id,
                        {
                            "type": "file.blocked",
                            "attachment_id": attachment.id,
                            "room_id": attachment.room_id,
                            "message_id": attachment.message_id,
                            "file_name": attachment.file_name,
                            "signature": signature,
                        },
                    )
            return True

        if not await self._db.write(scan_txn, background=True):
            return
        await out.publish(self._bus)
        if state == "infected":
            logger.warning(
                "infected file blocked", extra={"attachment_id": attachment.id, "sig": signature}
            )

    async def thumbnail_job(self, job: Job) -> None:
        """``files.thumbnail``: two WebP previews without metadata (EXIF orientation applied,
        GPS and everything else stripped); for videos from a poster frame when ffmpeg is
        installed. A refused image (too many pixels, corrupt, unsupported) gets none."""
        attachment = await self._load_for_job(job)
        if attachment is None or attachment.thumb_state != "pending":
            return
        if attachment.kind == "image" and attachment.size > THUMBNAIL_INPUT_MAX_BYTES:
            await self._set_thumbs(attachment, "none", None, None, None)
            return
        try:
            thumbs = await self._io.run(self._render_thumbnails, attachment)
        except BlobNotFound:
            raise PermanentJobError("the file's blob is missing") from None
        except (StorageFull, StorageUnavailable) as exc:
            raise RetryLater(60.0, f"storage: {exc}") from exc
        if thumbs is None:
            await self._set_thumbs(attachment, "none", None, None, None)
            return
        small, large, size = thumbs
        # kill -9 here: the thumbnails are stored but not recorded; the retry overwrites them
        # (their keys derive from the file's) and records them once.
        self._failpoints.check("files.thumbnail.before_commit", str(attachment.id))
        await self._set_thumbs(attachment, "ready", small, large, size)
        # kill -9 here: recorded (with its room event) but the job is not marked done; the
        # retry finds the state no longer pending and does nothing.
        self._failpoints.check("files.thumbnail.after_commit", str(attachment.id))

    def _render_thumbnails(
        self, attachment: Attachment
    ) -> tuple[str, str, tuple[int, int] | None] | None:
        """Blocking: spool the file to a temp file, render, store both sizes. Returns the keys
        and the original's oriented size, or None when no thumbnail can be made."""
        sizes = list(self._settings.thumbnail_sizes)[:2]
        with tempfile.TemporaryDirectory(prefix="sodam-thumb-") as tmp:
            src = Path(tmp) / "src"
            with src.open("wb") as fh:
                for chunk in self._store.open_read(attachment.storage_key):
                    fh.write(chunk)
            try:
                if attachment.kind == "video":
                    ffmpeg = self._settings.ffmpeg_path or shutil.which("ffmpeg")
                    poster = video_poster(src, ffmpeg=ffmpeg)
                    if poster is None:
                        return None
                    src.write_bytes(poster)
                with src.open("rb") as fh:
                    thumbs = make_thumbnails(
                        fh, max_pixels=self._settings.image_max_pixels, sizes=sizes
                    )
            except MediaRefused as exc:
                logger.info(
                    "no thumbnail", extra={"attachment_id": attachment.id, "reason": exc.reason}
                )
                return None
        if len(thumbs) < 2:
            return None
        small_key = thumbnail_key(attachment.storage_key, "small")
        large_key = thumbnail_key(attachment.storage_key, "large")
        self._store.put(small_key, thumbs[0].data, thumbs[0].content_type)
        self._store.put(large_key, thumbs[1].data, thumbs[1].content_type)
        # the large thumbnail keeps the aspect of the (oriented) original
        return small_key, large_key, (thumbs[1].width, thumbs[1].height)

    async def _set_thumbs(
        self,
        attachment: Attachment,
        state: str,
        small: str | None,
        large: str | None,
        size: tuple[int, int] | None,
    ) -> None:
        values: dict[str, object] = {
            "thumb_state": state,
            "thumb_small_key": small,
            "thumb_large_key": large,
        }
        if size is not None and attachment.kind == "image":
            values["width"], values["height"] = size
        updated = await self._update_and_publish(attachment, values, pending="thumb_state")
        if not updated and small is not None:
            # Unsent, expired or done by another run meanwhile. If the file is gone, what this
            # run wrote is referenced by nothing: remove it (another run's thumbnails of a live
            # file have the same keys and stay).
            current = await self._db.read(
                partial(files_repo.select_attachment, attachment_id=attachment.id)
            )
            if current is None or current.deleted_at is not None:
                with storage_errors():
                    for key in (small, large):
                        if key:
                            await self._io.run(self._store.delete, key)

    def _attachment_changed_txn(
        self, conn: sa.Connection, out: Outgoing, attachment: Attachment, now: dt.datetime
    ) -> None:
        """The ``message.updated`` (change "attachment") event of the attachment's message."""
        if attachment.room_id is None or attachment.message_id is None:
            return
        record_message_change_txn(
            conn,
            out,
            room_id=attachment.room_id,
            message_id=MessageId(attachment.message_id),
            change="attachment",
            actor=None,
            now=now,
            requires_clean=self.requires_clean,
        )

    async def _update_and_publish(
        self, attachment: Attachment, values: dict[str, object], *, pending: str | None = None
    ) -> bool:
        """Updates the attachment and records its ``message.updated`` event in one transaction:
        a crash between the two would leave a state change no client is ever told about, and
        the job's retry would find nothing left to do. With ``pending`` (a state column), only
        a live attachment still pending there changes; False when nothing changed."""
        out = Outgoing()
        now = self._clock.now()

        def update_txn(conn: sa.Connection) -> bool:
            if pending is not None:
                if not files_repo.update_pending_attachment(conn, attachment.id, pending, values):
                    return False
            else:
                files_repo.update_attachment(conn, attachment.id, values)
            self._attachment_changed_txn(conn, out, attachment, now)
            return True

        updated = await self._db.write(update_txn, background=True)
        await out.publish(self._bus)
        return updated

    async def delete_blobs_job(self, job: Job) -> None:
        """``files.delete_blobs``: removes blobs of unsent or expired files (idempotent)."""
        keys = job.payload.get("keys")
        if not isinstance(keys, list):
            raise PermanentJobError("payload without keys")
        with storage_errors():
            for key in keys:
                await self._io.run(self._store.delete, str(key))

    async def retention_job(self, _job: Job) -> None:
        """``files.retention``: files older than files.retention_days are deleted (their
        messages stay, showing the file as expired)."""
        days = self._settings.retention_days
        if not days:
            return
        cutoff = self._clock.now() - dt.timedelta(days=days)
        while True:
            batch = await self._db.read(
                partial(files_repo.select_expired_attachments, created_before=cutoff, limit=200)
            )
            if not batch:
                return
            for attachment in batch:
                await self._expire(attachment)

    async def _expire(self, attachment: Attachment) -> None:
        """Marks the file deleted, queues its blobs' deletion and records the room event in one
        transaction: a store error never leaves blobs nothing points at any more, and no crash
        leaves a change untold."""
        now = self._clock.now()
        out = Outgoing()

        def expire_txn(conn: sa.Connection) -> None:
            files_repo.update_attachment(conn, attachment.id, {"deleted_at": now})
            enqueue_txn(
                conn, kind=DELETE_BLOBS_JOB, payload={"keys": blob_keys(attachment)}, now=now
            )
            self._attachment_changed_txn(conn, out, attachment, now)

        await self._db.write(expire_txn, background=True)
        await out.publish(self._bus)
