"""The benchmark's tus 1.0.0 client (docs/files.md) and the files it uploads.

``tus_upload`` creates an upload (``POST /api/uploads``, no body) and sends the file in PATCH
requests of ``chunk_size`` bytes each. Every PATCH body is streamed from the file on disk in
reads of ``READ_SIZE`` (``os.pread`` in a worker thread): the generator never holds more than a
read or two of the file, whatever its size. The clock runs from the POST to the last PATCH's 204,
which the server sends only once the upload is complete (stored, hashed, recorded).

``send_as_message`` then sends the upload as a message (``upload_ids``) and returns the
attachment, whose ``sha256`` the caller compares with the file's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

TUS = {"Tus-Resumable": "1.0.0"}
READ_SIZE = 1024 * 1024
MiB = 1024 * 1024


@dataclass(frozen=True)
class TestFile:
    path: Path
    size: int
    sha256: str


def make_file(path: Path, size: int, *, block: int = 4 * MiB) -> TestFile:
    """Writes ``size`` random bytes (incompressible, no recognisable type) and hashes them."""
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            data = os.urandom(min(block, left))
            digest.update(data)
            fh.write(data)
            left -= len(data)
    return TestFile(path=path, size=size, sha256=digest.hexdigest())


async def file_chunks(path: Path, offset: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``path`` from ``offset``, in reads of ``READ_SIZE``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        done = 0
        while done < length:
            data = await asyncio.to_thread(
                os.pread, fd, min(READ_SIZE, length - done), offset + done
            )
            if not data:
                raise RuntimeError(f"{path} is shorter than expected")
            done += len(data)
            yield data
    finally:
        os.close(fd)


class UploadFailed(Exception):
    def __init__(self, step: str, status: int, body: str) -> None:
        super().__init__(f"{step}: HTTP {status} {body[:200]}")
        self.step = step
        self.status = status


@dataclass
class UploadResult:
    upload_id: str
    size: int
    started: float  # perf_counter at the POST
    finished: float  # perf_counter at the last PATCH's 204
    patches: int
    last_byte_sent: float = 0.0  # when the last PATCH's last read was handed to the client
    patch_s: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def mb_per_s(self) -> float:
        return self.size / self.seconds / 1e6


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def tus_upload(
    http: aiohttp.ClientSession,
    base_url: str,
    token: str,
    file: TestFile,
    *,
    chunk_size: int,
    file_name: str = "bench.bin",
) -> UploadResult:
    """Uploads ``file`` with tus: one POST, then PATCHes of ``chunk_size`` bytes."""
    name = base64.b64encode(file_name.encode()).decode()
    started = time.perf_counter()
    async with http.post(
        f"{base_url}/api/uploads",
        headers={
            **TUS,
            **_auth(token),
            "Upload-Length": str(file.size),
            "Upload-Metadata": f"filename {name}",
        },
    ) as r:
        if r.status != 201:
            raise UploadFailed("POST", r.status, await r.text())
        location = r.headers["Location"]
    result = UploadResult(
        upload_id=location.rsplit("/", 1)[1],
        size=file.size,
        started=started,
        finished=0.0,
        patches=0,
    )

    async def body(offset: int, n: int) -> AsyncIterator[bytes]:
        async for data in file_chunks(file.path, offset, n):
            yield data
        # aiohttp drains its transport between writes: the bytes are with the kernel (or in its
        # last write buffer) and the server still has to read the socket buffers.
        result.last_byte_sent = time.perf_counter()

    offset = 0
    while offset < file.size:
        n = min(chunk_size, file.size - offset)
        t = time.perf_counter()
        async with http.patch(
            location,
            data=body(offset, n),
            headers={
                **TUS,
                **_auth(token),
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(n),
            },
        ) as r:
            if r.status != 204:
                raise UploadFailed(f"PATCH at {offset}", r.status, await r.text())
            offset = int(r.headers["Upload-Offset"])
        result.patches += 1
        result.patch_s.append(time.perf_counter() - t)
    result.finished = time.perf_counter()
    return result


async def send_as_message(
    http: aiohttp.ClientSession, base_url: str, token: str, room_id: int, upload_id: str
) -> dict[str, Any]:
    """Sends the upload as a file message; returns the message's attachment."""
    async with http.post(
        f"{base_url}/api/rooms/{room_id}/messages",
        json={"client_msg_id": f"bench-file-{uuid.uuid4().hex}", "upload_ids": [upload_id]},
        headers=_auth(token),
    ) as r:
        if r.status != 200:
            raise UploadFailed("send", r.status, await r.text())
        body = await r.json()
    attachments = body["message"]["attachments"]
    if len(attachments) != 1:
        raise UploadFailed("send", r.status, f"{len(attachments)} attachments")
    return dict(attachments[0])


def session(connections: int = 100) -> aiohttp.ClientSession:
    """An HTTP/1.1 client for uploads: no total timeout (a 300 MB body may take a while), no
    automatic decompression of what it does not need."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, force_close=False),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600),
        auto_decompress=False,
    )
