"""The tus 1.0.0 endpoint (/api/uploads) on SQLite and PostgreSQL with the local blob store:
protocol answers, limits while streaming, resuming, sha256 and sniffing, ownership, expiry."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.db import files as files_repo
from sodam.domain.clock import FakeClock
from sodam.domain.files import DEFAULT_FILE_NAME
from sodam.errors import Unavailable
from sodam.files.base import StorageFull, UploadState
from sodam.files.local import LocalBlobStore
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.support.factories import LoggedIn, create_user, login
from tests.support.files import (
    OFFSET,
    TUS,
    metadata,
    png_bytes,
    send_files,
    sha256,
    tus_create,
    tus_patch,
    upload,
    upload_path,
)
from tests.support.messaging import assert_error, make_group

LIMIT = 3 * 1024 * 1024 + 7  # a small attachment limit, not a multiple of anything


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        admin_password=ADMIN_PASSWORD,
        embedded_workers=False,
        database={"url": database_url, "migrate_on_start": True},
        limits={"attachment_max_bytes": LIMIT},
        files={"user_quota_bytes": 8 * 1024 * 1024, "max_pending_uploads": 3},
    )


@pytest.fixture
async def alice(client: httpx.AsyncClient, admin: LoggedIn) -> LoggedIn:
    return await create_user(client, admin)


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_options_advertises_the_server(client: httpx.AsyncClient) -> None:
    r = await client.options("/api/uploads")
    assert r.status_code == 204
    assert r.headers["tus-resumable"] == "1.0.0"
    assert r.headers["tus-version"] == "1.0.0"
    assert set(r.headers["tus-extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
    }
    assert r.headers["tus-max-size"] == str(LIMIT)


async def test_upload_in_pieces_then_head(client: httpx.AsyncClient, alice: LoggedIn) -> None:
    data = os.urandom(2 * 1024 * 1024 + 123)
    r = await tus_create(client, alice, len(data), "회의 자료 (최종).pdf")
    path = upload_path(r)
    assert r.headers["location"].startswith("http://testserver/api/uploads/")
    assert r.headers["upload-offset"] == "0"
    assert "upload-expires" in r.headers
    r = await tus_patch(client, alice, path, 0, data[:1000])
    assert r.status_code == 204 and r.headers["upload-offset"] == "1000"
    r = await client.head(path, headers={**alice.headers, **TUS})
    assert r.status_code == 200
    assert r.headers["upload-offset"] == "1000"
    assert r.headers["upload-length"] == str(len(data))
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["upload-metadata"] == metadata("회의 자료 (최종).pdf")
    r = await tus_patch(client, alice, path, 1000, data[1000:])
    assert r.status_code == 204 and r.headers["upload-offset"] == str(len(data))


async def test_creation_with_upload(client: httpx.AsyncClient, alice: LoggedIn) -> None:
    data = b"hello, \xec\x86\x8c\xeb\x8b\xb4"
    r = await client.post(
        "/api/uploads",
        content=data,
        headers={
            **alice.headers,
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata("memo.txt"),
            "Content-Type": OFFSET,
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["upload-offset"] == str(len(data))


async def test_exactly_the_limit_is_accepted_one_more_byte_is_not(
    client: httpx.AsyncClient, alice: LoggedIn, settings: Settings
) -> None:
    r = await tus_create(client, alice, LIMIT + 1)
    assert_error(r, 413, "file_too_large")
    assert r.json()["data"]["max_bytes"] == LIMIT
    assert _stored_files(settings.files_dir) == []
    upload_id = await upload(client, alice, os.urandom(LIMIT), chunk=LIMIT)
    assert len(upload_id) == 32


async def test_a_body_longer_than_the_upload_is_cut_and_refused(
    client: httpx.AsyncClient, alice: LoggedIn
) -> None:
    path = upload_path(await tus_create(client, alice, 10))
    # declared up front: refused before reading
    r = await tus_patch(client, alice, path, 0, b"x" * 11)
    assert_error(r, 413, "upload_too_long")
    r = await client.head(path, headers={**alice.headers, **TUS})
    assert r.headers["upload-offset"] == "0"

    # streamed without a length: what fits is kept, the rest refused
    async def body() -> object:
        yield b"y" * 6
        yield b"z" * 6

    r = await client.patch(
        path,
        content=body(),  # type: ignore[arg-type]
        headers={**alice.headers, **TUS, "Upload-Offset": "0", "Content-Type": OFFSET},
    )
    assert_error(r, 413, "upload_too_long")
    r = await client.head(path, headers={**alice.headers, **TUS})
    assert r.headers["upload-offset"] == "10"


async def test_protocol_errors(client: httpx.AsyncClient, alice: LoggedIn) -> None:
    r = await client.post(
        "/api/uploads", headers={**alice.headers, "Upload-Length": "5"}
    )  # no Tus-Resumable
    assert_error(r, 412, "tus_version_unsupported")
    assert r.headers["tus-version"] == "1.0.0"
    r = await client.post("/api/uploads", headers={**alice.headers, **TUS})
    assert_error(r, 400, "upload_length_invalid")
    r = await client.post("/api/uploads", headers={**alice.headers, **TUS, "Upload-Length": "-1"})
    assert_error(r, 400, "upload_length_invalid")
    r = await client.post(
        "/api/uploads",
        headers={**alice.headers, **TUS, "Upload-Length": "5", "Upload-Metadata": "filename !!"},
    )
    assert_error(r, 400, "upload_metadata_invalid")
    path = upload_path(await tus_create(client, alice, 5))
    r = await tus_patch(client, alice, path, 3, b"ab")
    assert_error(r, 409, "upload_offset_mismatch")
    r = await client.patch(
        path,
        content=b"ab",
        headers={**alice.headers, **TUS, "Upload-Offset": "0", "Content-Type": "text/plain"},
    )
    assert_error(r, 415, "upload_content_type_invalid")
    r = await client.patch(
        path, content=b"ab", headers={**alice.headers, **TUS, "Content-Type": OFFSET}
    )
    assert_error(r, 400, "upload_offset_invalid")
    r = await client.head("/api/uploads/" + "0" * 32, headers={**alice.headers, **TUS})
    assert r.status_code == 404
    # encoded: httpx would resolve a literal ../ to /etc (the web client's fallback, when built)
    r = await client.head("/api/uploads/..%2F..%2Fetc", headers={**alice.headers, **TUS})
    assert r.status_code == 404
    r = await client.post("/api/uploads", headers={**TUS, "Upload-Length": "5"})
    assert r.status_code == 401


async def test_someone_elses_upload_is_not_found(
    client: httpx.AsyncClient, admin: LoggedIn, alice: LoggedIn
) -> None:
    bob = await create_user(client, admin)
    path = upload_path(await tus_create(client, alice, 5))
    assert (await client.head(path, headers={**bob.headers, **TUS})).status_code == 404
    assert_error(await tus_patch(client, bob, path, 0, b"12345"), 404, "upload_not_found")
    r = await client.delete(path, headers={**bob.headers, **TUS})
    assert r.status_code == 404
    assert (await client.head(path, headers={**alice.headers, **TUS})).status_code == 200


async def test_termination_removes_the_bytes(
    client: httpx.AsyncClient, alice: LoggedIn, settings: Settings
) -> None:
    path = upload_path(await tus_create(client, alice, 100))
    assert (await tus_patch(client, alice, path, 0, b"a" * 40)).status_code == 204
    r = await client.delete(path, headers={**alice.headers, **TUS})
    assert r.status_code == 204 and r.headers["tus-resumable"] == "1.0.0"
    assert (await client.head(path, headers={**alice.headers, **TUS})).status_code == 404
    assert _stored_files(settings.files_dir / "uploads") == []


async def test_quota_and_pending_limits(client: httpx.AsyncClient, alice: LoggedIn) -> None:
    # quota 8 MiB: two 3 MiB uploads fit, a third does not
    for _ in range(2):
        upload_path(await tus_create(client, alice, 3 * 1024 * 1024))
    r = await tus_create(client, alice, 3 * 1024 * 1024)
    assert_error(r, 413, "quota_exceeded")
    # three unfinished uploads at most
    upload_path(await tus_create(client, alice, 10))
    r = await tus_create(client, alice, 10)
    assert_error(r, 429, "too_many_pending_uploads")


async def test_file_names_are_kept_as_metadata_only(
    client: httpx.AsyncClient, alice: LoggedIn, settings: Settings
) -> None:
    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/abs/path.txt", "a\x00b.txt", "CON"):
        path = upload_path(await tus_create(client, alice, 1, name))
        r = await client.head(path, headers={**alice.headers, **TUS})
        kept = r.headers["upload-metadata"]
        assert (
            "/" not in _decode(kept) and "\\" not in _decode(kept) and "\x00" not in _decode(kept)
        )
        await client.delete(path, headers={**alice.headers, **TUS})
    path = upload_path(await tus_create(client, alice, 1, "보고서\u202egpj.exe"))
    r = await client.head(path, headers={**alice.headers, **TUS})
    assert _decode(r.headers["upload-metadata"]) == "보고서gpj.exe"
    for p in _stored_files(settings.files_dir):
        assert ".." not in p.relative_to(settings.files_dir).parts


async def test_a_missing_or_blank_name_gets_the_same_default(
    client: httpx.AsyncClient, alice: LoggedIn
) -> None:
    """No filename metadata, an empty one and a whitespace-only one all show the same name."""
    blank = "filename " + base64.b64encode(b"   ").decode()
    for meta in (None, "filename", blank):
        headers = {**alice.headers, **TUS, "Upload-Length": "1"}
        if meta is not None:
            headers["Upload-Metadata"] = meta
        path = upload_path(await client.post("/api/uploads", headers=headers))
        r = await client.head(path, headers={**alice.headers, **TUS})
        assert _decode(r.headers["upload-metadata"]) == DEFAULT_FILE_NAME, meta
        await client.delete(path, headers={**alice.headers, **TUS})


def _decode(header: str) -> str:
    return base64.b64decode(header.split(" ", 1)[1]).decode()


async def test_expired_uploads_are_gone_and_cleaned(
    app: FastAPI, client: httpx.AsyncClient, alice: LoggedIn, clock: FakeClock, settings: Settings
) -> None:
    path = upload_path(await tus_create(client, alice, 100))
    assert (await tus_patch(client, alice, path, 0, b"a" * 40)).status_code == 204
    clock.advance(settings.files.upload_expiry_s + 1)
    alice = await login(client, alice.username)  # the access token expired meanwhile
    assert (await client.head(path, headers={**alice.headers, **TUS})).status_code == 404
    removed = await app.state.services.uploads.cleanup_expired()
    assert removed == 1
    assert _stored_files(settings.files_dir / "uploads") == []


async def test_digest_and_sniffed_type_of_a_finished_upload(
    app: FastAPI, client: httpx.AsyncClient, alice: LoggedIn
) -> None:
    data = png_bytes()
    upload_id = await upload(client, alice, data, "사진.txt", chunk=100)
    principal = await app.state.services.auth.authenticate(alice.access_token)
    finished = await app.state.services.uploads.get(principal, upload_id)
    assert finished.finished
    assert finished.metadata["sha256"] == sha256(data)
    assert finished.metadata["content_type"] == "image/png"  # the bytes, not the name
    assert finished.metadata["kind"] == "image"


async def test_resume_in_a_new_process_recomputes_the_digest(
    app: FastAPI, client: httpx.AsyncClient, alice: LoggedIn
) -> None:
    """A restart forgets the running digest: the finished upload's sha256 is still right."""
    data = os.urandom(300_000)
    path = upload_path(await tus_create(client, alice, len(data)))
    assert (await tus_patch(client, alice, path, 0, data[:100_000])).status_code == 204
    app.state.services.uploads._hashers.clear()  # what a restart does to the running digest
    assert (await tus_patch(client, alice, path, 100_000, data[100_000:])).status_code == 204
    principal = await app.state.services.auth.authenticate(alice.access_token)
    finished = await app.state.services.uploads.get(principal, path.rsplit("/", 1)[-1])
    assert finished.metadata["sha256"] == sha256(data)


