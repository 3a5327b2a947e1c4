"""The blob store contract: every test runs on the local-disk store and on the S3 store (against
moto's S3 server), so both backends behave the same for the tus endpoint and the downloads."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config

from sodam.domain.files import content_disposition
from sodam.files.base import BlobNotFound, BlobStore, UploadState
from sodam.files.cleanup import sweep_stale_uploads
from sodam.files.local import LocalBlobStore
from sodam.files.s3 import S3BlobStore
from tests.support.motoserver import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    MotoServer,
    moto_server,
    new_bucket_name,
)

__all__ = ["moto_server"]  # the session fixture, used by name below

MiB = 1024 * 1024
PART = 5 * MiB  # the smallest part S3 allows: several parts with little data
KEY = "2026/11/Xq3hV9aLmT0"
PAST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


@dataclass
class Backend:
    """How to make stores on one backend, and what an unfinished upload leaves behind on it."""

    name: str
    make: Callable[[], BlobStore]
    leftovers: Callable[[str], list[str]]


def _local_backend(root: Path) -> Backend:
    def leftovers(key: str) -> list[str]:
        path = root / "uploads" / key
        return [str(path)] if path.exists() else []

    return Backend("local", lambda: LocalBlobStore(root, part_size=PART), leftovers)


@pytest.fixture(scope="module")
def boto_session() -> boto3.session.Session:
    return boto3.session.Session()


def _s3_backend(server: MotoServer, session: boto3.session.Session) -> Backend:
    bucket = new_bucket_name()

    def make() -> BlobStore:
        return S3BlobStore(
            endpoint_url=server.url,
            bucket=bucket,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            part_size=PART,
            create_bucket=True,
            connect_timeout_s=5,
            read_timeout_s=30,
            session=session,
        )

    raw = session.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )

    def leftovers(key: str) -> list[str]:
        found = [
            f"multipart upload {u['UploadId']}"
            for u in raw.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            if u["Key"] == key
        ]
        objects = raw.list_objects_v2(Bucket=bucket, Prefix=f"_uploads/{key}/")
        found += [o["Key"] for o in objects.get("Contents", [])]
        return found

    return Backend("s3", make, leftovers)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path / "files")
    return _s3_backend(
        request.getfixturevalue("moto_server"), request.getfixturevalue("boto_session")
    )


@pytest.fixture
def store(backend: Backend) -> BlobStore:
    return backend.make()


def _payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def _upload(store: BlobStore, key: str, blocks: list[bytes]) -> UploadState:
    state = store.begin_upload(key)
    for block in blocks:
        state = store.append_upload(key, state, block)
    return state


def _blocks(data: bytes, sizes: list[int]) -> list[bytes]:
    """Cuts ``data`` into blocks of the given sizes, repeated as needed."""
    out: list[bytes] = []
    pos = 0
    i = 0
    while pos < len(data):
        out.append(data[pos : pos + sizes[i % len(sizes)]])
        pos += sizes[i % len(sizes)]
        i += 1
    return out


def _read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    chunks = list(store.open_read(key, start, end))
    assert all(0 < len(chunk) <= MiB for chunk in chunks)
    return b"".join(chunks)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- uploads -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "block_sizes"),
    [
        pytest.param(300_000, [1, 999, 4096, 65_536], id="many-small-blocks"),
        pytest.param(3 * PART, [PART], id="whole-parts"),
        pytest.param(
            20 * 1000 * 1000,
            [1, PART - 1, 3 * MiB + 7, 7 * MiB + 3, 65_536, 2 * PART + 11],
            id="20MB-odd-blocks",
        ),
    ],
)
def test_an_upload_in_blocks_reads_back_byte_exact(
    store: BlobStore, size: int, block_sizes: list[int]
) -> None:
    data = _payload(size)
    state = _upload(store, KEY, _blocks(data, block_sizes))
    assert state.size == size
    store.complete_upload(KEY, state)

    assert store.size(KEY) == size
    assert _sha(_read_all(store, KEY)) == _sha(data)


def test_an_empty_upload_becomes_an_empty_blob(store: BlobStore) -> None:
    state = store.begin_upload(KEY)
    state = store.append_upload(KEY, state, b"")
    store.complete_upload(KEY, state)

    assert store.size(KEY) == 0
    assert _read_all(store, KEY) == b""
    assert store.list_stale_uploads(FUTURE) == []


def test_the_upload_state_survives_json(store: BlobStore) -> None:
    state = _upload(store, KEY, [_payload(PART + 10)])
    assert UploadState.from_json(state.to_json()) == state


@pytest.mark.parametrize(
    ("persisted_size", "lost_size"),
    [
        pytest.param(1000, 2000, id="lost-append-within-the-tail"),
        pytest.param(PART + 1000, PART + 5, id="lost-append-filling-a-part"),
        pytest.param(2 * PART, 3 * PART - 1, id="lost-append-of-whole-parts"),
    ],
)
def test_an_append_whose_state_was_never_persisted_is_redone(
    store: BlobStore, persisted_size: int, lost_size: int
) -> None:
    data = _payload(persisted_size + 2 * PART + 123)
    persisted = _upload(store, KEY, _blocks(data[:persisted_size], [PART - 3]))

    # The append runs (with other bytes, to prove nothing of it survives), then the node dies
    # before saving the new state: the caller still holds ``persisted``.
    store.append_upload(KEY, persisted, _payload(lost_size, seed=99))
    # A second lost attempt from the same state, so several generations of leftovers exist.
    store.append_upload(KEY, persisted, _payload(lost_size // 2 + 1, seed=98))

    state = persisted
    for block in _blocks(data[persisted_size:], [PART // 2 + 17]):
        state = store.append_upload(KEY, state, block)
    store.complete_upload(KEY, state)

    assert _sha(_read_all(store, KEY)) == _sha(data)
    assert store.list_stale_uploads(FUTURE) == []


def test_completing_ignores_the_bytes_of_an_append_whose_state_was_never_persisted(
    store: BlobStore,
) -> None:
    data = _payload(PART + 1234)
    persisted = _upload(store, KEY, [data])
    store.append_upload(KEY, persisted, _payload(999, seed=99))

    store.complete_upload(KEY, persisted)

    assert store.size(KEY) == len(data)
    assert _read_all(store, KEY) == data


def test_another_store_instance_continues_the_upload(backend: Backend) -> None:
    """A restart, or another node behind the load balancer, picks the upload up."""
    data = _payload(2 * PART + 4321)
    first = backend.make()
    saved = _upload(first, KEY, [data[: PART + 100]]).to_json()

    second = backend.make()
    state = second.append_upload(KEY, UploadState.from_json(saved), data[PART + 100 :])
    second.complete_upload(KEY, state)

    assert _sha(_read_all(first, KEY)) == _sha(data)


def test_completing_twice_is_harmless(store: BlobStore) -> None:
    """The caller may die after completing and before recording it, then complete again."""
    data = _payload(PART + 77)
    state = _upload(store, KEY, [data])
    store.complete_upload(KEY, state)
    store.complete_upload(KEY, state)

    assert _read_all(store, KEY) == data


def test_completing_an_upload_that_does_not_exist_is_blob_not_found(store: BlobStore) -> None:
    state = _upload(store, KEY, [_payload(100)])
    store.abort_upload(KEY, state)

    with pytest.raises(BlobNotFound):
        store.complete_upload(KEY, state)


def test_abort_removes_everything_and_is_idempotent(backend: Backend, store: BlobStore) -> None:
    state = _upload(store, KEY, [_payload(PART + 500)])
    assert backend.leftovers(KEY) != []
    assert [u.key for u in store.list_stale_uploads(FUTURE)] == [KEY]

    store.abort_upload(KEY, state)
    store.abort_upload(KEY, state)

    assert backend.leftovers(KEY) == []
    assert store.list_stale_uploads(FUTURE) == []
    assert store.size(KEY) is None


def test_completing_leaves_nothing_behind(backend: Backend, store: BlobStore) -> None:
    data = _payload(3 * PART + 1)
    state = store.begin_upload(KEY)
    for block in _blocks(data, [PART - 1, 17, PART + 3]):
        state = store.append_upload(KEY, state, block)
    store.complete_upload(KEY, state)

    assert backend.leftovers(KEY) == []
    assert store.list_stale_uploads(FUTURE) == []


def test_stale_uploads_are_listed_by_age(store: BlobStore) -> None:
    other = "2026/11/other"
    _upload(store, KEY, [b"abc"])
    store.begin_upload(other)

    stale = store.list_stale_uploads(FUTURE)
    assert [u.key for u in stale] == sorted([KEY, other])
    assert all(u.started_at is not None and u.started_at.tzinfo is not None for u in stale)
    assert store.list_stale_uploads(PAST) == []


def test_the_sweeper_aborts_only_uploads_nobody_knows(backend: Backend, store: BlobStore) -> None:
    forgotten, kept, finished = "2026/11/forgotten", "2026/11/kept", "2026/11/finished"
    _upload(store, forgotten, [_payload(PART + 9)])
    kept_state = _upload(store, kept, [_payload(10)])
    store.complete_upload(finished, _upload(store, finished, [_payload(20)]))

    aborted = sweep_stale_uploads(store, lambda key: key == kept, FUTURE)

    assert aborted == 1
    assert backend.leftovers(forgotten) == []
    assert [u.key for u in store.list_stale_uploads(FUTURE)] == [kept]
    assert store.size(finished) == 20
    store.complete_upload(kept, kept_state)
    assert _read_all(store, kept) == _payload(10)
    assert sweep_stale_uploads(store, lambda key: False, PAST) == 0


# --- blobs ---------------------------------------------------------------------------------------

SIZE = 3 * MiB + 512


@pytest.fixture
def blob(store: BlobStore) -> bytes:
    data = _payload(SIZE, seed=7)
    store.complete_upload(KEY, _upload(store, KEY, [data]))
    return data


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, None),
        (1, None),
        (0, SIZE),
        (10, 20),
        (MiB - 1, 2 * MiB + 1),
        (SIZE - 1, None),
        (SIZE - 1, SIZE),
        (5, 5),
        (SIZE, None),
        (SIZE + 10, None),
        (100, SIZE + 1000),
    ],
)
def test_open_read_returns_the_range_in_chunks_of_at_most_1_mib(
    store: BlobStore, blob: bytes, start: int, end: int | None
) -> None:
    assert _read_all(store, KEY, start, end) == blob[start:end]


def test_a_read_closed_early_releases_its_source(store: BlobStore, blob: bytes) -> None:
    started = store.open_read(KEY)
    assert next(started) == blob[:MiB]
    started.close()
    never_started = store.open_read(KEY, 10)
    never_started.close()
    # An unclosed file or connection would surface as an unraisable ResourceWarning (an error).


@pytest.mark.parametrize("call", ["open_read", "open_read_range"])
def test_reading_a_missing_blob_is_blob_not_found(store: BlobStore, call: str) -> None:
    with pytest.raises(BlobNotFound):
        if call == "open_read":
            store.open_read("2026/11/missing")
        else:
            store.open_read("2026/11/missing", 5, 5)


def test_size_and_delete(store: BlobStore, blob: bytes) -> None:
    assert store.size(KEY) == len(blob)
    assert store.size("2026/11/missing") is None

    store.delete(KEY)
    store.delete(KEY)
    store.delete("2026/11/missing")

    assert store.size(KEY) is None
    with pytest.raises(BlobNotFound):
        store.open_read(KEY)


def test_put_stores_a_small_blob_whole_and_replaces_it(store: BlobStore) -> None:
    key = "thumbnails/2026/11/Xq3hV9aLmT0-small"
    store.put(key, b"\xff\xd8first", "image/jpeg")
    store.put(key, b"\xff\xd8second", "image/jpeg")

    assert store.size(key) == len(b"\xff\xd8second")
    assert _read_all(store, key) == b"\xff\xd8second"
    assert store.list_stale_uploads(FUTURE) == []


def test_presigned_url(backend: Backend, store: BlobStore, blob: bytes) -> None:
    url = store.presigned_url(
        KEY,
        file_name='회의록 "최종".pdf',
        content_type="application/pdf",
        inline=False,
        expires_s=120,
    )
    if backend.name == "local":
        assert url is None
        return
    assert url is not None
    query = httpx.URL(url).params
    assert query["X-Amz-Expires"] == "120"
    assert query["response-content-disposition"] == content_disposition(
        '회의록 "최종".pdf', inline=False
    )
    # moto honours the response overrides (it checks no signature: see the unit tests).
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == blob
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == query["response-content-disposition"]


@pytest.mark.parametrize("key", ["", "../etc/passwd", "/abs", "a/../b", "a//b", "a\x00b", "a\\b"])
def test_unsafe_keys_are_refused(store: BlobStore, key: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.begin_upload(key),
        lambda: store.append_upload(key, UploadState(multipart_id="x"), b"x"),
        lambda: store.put(key, b"x", "text/plain"),
        lambda: store.open_read(key),
        lambda: store.size(key),
        lambda: store.delete(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="blob key"):
            call()
