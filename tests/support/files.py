"""Helpers for file tests: tus uploads over HTTP, sending files, running queued jobs."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import httpx

from tests.support.factories import LoggedIn
from tests.support.messaging import new_client_msg_id

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = "application/offset+octet-stream"


def metadata(file_name: str) -> str:
    return "filename " + base64.b64encode(file_name.encode()).decode()


async def tus_create(
    client: httpx.AsyncClient, user: LoggedIn, length: int, file_name: str = "file.bin"
) -> httpx.Response:
    return await client.post(
        "/api/uploads",
        headers={
            **user.headers,
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(file_name),
        },
    )


def upload_path(r: httpx.Response) -> str:
    assert r.status_code == 201, r.text
    return httpx.URL(r.headers["location"]).path


async def tus_patch(
    client: httpx.AsyncClient, user: LoggedIn, path: str, offset: int, data: bytes
) -> httpx.Response:
    return await client.patch(
        path,
        content=data,
        headers={**user.headers, **TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET},
    )


async def upload(
    client: httpx.AsyncClient,
    user: LoggedIn,
    data: bytes,
    file_name: str = "file.bin",
    *,
    chunk: int = 1 << 20,
) -> str:
    """Uploads ``data`` with tus in PATCHes of ``chunk`` bytes; returns the upload id."""
    path = upload_path(await tus_create(client, user, len(data), file_name))
    offset = 0
    while offset < len(data):
        r = await tus_patch(client, user, path, offset, data[offset : offset + chunk])
        assert r.status_code == 204, r.text
        offset = int(r.headers["upload-offset"])
    return path.rsplit("/", 1)[-1]


async def send_files(
    client: httpx.AsyncClient,
    user: LoggedIn,
    room_id: int,
    upload_ids: list[str],
    caption: str | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/rooms/{room_id}/messages",
        json={"client_msg_id": new_client_msg_id(), "body": caption, "upload_ids": upload_ids},
        headers=user.headers,
    )


async def send_file(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, data: bytes, file_name: str
) -> dict[str, Any]:
    upload_id = await upload(client, user, data, file_name)
    r = await send_files(client, user, room_id, [upload_id])
    assert r.status_code == 200, r.text
    message: dict[str, Any] = r.json()["message"]
    return message


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_bytes(
    width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_with_gps(width: int = 80, height: int = 40) -> bytes:
    """A JPEG with EXIF orientation 6 (rotate 90°) and a GPS position."""
    from PIL import Image

    img = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (37.0, 33.0, 59.0)
    gps[3] = "E"
    gps[4] = (126.0, 58.0, 40.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def eicar() -> bytes:
    """The EICAR test string, built from halves so the repository never holds it whole."""
    first = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$"
    second = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    return first + second


async def run_jobs(app: Any, *, kinds: set[str] | None = None) -> int:
    """Runs every job that is due, in this task, until none is left (the embedded runner is
    off in these tests, so nothing runs behind the test's back); returns how many ran. A
    handler's exception propagates: a test sees it."""
    from sodam.services.jobs import RetryLater
    from sodam.workers.handlers import build_handlers

    services = app.state.services
    handlers = build_handlers(services)
    ran = 0
    while True:
        claimed = await services.jobs.claim("test-runner", 20)
        if not claimed.jobs:
            return ran
        for job in claimed.jobs:
            if kinds is not None and job.kind not in kinds:
                await services.jobs.release([job], worker_id="test-runner")
                continue
            try:
                await handlers[job.kind](job)
            except RetryLater as exc:
                await services.jobs.retry(
                    job, worker_id="test-runner", reason=exc.reason, delay_s=exc.delay_s
                )
                continue
            await services.jobs.complete(job, worker_id="test-runner")
            ran += 1
        if kinds is not None and all(job.kind not in kinds for job in claimed.jobs):
            return ran
