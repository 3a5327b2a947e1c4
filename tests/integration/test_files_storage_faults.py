"""Uploads, downloads and file jobs when the blob store fails, on SQLite and PostgreSQL
(reliability.md F12, F13; the end-to-end versions with a real full disk, a real S3 outage and a
stopped clamd are in tests/e2e/faults/).

The store is the real local one behind a switchboard: a disk with only so many bytes left, and a
switch that makes it unreachable, so each failure happens exactly where the test wants it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.domain.jobs import Job
from sodam.files.base import StorageFull, StorageUnavailable, UploadState
from sodam.files.local import LocalBlobStore
from sodam.services.attachments import SCAN_JOB, SCAN_MAX_ATTEMPTS
from sodam.services.jobs import RetryLater
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.support.clamd import ClamdServer
from tests.support.factories import LoggedIn, create_user, login
from tests.support.files import (
    OFFSET,
    TUS,
    metadata,
    run_jobs,
    send_file,
    sha256,
    tus_create,
    tus_patch,
    upload_path,
)
from tests.support.messaging import assert_error, make_group

BLOCK = 64 * 1024  # the store's write block (part_size), small so bodies span several


class SwitchboardStore:
    """``LocalBlobStore`` with ``free`` bytes left for uploads (None: unlimited) and a ``down``
    switch (every call raises ``StorageUnavailable``)."""

    def __init__(self, inner: LocalBlobStore) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.part_size = inner.part_size
        self.free: int | None = None
        self.down = False

    def _reachable(self) -> None:
        if self.down:
            raise StorageUnavailable("the test switched the store off")

    def begin_upload(self, key: str) -> UploadState:
        self._reachable()
        return self.inner.begin_upload(key)

    def append_upload(self, key: str, state: UploadState, data: bytes) -> UploadState:
        self._reachable()
        if self.free is not None:
            if len(data) > self.free:
                raise StorageFull("the test's disk is full")
            self.free -= len(data)
        return self.inner.append_upload(key, state, data)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._reachable()
            return method(*args, **kwargs)

        return call


@pytest.fixture
def clamd_url(clamd: ClamdServer) -> str:
    return clamd.tcp_address


@pytest.fixture
def settings(database_url: str, tmp_path: Path, clamd_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        admin_password=ADMIN_PASSWORD,
        embedded_workers=False,
        database={"url": database_url, "migrate_on_start": True},
        files={"max_pending_uploads": 3, "clamd_url": clamd_url, "retention_days": 30},
    )


@pytest.fixture
def store(settings: Settings) -> SwitchboardStore:
    return SwitchboardStore(LocalBlobStore(settings.files_dir, part_size=BLOCK))


@pytest.fixture
async def app(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, store: SwitchboardStore
) -> AsyncIterator[FastAPI]:
    overrides = Overrides(clock=clock, hasher=fast_hasher, extra={"blob_store": store})
    application = build_app(settings, overrides)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def alice(client: httpx.AsyncClient, admin: LoggedIn) -> LoggedIn:
    return await create_user(client, admin)


def _partials(settings: Settings) -> list[Path]:
    root = settings.files_dir / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def _offset(client: httpx.AsyncClient, who: LoggedIn, path: str) -> int:
    r = await client.head(path, headers={**who.headers, **TUS})
    assert r.status_code == 200, r.text
    return int(r.headers["upload-offset"])


# --- uploads ------------------------------------------------------------------------------------


async def test_a_block_that_does_not_fit_is_never_replaced_by_what_follows(
    client: httpx.AsyncClient, alice: LoggedIn, store: SwitchboardStore, settings: Settings
) -> None:
    data = os.urandom(5 * BLOCK)
    path = upload_path(await tus_create(client, alice, len(data)))
    assert (await tus_patch(client, alice, path, 0, data[:BLOCK])).status_code == 204
    store.free = BLOCK - 1  # the next block does not fit; the smaller rest of the body would
    r = await tus_patch(client, alice, path, BLOCK, data[BLOCK : 3 * BLOCK + 100])
    assert_error(r, 507, "storage_full")
    assert await _offset(client, alice, path) == BLOCK
    (partial,) = _partials(settings)
    assert partial.read_bytes() == data[:BLOCK]

    store.free = None  # space freed: the upload goes on from where it stood, intact
    r = await tus_patch(client, alice, path, BLOCK, data[BLOCK:])
    assert r.status_code == 204, r.text
    r = await client.head(path, headers={**alice.headers, **TUS})
    assert int(r.headers["upload-offset"]) == len(data)


async def test_a_failed_creation_with_upload_leaves_no_upload_behind(
    client: httpx.AsyncClient, alice: LoggedIn, store: SwitchboardStore, settings: Settings
) -> None:
    store.free = 0
    for _ in range(4):  # more than max_pending_uploads (3): none of them counts
        r = await client.post(
            "/api/uploads",
            content=b"x" * 1000,
            headers={
                **alice.headers,
                **TUS,
                "Upload-Length": "5000",
                "Upload-Metadata": metadata("a.bin"),
                "Content-Type": OFFSET,
            },
        )
        assert_error(r, 507, "storage_full")
        assert "location" not in r.headers
    assert _partials(settings) == []
    store.free = None
    upload_path(await tus_create(client, alice, 10))  # not 429 too_many_pending_uploads


async def test_a_store_that_is_down_answers_503_and_keeps_the_offset(
    client: httpx.AsyncClient, alice: LoggedIn, store: SwitchboardStore
) -> None:
    data = os.urandom(3 * BLOCK)
    path = upload_path(await tus_create(client, alice, len(data)))
    assert (await tus_patch(client, alice, path, 0, data[:BLOCK])).status_code == 204
    store.down = True
    r = await tus_patch(client, alice, path, BLOCK, data[BLOCK:])
    assert_error(r, 503, "storage_unavailable")
    assert r.headers["retry-after"] == "5"
    assert_error(await tus_create(client, alice, 10), 503, "storage_unavailable")
    assert await _offset(client, alice, path) == BLOCK
    store.down = False
    assert (await tus_patch(client, alice, path, BLOCK, data[BLOCK:])).status_code == 204


# --- downloads and jobs -------------------------------------------------------------------------


async def _room_with_file(
    client: httpx.AsyncClient, admin: LoggedIn, alice: LoggedIn, data: bytes, name: str
) -> tuple[LoggedIn, int, dict[str, Any]]:
    bob = await create_user(client, admin)
    room = int((await make_group(client, alice, [bob]))["id"])
    message = await send_file(client, alice, room, data, name)
    return bob, room, message


async def test_a_download_while_the_store_is_down_is_a_503_not_a_broken_200(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: LoggedIn,
    alice: LoggedIn,
    store: SwitchboardStore,
) -> None:
    data = os.urandom(3 * BLOCK)
    _bob, _room, message = await _room_with_file(client, admin, alice, data, "a.bin")
    aid = message["attachments"][0]["id"]
    store.down = True
    for headers in ({}, {"Range": "bytes=10-20"}):
        r = await client.get(f"/api/files/{aid}", headers={**alice.headers, **headers})
        assert_error(r, 503, "storage_unavailable")
    store.down = False
    r = await client.get(f"/api/files/{aid}", headers=alice.headers)
    assert r.status_code == 200 and sha256(r.content) == sha256(data)


def _scan_job(attachment_id: int, attempts: int) -> Job:
    payload = {"attachment_id": attachment_id}
    return Job(id=1, kind=SCAN_JOB, payload=payload, attempts=attempts, max_attempts=30)


async def _scan_backs_off(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: LoggedIn,
    alice: LoggedIn,
    store: SwitchboardStore,
    *,
    store_down: bool,
) -> None:
    """The file's scan job cannot run: each attempt asks to be retried later, 30 s doubling up
    to 30 minutes (shortened by at most a quarter), and the file stays pending meanwhile."""
    bob, _room, message = await _room_with_file(client, admin, alice, os.urandom(BLOCK), "a.bin")
    aid = message["attachments"][0]["id"]
    jobs = await app.state.services.jobs.list_jobs(limit=10)
    assert [j.max_attempts for j in jobs if j.kind == SCAN_JOB] == [SCAN_MAX_ATTEMPTS]
    store.down = store_down
    delays = []
    for attempt in (1, 2, 3, 10):
        with pytest.raises(RetryLater) as raised:
            await app.state.services.files.scan_job(_scan_job(aid, attempt))
        delays.append(raised.value.delay_s)
    store.down = False
    for delay, full in zip(delays, (30, 60, 120, 1800), strict=True):
        assert 0.75 * full <= delay <= full, delays
    r = await client.get(f"/api/files/{aid}", headers=bob.headers)
    assert_error(r, 409, "file_not_scanned")


@pytest.mark.parametrize("clamd_url", ["tcp://127.0.0.1:1"])  # nothing listens on port 1
async def test_a_scan_while_clamd_is_down_stays_pending_and_backs_off(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: LoggedIn,
    alice: LoggedIn,
    store: SwitchboardStore,
) -> None:
    await _scan_backs_off(app, client, admin, alice, store, store_down=False)


async def test_a_scan_while_the_store_is_down_stays_pending_and_backs_off(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: LoggedIn,
    alice: LoggedIn,
    store: SwitchboardStore,
) -> None:
    await _scan_backs_off(app, client, admin, alice, store, store_down=True)


async def test_retention_deletes_blobs_and_records_one_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: LoggedIn,
    alice: LoggedIn,
    clock: FakeClock,
    settings: Settings,
) -> None:
    _bob, room, message = await _room_with_file(client, admin, alice, b"%PDF-1.4 x", "a.pdf")
    aid = message["attachments"][0]["id"]
    await run_jobs(app)
    blobs = [p for p in (settings.files_dir / "blobs").rglob("*") if p.is_file()]
    assert blobs
    before = (await client.get(f"/api/rooms/{room}/events?after=0", headers=alice.headers)).json()
    clock.advance(dt.timedelta(days=31).total_seconds())
    alice = await login(client, alice.username)  # the old token expired meanwhile
    files = app.state.services.files
    job = Job(id=1, kind="files.retention", payload={}, attempts=1, max_attempts=10)
    await files.retention_job(job)
    await files.retention_job(job)  # idempotent: nothing left to expire
    after = (await client.get(f"/api/rooms/{room}/events?after=0", headers=alice.headers)).json()
    new = after["events"][len(before["events"]) :]
    assert [e["event"]["kind"] for e in new] == ["message.updated"]  # with its change, once
    await run_jobs(app)  # files.delete_blobs, queued in the same transaction
    assert [p for p in (settings.files_dir / "blobs").rglob("*") if p.is_file()] == []
    assert_error(
        await client.get(f"/api/files/{aid}", headers=alice.headers), 404, "file_not_found"
    )
