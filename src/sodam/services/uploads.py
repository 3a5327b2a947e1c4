"""Resumable uploads (tus 1.0.0): create, append, finish, terminate, expire (docs/files.md).

An upload's bytes go straight to the blob store in blocks of ``store.part_size``; the uploads row
keeps the durable offset and the store's state, so an upload resumes after a network drop, on
another node or after a restart. Memory per active upload is one block, whatever the file size.
The size limit is enforced while streaming: bytes beyond the declared length are never stored.

The sha256 is computed while the bytes stream through this process; when an upload was
continued elsewhere (another node, a restart) the digest is recomputed from the stored file
once it is complete. The content type is sniffed from the first bytes, never taken from the
client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from functools import partial
from typing import Any

import sqlalchemy as sa

from sodam.config import FileSettings, LimitSettings
from sodam.db import files as files_repo
from sodam.db.engine import Database
from sodam.domain.attachments import file_extension, storage_key_for
from sodam.domain.clock import Clock
from sodam.domain.files import clean_file_name
from sodam.domain.uploads import Upload
from sodam.errors import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from sodam.files.base import BlobStore, UploadState
from sodam.files.cleanup import sweep_stale_uploads
from sodam.files.sniff import SNIFF_BYTES, sniff
from sodam.services.bodyslots import BodySlots
from sodam.services.context import Principal
from sodam.services.storage import BlobIO, storage_errors

logger = logging.getLogger(__name__)

UPLOAD_NOT_FOUND = ("upload_not_found", "No such upload.")
_HASHERS_MAX = 512
HEAD_WAIT_S = 10.0
# Threads that hash upload blocks. Few on purpose: every runnable thread takes CPU time from the
# event loop that carries the chat (docs/performance.md, "Files"). The store appends run on the
# blob threads, so a stalled store holds those, never the hashing of other uploads.
BLOCK_THREADS = 2


class UploadService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        store: BlobStore,
        limits: LimitSettings,
        files: FileSettings,
        blob_io: BlobIO | None = None,
        slots: BodySlots | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._store = store
        self._io = blob_io or BlobIO()
        self._blocks = BlobIO(BLOCK_THREADS, name="sodam-upload-block")
        self._slots = slots or BodySlots.for_node(files)
        self._limits = limits
        self._files = files
        # upload id -> (offset the digest covers, running sha256); see the module docstring
        self._hashers: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        # one PATCH at a time per upload on this node: upload id -> (lock, tasks using it)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def max_size(self) -> int:
        return self._limits.attachment_max_bytes

    def close(self) -> None:
        self._blocks.close()

    # --- creation ----------------------------------------------------------------------------

    async def create(self, principal: Principal, *, length: int, file_name: str) -> Upload:
        if length < 0:
            raise InvalidInput("upload_length_invalid", "Upload-Length must be 0 or more.")
        if length > self.max_size:
            raise PayloadTooLarge(
                "file_too_large", "The file is larger than allowed.", {"max_bytes": self.max_size}
            )
        name = clean_file_name(file_name)
        allowed = [e.lower().lstrip(".") for e in self._files.allowed_extensions]
        if allowed and file_extension(name) not in allowed:
            raise InvalidInput(
                "file_type_not_allowed",
                "Files of this type may not be sent.",
                {"allowed_extensions": allowed},
            )
        now = self._clock.now()
        upload_id = secrets.token_hex(16)
        key = storage_key_for(upload_id, now)
        me = principal.user.id

        upload = Upload(
            id=upload_id,
            user_id=me,
            length=length,
            offset=0,
            file_name=name,
            metadata={"filename": name},
            storage_key=key,
            store_state={},
            created_at=now,
            expires_at=now + dt.timedelta(seconds=self._files.upload_expiry_s),
        )

        def reserve_txn(conn: sa.Connection) -> None:
            # Checked and reserved in one transaction, the user's row locked (PostgreSQL; SQLite
            # has one writer): parallel creations cannot all pass the same check.
            files_repo.lock_user_for_uploads(conn, me)
            pending, reserved, stored = files_repo.select_upload_usage(conn, me)
            if pending >= self._files.max_pending_uploads:
                raise RateLimited(
                    "too_many_pending_uploads",
                    "Too many unfinished uploads; finish or cancel some first.",
                    {"max_pending_uploads": self._files.max_pending_uploads},
                )
            if reserved + stored + length > self._files.user_quota_bytes:
                raise PayloadTooLarge(
                    "quota_exceeded",
                    "Your storage quota is used up.",
                    {"quota_bytes": self._files.user_quota_bytes, "used_bytes": reserved + stored},
                )
            files_repo.insert_upload(conn, upload)

        await self._db.write(reserve_txn, background=True)
        try:
            with storage_errors():
                state = await self._io.run(self._store.begin_upload, key)
        except BaseException:
            await self._db.write(
                partial(files_repo.delete_upload, upload_id=upload_id), background=True
            )
            raise
        await self._db.write(
            partial(
                files_repo.update_upload_progress,
                upload_id=upload_id,
                expected_offset=0,
                offset=0,
                store_state=state.to_json(),
            ),
            background=True,
        )
        upload = replace(upload, store_state=state.to_json())
        if length == 0:
            return await self._finish(upload, state)
        return upload

    async def create_with_data(
        self,
        principal: Principal,
        *,
        length: int,
        file_name: str,
        chunks: AsyncIterator[bytes],
        content_length: int | None,
    ) -> Upload:
        """tus creation-with-upload: ``create``, then the request body as the first bytes. When
        storing them fails (disk full, store down) the new upload is removed again: the client
        gets an error instead of a Location, so it could never resume or delete it, and it
        would hold one of its pending uploads and its quota until it expired."""
        upload = await self.create(principal, length=length, file_name=file_name)
        if upload.finished:
            return upload
        try:
            return await self.append(
                principal, upload.id, offset=0, chunks=chunks, content_length=content_length
            )
        except AppError:
            await self._discard_quietly(upload)
            raise

    # --- reading and appending ----------------------------------------------------------------

    async def status(self, principal: Principal, upload_id: str) -> Upload:
        """An upload's state for tus HEAD. A PATCH still running here (often one whose client
        has gone: that is why the client asks) is waited for, a bounded while, so the answer
        includes every byte that arrived."""
        entry = self._locks.get(upload_id)
        lock = entry[0] if entry is not None else None
        if lock is not None and lock.locked():
            try:
                async with asyncio.timeout(HEAD_WAIT_S):
                    async with lock:
                        pass
            except TimeoutError:
                pass
        return await self.get(principal, upload_id)

    async def get(self, principal: Principal, upload_id: str) -> Upload:
        """The caller's own upload; anyone else's, an unknown or an expired one is not found."""
        upload = await self._db.read(partial(files_repo.select_upload, upload_id=upload_id))
        if upload is None or upload.user_id != principal.user.id:
            raise NotFound(*UPLOAD_NOT_FOUND)
        if upload.expires_at is not None and upload.expires_at <= self._clock.now():
            raise NotFound(*UPLOAD_NOT_FOUND)
        if not upload.finished and upload.offset == upload.length:
            # Every byte arrived but finishing was interrupted (a crash): finish now.
            return await self._finish(upload, UploadState.from_json(upload.store_state))
        return upload

    async def append(
        self,
        principal: Principal,
        upload_id: str,
        *,
        offset: int,
        chunks: AsyncIterator[bytes],
        content_length: int | None,
    ) -> Upload:
        """Appends the request body at ``offset``. A body that ends early (the client went away)
        keeps what arrived; a body longer than the upload stores what fits and is refused."""
        lock, users = self._locks.get(upload_id, (asyncio.Lock(), 0))
        self._locks[upload_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._append_locked(
                    principal,
                    upload_id,
                    offset=offset,
                    chunks=chunks,
                    content_length=content_length,
                )
        finally:
            lock, users = self._locks[upload_id]
            if users <= 1:
                del self._locks[upload_id]
            else:
                self._locks[upload_id] = (lock, users - 1)

    async def _append_locked(
        self,
        principal: Principal,
        upload_id: str,
        *,
        offset: int,
        chunks: AsyncIterator[bytes],
        content_length: int | None,
    ) -> Upload:
        upload = await self.get(principal, upload_id)
        if offset != upload.offset:
            raise Conflict(
                "upload_offset_mismatch",
                "Upload-Offset does not match the upload's offset.",
                {"offset": upload.offset},
            )
        if upload.finished:
            return upload
        remaining = upload.length - upload.offset
        if content_length is not None and content_length > remaining:
            raise PayloadTooLarge(
                "upload_too_long",
                "The body is longer than the rest of the upload.",
                {"remaining_bytes": remaining},
            )
        upload, state, too_long = await self._receive(upload, chunks, remaining)
        if upload.offset == upload.length:
            upload = await self._finish(upload, state)
        if too_long:
            raise PayloadTooLarge(
                "upload_too_long",
                "The body is longer than the rest of the upload.",
                {"offset": upload.offset},
            )
        return upload

    async def _receive(
        self, upload: Upload, chunks: AsyncIterator[bytes], remaining: int
    ) -> tuple[Upload, UploadState, bool]:
        """Streams the body into the store in blocks of ``part_size``; returns the upload as
        stored and whether the body was longer than ``remaining`` (the excess is dropped).

        The event loop only keeps references to the body's chunks; a block is joined, stored
        and hashed on threads (``_flush``). The body is read while it holds one of the
        node's upload slots (``BodySlots``)."""
        state = UploadState.from_json(upload.store_state)
        hasher = self._hasher_at(upload.id, upload.offset)
        part = self._store.part_size
        pending: list[bytes] = []  # chunks not stored yet, in order
        pending_len = 0
        received = 0
        too_long = False
        body_failed = False
        try:
            try:
                async with aclosing(self._slots.stream(chunks)) as body:
                    async for chunk in body:
                        if received + len(chunk) > remaining:
                            chunk = chunk[: remaining - received]
                            too_long = True
                        if chunk:
                            pending.append(chunk)
                            pending_len += len(chunk)
                            received += len(chunk)
                        while pending_len >= part:
                            block, rest = _split_chunks(pending, part)
                            upload, state, hasher = await self._flush(upload, state, block, hasher)
                            pending, pending_len = (
                                rest,
                                pending_len - part,
                            )  # a failed block is not skipped
                        if too_long:
                            break
            except BaseException:
                body_failed = True
                raise
        except BaseException as exc:
            # Keep what arrived only when the body itself failed (a reset, a cancelled
            # request). A failed store or database write ends here: writing the rest after a
            # block that was not stored would put bytes at the wrong offset.
            stored_fine = body_failed and not isinstance(exc, AppError)
            if pending and stored_fine:
                try:
                    upload, state, hasher = await asyncio.shield(
                        self._flush(upload, state, pending, hasher)
                    )
                except Exception:
                    logger.warning("could not keep the bytes of a failed PATCH", exc_info=True)
            raise
        if pending:
            upload, state, hasher = await self._flush(upload, state, pending, hasher)
        return upload, state, too_long

    def _hasher_at(self, upload_id: str, offset: int) -> Any:
        if offset == 0:
            return hashlib.sha256()
        entry = self._hashers.get(upload_id)
        if entry is not None and entry[0] == offset:
            return entry[1]
        return None  # continued elsewhere: recomputed from the stored file when complete

    async def _flush(
        self, upload: Upload, state: UploadState, block: list[bytes], hasher: Any
    ) -> tuple[Upload, UploadState, Any]:
        """Stores one block (a list of chunks), then records the new offset. The store append
        (on a blob thread) and the running digest (on a block thread) run side by side; the
        digest advances only once both the append and the offset's write succeeded (a copy is
        updated meanwhile), so a retried block is never hashed twice."""
        store = self._store
        key = upload.storage_key
        size = sum(len(chunk) for chunk in block)

        def write() -> UploadState:
            # bytes.join releases the GIL while copying a block this large
            data = block[0] if len(block) == 1 else b"".join(block)
            return store.append_upload(key, state, data)

        def digest() -> Any:
            advanced = hasher.copy()
            for chunk in block:
                advanced.update(chunk)
            return advanced

        self._hashers.pop(upload.id, None)  # re-stored below once this block is recorded
        advanced = None
        with storage_errors():
            if hasher is None:
                new_state = await self._io.run(write)
            else:
                new_state, advanced = await asyncio.gather(
                    self._io.run(write), self._blocks.run(digest)
                )
        new_offset = upload.offset + size
        moved = await self._db.write(
            partial(
                files_repo.update_upload_progress,
                upload_id=upload.id,
                expected_offset=upload.offset,
                offset=new_offset,
                store_state=new_state.to_json(),
            ),
            background=True,
        )
        if not moved:
            raise Conflict(
                "upload_offset_mismatch", "The upload changed meanwhile; ask for its offset."
            )
        if advanced is not None:
            self._hashers[upload.id] = (new_offset, advanced)
            self._hashers.move_to_end(upload.id)
            while len(self._hashers) > _HASHERS_MAX:
                self._hashers.popitem(last=False)
        stored = replace(upload, offset=new_offset, store_state=new_state.to_json())
        return stored, new_state, advanced

    async def _finish(self, upload: Upload, state: UploadState) -> Upload:
        """Every byte is stored: make it a blob, then record its digest and sniffed type."""
        entry = self._hashers.pop(upload.id, None)
        digest = entry[1].hexdigest() if entry is not None and entry[0] == upload.length else None
        if upload.length == 0:
            digest = hashlib.sha256().hexdigest()
        store = self._store
        key = upload.storage_key

        def complete() -> tuple[str, bytes]:
            if store.size(key) is None:  # not already completed by an interrupted finish
                store.complete_upload(key, state)
            head = b"".join(store.open_read(key, 0, min(SNIFF_BYTES, upload.length)))
            if digest is not None:
                return digest, head
            h = hashlib.sha256()
            for chunk in store.open_read(key):
                h.update(chunk)
            return h.hexdigest(), head

        with storage_errors():
            sha256, head = await self._io.run(complete)
        sniffed = sniff(head, upload.file_name)
        now = self._clock.now()
        metadata = {
            **upload.metadata,
            "content_type": sniffed.content_type,
            "kind": sniffed.kind,
            "sha256": sha256,
        }
        expires_at = now + dt.timedelta(seconds=self._files.upload_expiry_s)

        def finish_txn(conn: sa.Connection) -> None:
            files_repo.update_upload_progress(
                conn,
                upload.id,
                expected_offset=upload.length,
                offset=upload.length,
                store_state=state.to_json(),
                metadata=metadata,
                completed_at=now,
                # a finished upload waits to be sent for another expiry period
                expires_at=expires_at,
            )

        await self._db.write(finish_txn, background=True)
        return replace(upload, metadata=metadata, completed_at=now, expires_at=expires_at)

    # --- termination and expiry ---------------------------------------------------------------

    async def delete(self, principal: Principal, upload_id: str) -> None:
        upload = await self.get(principal, upload_id)
        await self._discard(upload)

    async def _discard(self, upload: Upload) -> None:
        """Removes the row, then the bytes, and the bytes only if this call removed the row: an
        upload sent as a message meanwhile (its row gone into an attachment) keeps its blob."""
        self._hashers.pop(upload.id, None)
        removed = await self._db.write(
            partial(files_repo.delete_upload, upload_id=upload.id), background=True
        )
        if not removed:
            return
        state = UploadState.from_json(upload.store_state)
        with storage_errors():
            if upload.finished:
                await self._io.run(self._store.delete, upload.storage_key)
            else:
                await self._io.run(self._store.abort_upload, upload.storage_key, state)

    async def _discard_quietly(self, upload: Upload) -> None:
        """Removes an upload whose creation failed; bytes the store cannot remove now (it is
        down) are left to the orphan sweep."""
        self._hashers.pop(upload.id, None)
        current = await self._db.read(partial(files_repo.select_upload, upload_id=upload.id))
        removed = await self._db.write(
            partial(files_repo.delete_upload, upload_id=upload.id), background=True
        )
        if not removed:
            return
        state = UploadState.from_json((current or upload).store_state)
        try:
            with storage_errors():
                await self._io.run(self._store.abort_upload, upload.storage_key, state)
        except AppError:
            logger.warning("could not remove the bytes of a failed upload; the sweep will")

    async def cleanup_expired(self, batch: int = 200) -> int:
        """Removes expired uploads (unfinished ones and finished ones never sent) and their
        bytes; returns how many. Run by the ``uploads.cleanup`` job."""
        expired = await self._db.read(
            partial(files_repo.select_expired_uploads, now=self._clock.now(), limit=batch)
        )
        for upload in expired:
            await self._discard(upload)
        return len(expired)

    async def sweep_orphans(self, min_age_s: float = 3600.0) -> int:
        """Aborts unfinished uploads the blob store holds but no uploads row refers to (a crash
        between the two, an S3 multipart upload left behind); returns how many."""
        older_than = self._clock.now() - dt.timedelta(seconds=min_age_s)
        # Uploads younger than older_than are never swept, so keys fetched now are complete.
        known = set(await self._db.read(files_repo.select_unfinished_upload_keys))
        with storage_errors():
            return await self._io.run(
                sweep_stale_uploads, self._store, known.__contains__, older_than
            )


def _split_chunks(chunks: list[bytes], size: int) -> tuple[list[bytes], list[bytes]]:
    """The first ``size`` bytes of ``chunks`` and the rest, as two lists of chunks (only the
    chunk on the boundary is copied)."""
    block: list[bytes] = []
    taken = 0
    for i, chunk in enumerate(chunks):
        if taken + len(chunk) <= size:
            block.append(chunk)
            taken += len(chunk)
            if taken == size:
                return block, chunks[i + 1 :]
            continue
        cut = size - taken
        block.append(chunk[:cut])
        return block, [chunk[cut:], *chunks[i + 1 :]]
    return block, []
