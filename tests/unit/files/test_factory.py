"""build_blob_store picks the backend from the settings (no I/O: S3 clients connect lazily)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sodam.config import Settings
from sodam.files import build_blob_store
from sodam.files.local import LocalBlobStore
from sodam.files.s3 import S3BlobStore


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("SODAM_"):
            monkeypatch.delenv(name)
    yield


def test_local_disk_by_default(tmp_path: Path) -> None:
    store = build_blob_store(Settings(mode="development", data_dir=tmp_path))

    assert isinstance(store, LocalBlobStore)
    assert store.backend == "local"
    assert store.root == tmp_path / "files"


def test_s3_when_an_endpoint_is_set(tmp_path: Path) -> None:
    settings = Settings(
        mode="development",
        data_dir=tmp_path,
        s3={
            "endpoint_url": "http://minio:9000",
            "access_key_id": "sodam",
            "secret_access_key": "a-real-secret-value",
            "part_size_mb": 16,
        },
    )

    store = build_blob_store(settings)

    assert isinstance(store, S3BlobStore)
    assert store.backend == "s3"
    assert store.bucket == "sodam"
    assert store.part_size == 16 * 1024 * 1024


def test_s3_when_only_a_bucket_is_set_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SODAM_S3__BUCKET", "company-files")

    store = build_blob_store(Settings(mode="development", data_dir=tmp_path))

    assert isinstance(store, S3BlobStore)
    assert store.bucket == "company-files"


def test_parts_smaller_than_5_mib_are_refused() -> None:
    with pytest.raises(ValueError, match="part_size_mb"):
        Settings(mode="development", s3={"part_size_mb": 4})
