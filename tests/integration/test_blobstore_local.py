"""The local store on a full disk (reliability F12): a clear StorageFull, nothing corrupted.

Two ways to make a disk full for real: a 1 MiB tmpfs (needs root, which the test machine has;
skipped with a reason otherwise), and RLIMIT_FSIZE, which makes the kernel refuse writes past
1 MiB in a file (EFBIG) and works everywhere. Both exercise the same recovery code.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sodam.files.base import StorageFull
from sodam.files.local import LocalBlobStore

KiB = 1024
KEY = "2026/11/Xq3hV9aLmT0"


@dataclass
class SmallDisk:
    root: Path
    limited: Callable[[], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.fixture(params=["tmpfs", "rlimit"])
def small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmallDisk]:
    root = tmp_path / "disk"
    root.mkdir()
    if request.param == "rlimit":
        yield SmallDisk(root, lambda: _file_size_limit(1024 * KiB))
        return
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a tmpfs needs root; the rlimit variant covers the same code")
    subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=1m,mode=0700", "sodam-test-full", str(root)],
        check=True,
    )
    try:
        yield SmallDisk(root / "files", contextlib.nullcontext)
    finally:
        subprocess.run(["umount", str(root)], check=True)


def _payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_a_full_disk_fails_the_append_and_keeps_the_upload_as_persisted(
    small_disk: SmallDisk,
) -> None:
    store = LocalBlobStore(small_disk.root)
    first, too_much, rest = _payload(400 * KiB, 1), _payload(800 * KiB, 2), _payload(300 * KiB, 3)
    state = store.append_upload(KEY, store.begin_upload(KEY), first)

    with small_disk.limited(), pytest.raises(StorageFull):
        store.append_upload(KEY, state, too_much)

    partial = small_disk.root / "uploads" / KEY
    assert partial.read_bytes() == first  # the part of the block that fitted was cut off again
    with small_disk.limited():
        state = store.append_upload(KEY, state, rest)
        store.complete_upload(KEY, state)
    assert b"".join(store.open_read(KEY)) == first + rest


def test_a_full_disk_fails_put_and_leaves_the_old_blob_and_no_temp_file(
    small_disk: SmallDisk,
) -> None:
    store = LocalBlobStore(small_disk.root)
    store.put(KEY, b"old thumbnail", "image/jpeg")

    with small_disk.limited(), pytest.raises(StorageFull):
        store.put(KEY, _payload(1200 * KiB, 4), "image/jpeg")

    assert b"".join(store.open_read(KEY)) == b"old thumbnail"
    assert list((small_disk.root / "tmp").iterdir()) == []