async def test_empty_file(app: FastAPI, client: httpx.AsyncClient, alice: LoggedIn) -> None:
    r = await tus_create(client, alice, 0, "empty.txt")
    assert r.status_code == 201 and r.headers["upload-offset"] == "0"
    principal = await app.state.services.auth.authenticate(alice.access_token)
    finished = await app.state.services.uploads.get(principal, upload_path(r).rsplit("/", 1)[-1])
    assert finished.finished and finished.metadata["sha256"] == sha256(b"")


class _FlakyStore(LocalBlobStore):
    """A local store whose append number ``fail_at`` (1-based) fails with ``error``."""

    def __init__(self, root: Path, fail_at: int, error: Exception) -> None:
        super().__init__(root, part_size=1000)
        self.appends = 0
        self.fail_at = fail_at
        self.error = error

    def append_upload(self, key: str, state: UploadState, data: bytes) -> UploadState:
        self.appends += 1
        if self.appends == self.fail_at:
            raise self.error
        return super().append_upload(key, state, data)


@asynccontextmanager
async def _app_with_store(
    settings: Settings, clock: FakeClock, hasher: PasswordHasher, store: object
) -> AsyncIterator[httpx.AsyncClient]:
    application = build_app(
        settings, Overrides(clock=clock, hasher=hasher, extra={"blob_store": store})
    )
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_a_failed_block_is_never_skipped(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, tmp_path: Path
) -> None:
    """The second block's write fails (disk full): the upload stops at the first block, and
    resuming from there stores exactly the sent bytes with the right digest."""
    store = _FlakyStore(tmp_path / "blobs", fail_at=2, error=StorageFull("full"))
    async with _app_with_store(settings, clock, fast_hasher, store) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        alice = await create_user(client, admin)
        data = os.urandom(2500)
        path = upload_path(await tus_create(client, alice, len(data)))
        r = await tus_patch(client, alice, path, 0, data)
        assert_error(r, 507, "storage_full")
        r = await client.head(path, headers={**alice.headers, **TUS})
        assert r.headers["upload-offset"] == "1000"
        r = await tus_patch(client, alice, path, 1000, data[1000:])
        assert r.status_code == 204 and r.headers["upload-offset"] == "2500"
        room = await make_group(client, alice, [])
        r = await send_files(client, alice, int(room["id"]), [path.rsplit("/", 1)[-1]])
        att = r.json()["message"]["attachments"][0]
        assert att["sha256"] == sha256(data)
        r = await client.get(f"/api/files/{att['id']}", headers=alice.headers)
        assert r.content == data


