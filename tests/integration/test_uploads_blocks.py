"""How a PATCH body reaches the blob store: in blocks of ``part_size`` bytes, each appended at the
offset the upload records, on SQLite and PostgreSQL. A local store with 64 KiB blocks stands in
for the 2 MiB default, so a body spans several blocks and chunk boundaries fall inside them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.files.base import StorageUnavailable, UploadState
from sodam.files.local import LocalBlobStore
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.support.factories import LoggedIn, create_user
from tests.support.files import TUS, sha256, tus_create, tus_patch, upload_path

PART = 64 * 1024


class RecordingStore(LocalBlobStore):
    """A local store that records the size of every append and fails the ones asked to."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, part_size=PART)
        self.appends: list[int] = []
        self.fail_appends: set[int] = set()  # 1-based numbers of the appends that fail

    def append_upload(self, key: str, state: UploadState, data: bytes) -> UploadState:
        self.appends.append(len(data))
        if len(self.appends) in self.fail_appends:
            raise StorageUnavailable("failed on purpose")
        return super().append_upload(key, state, data)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        admin_password=ADMIN_PASSWORD,
        embedded_workers=False,
        database={"url": database_url, "migrate_on_start": True},
    )


@pytest.fixture
def store(tmp_path: Path) -> RecordingStore:
    return RecordingStore(tmp_path / "blobs")


@pytest.fixture
async def app(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, store: RecordingStore
) -> AsyncIterator[FastAPI]:
    overrides = Overrides(clock=clock, hasher=fast_hasher, extra={"blob_store": store})
    application = build_app(settings, overrides)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def alice(client: httpx.AsyncClient, admin: LoggedIn) -> LoggedIn:
    return await create_user(client, admin)


def _stored(store: RecordingStore, app: FastAPI, key: str) -> bytes:
    return b"".join(store.open_read(key))


async def _finished(app: FastAPI, user: LoggedIn, path: str) -> dict[str, str]:
    principal = await app.state.services.auth.authenticate(user.access_token)
    upload = await app.state.services.uploads.get(principal, path.rsplit("/", 1)[-1])
    assert upload.finished
    return {"sha256": upload.metadata["sha256"], "key": upload.storage_key}


async def test_each_patch_is_stored_in_part_size_blocks(
    app: FastAPI, client: httpx.AsyncClient, alice: LoggedIn, store: RecordingStore
) -> None:
    data = os.urandom(5 * PART + 1000)
    patch = 150_000  # not a multiple of the block: every PATCH ends inside a block
    path = upload_path(await tus_create(client, alice, len(data)))
    offset = 0
    while offset < len(data):
        r = await tus_patch(client, alice, path, offset, data[offset : offset + patch])
        assert r.status_code == 204, r.text
        offset = int(r.headers["upload-offset"])
    expected: list[int] = []
    for start in range(0, len(data), patch):
        body = min(patch, len(data) - start)
        expected += [PART] * (body // PART) + ([body % PART] if body % PART else [])
    assert store.appends == expected
    finished = await _finished(app, alice, path)
    assert finished["sha256"] == sha256(data)
    assert _stored(store, app, finished["key"]) == data


async def test_a_failed_block_keeps_only_the_blocks_before_it(
    app: FastAPI, client: httpx.AsyncClient, alice: LoggedIn, store: RecordingStore
) -> None:
    """The bytes after a block the store refused are not appended in its place: the upload's
    offset stays at the last stored block, and resuming from there gives the right file."""
    data = os.urandom(4 * PART + 123)
    path = upload_path(await tus_create(client, alice, len(data)))
    store.fail_appends = {2}
    r = await tus_patch(client, alice, path, 0, data[: 3 * PART + PART // 2])
    assert r.status_code == 503, r.text
    head = await client.head(path, headers={**alice.headers, **TUS})
    assert head.headers["upload-offset"] == str(PART)
    r = await tus_patch(client, alice, path, PART, data[PART:])
    assert r.status_code == 204, r.text
    finished = await _finished(app, alice, path)
    assert _stored(store, app, finished["key"]) == data
    assert finished["sha256"] == sha256(data)
