"""Files on S3 (a moto server standing in for MinIO), on SQLite and PostgreSQL: a multi-part
tus upload resumed from a fresh service (as another node would), sent, thumbnailed, downloaded
with ranges, a presigned redirect, unsent (blobs deleted by the job), and an abandoned multipart
upload swept."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI

from sodam.config import Settings
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.support.factories import LoggedIn, create_user
from tests.support.files import (
    png_bytes,
    run_jobs,
    send_files,
    sha256,
    tus_create,
    tus_patch,
    upload,
    upload_path,
)
from tests.support.messaging import make_group
from tests.support.motoserver import MotoServer, moto_server, new_bucket_name

__all__ = ["moto_server"]

MiB = 1024 * 1024


@pytest.fixture
def settings(database_url: str, tmp_path: Path, moto_server: MotoServer) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        admin_password=ADMIN_PASSWORD,
        embedded_workers=False,
        database={"url": database_url, "migrate_on_start": True},
        s3={
            "endpoint_url": moto_server.url,
            "bucket": new_bucket_name(),
            "access_key_id": "testing",
            "secret_access_key": "testing-secret-key",
            "create_bucket": True,
            "part_size_mb": 5,
        },
    )


async def test_upload_send_download_on_s3(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn, settings: Settings
) -> None:
    assert app.state.services.files.store.backend == "s3"
    alice = await create_user(client, admin)
    bob = await create_user(client, admin)
    room_id = int((await make_group(client, alice, [bob]))["id"])
    data = os.urandom(12 * MiB + 4321)
    path = upload_path(await tus_create(client, alice, len(data), "큰 파일.bin"))
    # odd-sized PATCHes: the store keeps sub-part remainders in its tail object
    offset = 0
    for size in (3 * MiB + 1, 6 * MiB, MiB - 7):
        r = await tus_patch(client, alice, path, offset, data[offset : offset + size])
        assert r.status_code == 204, r.text
        offset = int(r.headers["upload-offset"])
    # no byte of the upload is on local disk
    assert (
        not any(p.is_file() for p in settings.files_dir.rglob("*"))
        if settings.files_dir.exists()
        else True
    )
    app.state.services.uploads._hashers.clear()  # finish "on another node"
    r = await tus_patch(client, alice, path, offset, data[offset:])
    assert r.status_code == 204 and int(r.headers["upload-offset"]) == len(data)
    image = await upload(client, alice, png_bytes(300, 200), "그림.png")
    r = await send_files(client, alice, room_id, [path.rsplit("/", 1)[-1], image])
    assert r.status_code == 200, r.text
    big, pic = r.json()["message"]["attachments"]
    assert big["sha256"] == sha256(data)
    r = await client.get(f"/api/files/{big['id']}", headers=bob.headers)
    assert r.status_code == 200 and sha256(r.content) == sha256(data)
    r = await client.get(
        f"/api/files/{big['id']}",
        headers={**bob.headers, "Range": f"bytes={5 * MiB}-{5 * MiB + 9}"},
    )
    assert r.status_code == 206 and r.content == data[5 * MiB : 5 * MiB + 10]
    await run_jobs(app)
    r = await client.get(f"/api/files/{pic['id']}/thumbnail?size=large", headers=bob.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"


async def test_presigned_download_redirect(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn, settings: Settings
) -> None:
    settings.s3.presigned_downloads = True
    alice = await create_user(client, admin)
    room_id = int((await make_group(client, alice, []))["id"])
    upload_id = await upload(client, alice, b"presigned body", "보고서.txt")
    r = await send_files(client, alice, room_id, [upload_id])
    att = r.json()["message"]["attachments"][0]
    r = await client.get(f"/api/files/{att['id']}", headers=alice.headers)
    assert r.status_code == 302
    url = r.headers["location"]
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == [str(settings.s3.presign_expiry_s)]
    assert "filename*=UTF-8''" in query["response-content-disposition"][0]
    async with httpx.AsyncClient(timeout=30) as outside:  # straight from the store
        fetched = await outside.get(url)
    assert fetched.status_code == 200 and fetched.content == b"presigned body"


async def test_unsend_deletes_blobs_and_sweeper_removes_orphans(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn, clock: object
) -> None:
    alice = await create_user(client, admin)
    room_id = int((await make_group(client, alice, []))["id"])
    upload_id = await upload(client, alice, png_bytes(), "p.png")
    r = await send_files(client, alice, room_id, [upload_id])
    message = r.json()["message"]
    await run_jobs(app)
    store = app.state.services.files.store
    key_of = await app.state.db.read(
        lambda conn: conn.exec_driver_sql(
            "SELECT storage_key, thumb_small_key FROM attachments"
        ).one()
    )
    assert store.size(key_of[0]) is not None and store.size(key_of[1]) is not None
    r = await client.delete(f"/api/rooms/{room_id}/messages/{message['id']}", headers=alice.headers)
    assert r.status_code == 200
    await run_jobs(app)
    assert store.size(key_of[0]) is None and store.size(key_of[1]) is None
    # an abandoned multipart upload the database does not know
    state = store.begin_upload("2026/11/orphan")
    store.append_upload("2026/11/orphan", state, b"x" * 1000)
    clock.advance(3 * 3600)  # type: ignore[attr-defined]
    swept = await app.state.services.uploads.sweep_orphans(min_age_s=0)
    assert swept >= 1
    assert all(s.key != "2026/11/orphan" for s in store.list_stale_uploads(clock.now()))  # type: ignore[attr-defined]