async def test_a_failed_progress_write_does_not_hash_a_block_twice(
    settings: Settings,
    clock: FakeClock,
    fast_hasher: PasswordHasher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = LocalBlobStore(tmp_path / "blobs", part_size=1000)
    real = files_repo.update_upload_progress
    calls = {"n": 0}

    def flaky(conn: Any, upload_id: str, **kw: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:  # 1: the store state at creation, 2: block one, 3: block two
            raise Unavailable("database_unavailable", "down")
        return real(conn, upload_id, **kw)

    monkeypatch.setattr(files_repo, "update_upload_progress", flaky)
    async with _app_with_store(settings, clock, fast_hasher, store) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        alice = await create_user(client, admin)
        data = os.urandom(2500)
        path = upload_path(await tus_create(client, alice, len(data)))
        r = await tus_patch(client, alice, path, 0, data)
        assert r.status_code == 503
        r = await client.head(path, headers={**alice.headers, **TUS})
        offset = int(r.headers["upload-offset"])
        assert offset == 1000
        r = await tus_patch(client, alice, path, offset, data[offset:])
        assert r.status_code == 204
        room = await make_group(client, alice, [])
        r = await send_files(client, alice, int(room["id"]), [path.rsplit("/", 1)[-1]])
        assert r.json()["message"]["attachments"][0]["sha256"] == sha256(data)


async def test_parallel_creations_cannot_pass_the_pending_limit(
    client: httpx.AsyncClient, alice: LoggedIn
) -> None:
    answers = await asyncio.gather(*(tus_create(client, alice, 10) for _ in range(12)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 3 and codes.count(429) == 9  # max_pending_uploads = 3


async def test_odd_headers_are_refused_not_crashed(
    client: httpx.AsyncClient, alice: LoggedIn
) -> None:
    r = await client.post(
        "/api/uploads", headers={**alice.headers, **TUS, "Upload-Length": "²".encode()}
    )
    assert_error(r, 400, "upload_length_invalid")
    r = await client.post(
        "/api/uploads",
        headers={
            **alice.headers,
            **TUS,
            "Upload-Length": "5",
            "Upload-Metadata": "filename é".encode(),
        },
    )
    assert_error(r, 400, "upload_metadata_invalid")
    path = upload_path(await tus_create(client, alice, 5))
    r = await client.patch(
        path,
        content=b"ab",
        headers={**alice.headers, **TUS, "Upload-Offset": "¹".encode(), "Content-Type": OFFSET},
    )
    assert_error(r, 400, "upload_offset_invalid")


def _gauge(metrics_text: str, name: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


class _HeldBody:
    """A PATCH body that sends its first 1200 bytes, then holds the request open, sending
    nothing, until the test lets it go: its PATCH keeps the node's only body slot."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reading = asyncio.Event()  # the server asked for the body: this PATCH has the slot
        self.go = asyncio.Event()

    async def chunks(self) -> AsyncIterator[bytes]:
        self.reading.set()
        yield self.data[:1200]
        await self.go.wait()
        yield self.data[1200:]

    async def then(
        self, client: httpx.AsyncClient, user: LoggedIn, size: int, content: Any
    ) -> tuple[list[str], asyncio.Task[httpx.Response], asyncio.Task[httpx.Response]]:
        """Creates this body's upload and a second one of ``size`` bytes; PATCHes this one
        and, once the server reads it (it holds the slot), the second with ``content``."""
        paths = [upload_path(await tus_create(client, user, n)) for n in (len(self.data), size)]
        headers = {**user.headers, **TUS, "Content-Type": OFFSET, "Upload-Offset": "0"}
        a = asyncio.create_task(client.patch(paths[0], content=self.chunks(), headers=headers))
        async with asyncio.timeout(30):  # a last guard; each step waits for a state, not a time
            await self.reading.wait()
        b = asyncio.create_task(client.patch(paths[1], content=content, headers=headers))
        return paths, a, b


async def test_bodies_beyond_the_node_limit_wait_for_a_slot(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, tmp_path: Path
) -> None:
    """With one upload slot, a second PATCH is not read while the first body streams; it is
    stored once the first finishes, and both files are exact."""
    settings = settings.model_copy(
        update={
            "files": settings.files.model_copy(
                update={"upload_bodies": 1, "upload_slot_check_s": 600}
            )
        }
    )
    store = LocalBlobStore(tmp_path / "blobs", part_size=1000)
    first, second = os.urandom(2500), os.urandom(1500)
    held = _HeldBody(first)
    second_read = asyncio.Event()

    async def watched_body() -> AsyncIterator[bytes]:
        second_read.set()
        yield second

    async with _app_with_store(settings, clock, fast_hasher, store) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        alice = await create_user(client, admin)
        paths, a, b = await held.then(client, alice, len(second), watched_body())
        async with asyncio.timeout(30):
            while True:
                text = (await client.get("/metrics")).text
                if _gauge(text, "sodam_upload_bodies_waiting") == 1:
                    break
                await asyncio.sleep(0)
        assert _gauge(text, "sodam_upload_bodies_active") == 1
        assert not second_read.is_set()  # not a byte of the second body was read
        held.go.set()
        ra, rb = await a, await b
        assert ra.status_code == 204 and ra.headers["upload-offset"] == "2500"
        assert rb.status_code == 204 and rb.headers["upload-offset"] == "1500"
        text = (await client.get("/metrics")).text
        assert _gauge(text, "sodam_upload_bodies_active") == 0
        assert _gauge(text, "sodam_upload_bodies_waiting") == 0
        room = await make_group(client, alice, [])
        ids = [p.rsplit("/", 1)[-1] for p in paths]
        r = await send_files(client, alice, int(room["id"]), ids)
        digests = {a["sha256"] for a in r.json()["message"]["attachments"]}
        assert digests == {sha256(first), sha256(second)}


async def test_a_node_reads_upload_bytes_no_faster_than_its_ceiling(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, tmp_path: Path
) -> None:
    """``upload_ingest_mb_s``: a body past the node's ceiling waits before its next read; the
    waits show in ``sodam_upload_ingest_wait_seconds_total`` and the file is exact."""
    settings = settings.model_copy(
        update={"files": settings.files.model_copy(update={"upload_ingest_mb_s": 10})}
    )
    store = LocalBlobStore(tmp_path / "blobs", part_size=64 * 1024)
    data = os.urandom(3_000_000)  # 0.3 s at 10 MB/s, 0.05 s of it a burst

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 64_000):
            yield data[i : i + 64_000]

    async with _app_with_store(settings, clock, fast_hasher, store) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        alice = await create_user(client, admin)
        text = (await client.get("/metrics")).text
        assert _gauge(text, "sodam_upload_ingest_wait_seconds_total") == 0
        path = upload_path(await tus_create(client, alice, len(data)))
        headers = {**alice.headers, **TUS, "Content-Type": OFFSET, "Upload-Offset": "0"}
        r = await client.patch(path, content=body(), headers=headers)
        assert r.status_code == 204 and r.headers["upload-offset"] == str(len(data))
        text = (await client.get("/metrics")).text
        # Up to 0.25 s owed, less the time the server itself took for the chunks (the ceiling
        # runs on the real clock): that the body waited at all is what is checked.
        assert _gauge(text, "sodam_upload_ingest_wait_seconds_total") > 0
        room = await make_group(client, alice, [])
        r = await send_files(client, alice, int(room["id"]), [path.rsplit("/", 1)[-1]])
        assert r.json()["message"]["attachments"][0]["sha256"] == sha256(data)


class _HeldStore(LocalBlobStore):
    """A local store whose next ``begin_upload`` waits until the test lets it go (on its blob
    thread), so that a tus creation stays inside its handler."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, part_size=1000)
        self.entered = threading.Event()
        self.go = threading.Event()

    def begin_upload(self, key: str) -> UploadState:
        if not self.go.is_set():
            self.entered.set()
            self.go.wait(30)
        return super().begin_upload(key)


def _with_files(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update={"files": settings.files.model_copy(update=update)})


async def _until_gauge(client: httpx.AsyncClient, name: str, value: float) -> None:
    async with asyncio.timeout(30):  # a last guard; waits for a state, not a time
        while _gauge((await client.get("/metrics")).text, name) != value:  # noqa: ASYNC110 -- a gauge, no event
            await asyncio.sleep(0)


async def test_upload_requests_beyond_the_node_limit_wait_for_a_place(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, tmp_path: Path
) -> None:
    """With one place, a second creation waits while the first is inside its handler; other
    endpoints do not wait; both creations succeed once the first is let go."""
    store = _HeldStore(tmp_path / "blobs")
    async with _app_with_store(
        _with_files(settings, upload_requests=1), clock, fast_hasher, store
    ) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        alice = await create_user(client, admin)
        try:
            first = asyncio.create_task(tus_create(client, alice, 10))
            assert await asyncio.to_thread(store.entered.wait, 30)  # inside the first handler
            second = asyncio.create_task(tus_create(client, alice, 10))
            await _until_gauge(client, "sodam_upload_requests_waiting", 1)
            assert (await client.get("/api/me", headers=alice.headers)).status_code == 200
            assert not second.done()
        finally:
            store.go.set()
        assert (await first).status_code == 201
        assert (await second).status_code == 201
        text = (await client.get("/metrics")).text
        assert _gauge(text, "sodam_upload_requests_waiting") == 0


async def test_a_patch_queued_for_a_body_slot_gives_its_place_up(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, tmp_path: Path
) -> None:
    """One place and one body slot: a PATCH waiting for the slot held by a slow body does not
    keep its place, so a creation goes through meanwhile; both bodies are then stored whole."""
    settings = _with_files(settings, upload_requests=1, upload_bodies=1, upload_slot_check_s=600)
    store = LocalBlobStore(tmp_path / "blobs", part_size=1000)
    first, second = os.urandom(2500), os.urandom(1500)
    held = _HeldBody(first)

    async with _app_with_store(settings, clock, fast_hasher, store) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        alice = await create_user(client, admin)
        _paths, a, b = await held.then(client, alice, len(second), second)
        await _until_gauge(client, "sodam_upload_bodies_waiting", 1)
        async with asyncio.timeout(30):  # a last guard: without the release it waits for a
            created = await tus_create(client, alice, 10)  # place a's slow body never frees
        assert created.status_code == 201
        held.go.set()
        ra, rb = await a, await b
        assert ra.status_code == 204 and ra.headers["upload-offset"] == "2500"
        assert rb.status_code == 204 and rb.headers["upload-offset"] == "1500"
