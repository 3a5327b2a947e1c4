"""What only the S3 store has: tail objects, memory bounds, and S3 going away (F13)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from sodam.files.base import StorageUnavailable, UploadState
from sodam.files.cleanup import sweep_stale_uploads
from sodam.files.s3 import S3BlobStore
from tests.support.motoserver import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    MotoServer,
    moto_server,
    new_bucket_name,
    start_moto_server,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["moto_server"]

MiB = 1024 * 1024
KEY = "2026/11/Xq3hV9aLmT0"
FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# S3 being down must be answered fast, not after the default minute of retries: with these
# settings a refused connection fails at once and a silent server after 0.5 s; the bound below
# only guards against hanging, on a busy machine.
FAIL_FAST_BOUND_S = 10.0


@pytest.fixture(scope="module")
def boto_session() -> boto3.session.Session:
    return boto3.session.Session()


StoreFactory = Callable[..., S3BlobStore]


@pytest.fixture
def make_store(moto_server: MotoServer, boto_session: boto3.session.Session) -> StoreFactory:
    bucket = new_bucket_name()

    def make(**overrides: object) -> S3BlobStore:
        options: dict[str, object] = {
            "endpoint_url": moto_server.url,
            "bucket": bucket,
            "region": REGION,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
            "part_size": 5 * MiB,
            "create_bucket": True,
            "session": boto_session,
        }
        options.update(overrides)
        return S3BlobStore(**options)  # type: ignore[arg-type] # options are the keywords

    return make


@pytest.fixture
def raw(moto_server: MotoServer, boto_session: boto3.session.Session) -> S3Client:
    return boto_session.client(
        "s3",
        endpoint_url=moto_server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _tails(raw: S3Client, bucket: str, key: str) -> list[str]:
    answer = raw.list_objects_v2(Bucket=bucket, Prefix=f"_uploads/{key}/")
    return sorted(o["Key"].rpartition("/")[2] for o in answer.get("Contents", []))


def _payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def test_tails_no_state_refers_to_are_deleted(make_store: StoreFactory, raw: S3Client) -> None:
    store = make_store()
    part = store.part_size
    state = store.begin_upload(KEY)
    state = store.append_upload(KEY, state, _payload(part - 10))  # tail after 0 parts
    assert _tails(raw, store.bucket, KEY) == ["tail-0"]

    state = store.append_upload(KEY, state, _payload(20))  # part 1; tail after 1 part
    # tail-0 is still what a redo from the previous state would read.
    assert _tails(raw, store.bucket, KEY) == ["tail-0", "tail-1"]

    state = store.append_upload(KEY, state, _payload(30))  # the caller persisted: tail-0 goes
    assert _tails(raw, store.bucket, KEY) == ["tail-1"]

    store.complete_upload(KEY, state)
    assert _tails(raw, store.bucket, KEY) == []


def test_tails_left_by_a_crash_are_reported_and_swept(
    make_store: StoreFactory, raw: S3Client
) -> None:
    """A node died between aborting (or completing) the multipart upload and deleting the tail."""
    store = make_store()
    state = store.append_upload(KEY, store.begin_upload(KEY), _payload(1000))
    assert state.multipart_id is not None
    raw.abort_multipart_upload(Bucket=store.bucket, Key=KEY, UploadId=state.multipart_id)

    stale = store.list_stale_uploads(FUTURE)

    assert [(u.key, u.multipart_id) for u in stale] == [(KEY, None)]
    assert sweep_stale_uploads(store, lambda key: False, FUTURE) == 1
    assert _tails(raw, store.bucket, KEY) == []
    assert store.list_stale_uploads(FUTURE) == []


def test_a_second_multipart_upload_of_a_key_keeps_its_own_tails(make_store: StoreFactory) -> None:
    """begin_upload retried after a crash: aborting the abandoned one leaves the live one whole."""
    store = make_store()
    abandoned = store.append_upload(KEY, store.begin_upload(KEY), _payload(100, seed=5))
    data = _payload(300)
    live = store.append_upload(KEY, store.begin_upload(KEY), data)

    store.abort_upload(KEY, abandoned)
    store.complete_upload(KEY, live)

    assert b"".join(store.open_read(KEY)) == data


def test_appends_hold_at_most_about_two_parts_in_memory(make_store: StoreFactory) -> None:
    """A 40 MB upload in 8 MB blocks with 8 MiB parts: the blocks never line up with the parts,
    so every append reads a tail and assembles a part."""
    store = make_store(part_size=8 * MiB)
    block_size = 8_000_000
    digest = hashlib.sha256()
    state = store.begin_upload(KEY)
    peak = 0
    tracemalloc.start()
    try:
        for seed in range(5):
            block = _payload(block_size, seed)
            digest.update(block)
            # The caller's block is alive during the append and counts as one of the two parts.
            tracemalloc.reset_peak()
            state = store.append_upload(KEY, state, block)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            del block
    finally:
        tracemalloc.stop()
    store.complete_upload(KEY, state)

    assert len(state.parts) == 4
    assert peak < 2 * store.part_size + 4 * MiB, f"peak {peak / MiB:.1f} MiB"
    read = hashlib.sha256()
    for chunk in store.open_read(KEY):
        read.update(chunk)
    assert read.hexdigest() == digest.hexdigest()


# --- S3 down (reliability F13) -------------------------------------------------------------------


@pytest.fixture
def private_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


def _fast_store(
    endpoint: str,
    bucket: str,
    session: boto3.session.Session,
    *,
    create_bucket: bool = False,
    max_attempts: int = 1,
) -> S3BlobStore:
    return S3BlobStore(
        endpoint_url=endpoint,
        bucket=bucket,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        part_size=5 * MiB,
        create_bucket=create_bucket,
        connect_timeout_s=0.5,
        read_timeout_s=0.5,
        max_attempts=max_attempts,
        session=session,
    )


def _calls(store: S3BlobStore, state: UploadState) -> list[Callable[[], object]]:
    return [
        lambda: store.append_upload(KEY, state, _payload(6 * MiB)),
        lambda: store.append_upload(KEY, state, b"small"),
        lambda: store.complete_upload(KEY, state),
        lambda: store.begin_upload("2026/11/new"),
        lambda: store.put("2026/11/thumb", b"x", "image/jpeg"),
        lambda: store.size("2026/11/existing"),  # must not pretend the blob is missing
        lambda: store.open_read("2026/11/existing"),
        lambda: store.delete("2026/11/existing"),
        lambda: store.list_stale_uploads(FUTURE),
        lambda: store.abort_upload(KEY, state),
    ]


def _fail_fast(calls: list[Callable[[], object]]) -> None:
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            call()
        assert time.monotonic() - started < FAIL_FAST_BOUND_S


def test_s3_stopping_mid_upload_fails_every_call_clearly(
    private_server: MotoServer, boto_session: boto3.session.Session
) -> None:
    store = _fast_store(private_server.url, new_bucket_name(), boto_session, create_bucket=True)
    store.put("2026/11/existing", b"x", "text/plain")
    state = store.append_upload(KEY, store.begin_upload(KEY), _payload(6 * MiB + 5))

    private_server.stop()

    _fail_fast(_calls(store, state))
    # Presigning needs no connection: a download link can still be handed out.
    assert store.presigned_url(
        KEY, file_name="a.txt", content_type="text/plain", inline=False, expires_s=60
    ).startswith(private_server.url)


def test_a_silent_s3_times_out(boto_session: boto3.session.Session) -> None:
    """A server that accepts connections and never answers (a hung MinIO, a black-holed route
    behind a proxy): every call gives up after the read timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes handshakes; nobody ever reads or answers
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        store = _fast_store(endpoint, "sodam", boto_session)
        state = UploadState(size=6 * MiB + 5, multipart_id="upload-1", parts=[], tail_size=5)
        # A second each (the read timeout, and botocore's wait for "100 Continue"): a few calls.
        _fail_fast(_calls(store, state)[:2] + _calls(store, state)[5:7])


def test_a_closed_port_fails_at_once(boto_session: boto3.session.Session) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = _fast_store(f"http://127.0.0.1:{port}", "sodam", boto_session)
    _fail_fast(_calls(store, UploadState(multipart_id="upload-1")))


def test_max_attempts_is_the_number_of_tries(boto_session: boto3.session.Session) -> None:
    """``s3.max_attempts`` counts every try, the first one included: a stalled S3 holds a
    request for about max_attempts x read_timeout_s, not one try more (F13)."""
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.1)
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        store = _fast_store(endpoint, "sodam", boto_session, max_attempts=2)
        done = threading.Event()

        def accept() -> None:  # every try opens a connection (a timed-out one is dropped)
            while not done.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept)
        thread.start()
        try:
            with pytest.raises(StorageUnavailable):
                store.size("2026/11/existing")
        finally:
            done.set()
            thread.join()
            for conn in accepted:
                conn.close()
    assert len(accepted) == 2
