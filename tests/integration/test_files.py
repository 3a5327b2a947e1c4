"""Files in messages on SQLite and PostgreSQL: sending uploads as attachments, authorised
downloads (Range, RFC 6266 names, inline allowlist, cookies), thumbnails and the drawer, and the
jobs that scan and thumbnail (without a scanner here; tests/integration/test_files_scan.py runs a
real clamd)."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from sodam.config import Settings
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.support.factories import LoggedIn, create_user, login
from tests.support.files import (
    jpeg_with_gps,
    png_bytes,
    run_jobs,
    send_file,
    send_files,
    sha256,
    upload,
)
from tests.support.messaging import assert_error, make_group, new_client_msg_id, send, unsend


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
async def users(client: httpx.AsyncClient, admin: LoggedIn) -> tuple[LoggedIn, LoggedIn, LoggedIn]:
    return (
        await create_user(client, admin),
        await create_user(client, admin),
        await create_user(client, admin),
    )


async def _room(client: httpx.AsyncClient, owner: LoggedIn, *members: LoggedIn) -> int:
    room = await make_group(client, owner, list(members))
    return int(room["id"])


async def test_send_files_with_a_caption(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    doc = b"%PDF-1.4\n" + b"0" * 5000
    ids = [
        await upload(client, alice, doc, "회의록.pdf"),
        await upload(client, alice, png_bytes(), "a.png"),
    ]
    r = await send_files(client, alice, room_id, ids, "자료 공유합니다")
    assert r.status_code == 200, r.text
    message = r.json()["message"]
    assert message["kind"] == "file" and message["body"] == "자료 공유합니다"
    files = message["attachments"]
    assert [f["file_name"] for f in files] == ["회의록.pdf", "a.png"]
    assert files[0]["content_type"] == "application/pdf" and files[0]["kind"] == "file"
    assert files[0]["sha256"] == sha256(doc) and files[0]["size"] == len(doc)
    assert files[1]["kind"] == "image" and files[1]["thumbnail"] == "pending"
    # no scanner configured: unscanned, shared
    assert files[0]["scan_state"] == "unscanned" and files[0]["scan_reason"] == "scanner_disabled"
    assert files[0]["downloadable"] is True
    # bob sees the same in history
    r = await client.get(f"/api/rooms/{room_id}/messages", headers=bob.headers)
    last = r.json()["messages"][-1]
    assert last["attachments"] == files
    # an upload is attached once
    r = await send_files(client, alice, room_id, ids[:1])
    assert_error(r, 404, "upload_not_found")


async def test_send_refuses_bad_uploads(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    bobs = await upload(client, bob, b"bob's", "b.txt")
    assert_error(await send_files(client, alice, room_id, [bobs]), 404, "upload_not_found")
    assert_error(await send_files(client, alice, room_id, ["f" * 32]), 404, "upload_not_found")
    r = await client.post(
        "/api/uploads",
        headers={**alice.headers, "Tus-Resumable": "1.0.0", "Upload-Length": "10"},
    )
    unfinished = r.headers["location"].rsplit("/", 1)[-1]
    assert_error(await send_files(client, alice, room_id, [unfinished]), 400, "upload_not_finished")
    mine = await upload(client, alice, b"x", "x.txt")
    assert_error(
        await send_files(client, alice, room_id, [mine, mine]), 400, "upload_ids_duplicate"
    )
    r = await send_files(client, alice, room_id, [str(i) * 32 for i in range(11)])
    assert r.status_code == 422  # more than 10
    # nothing was half-sent: the good upload is still there to send
    assert (await send_files(client, alice, room_id, [mine])).status_code == 200


async def test_a_retried_send_attaches_once(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    upload_id = await upload(client, alice, b"hello", "hello.txt")
    body = {"client_msg_id": new_client_msg_id(), "upload_ids": [upload_id]}
    first = await client.post(f"/api/rooms/{room_id}/messages", json=body, headers=alice.headers)
    again = await client.post(f"/api/rooms/{room_id}/messages", json=body, headers=alice.headers)
    assert again.json()["duplicate"] is True
    assert again.json()["message"]["attachments"] == first.json()["message"]["attachments"]


async def test_download_headers_range_and_names(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    data = bytes(range(256)) * 40
    message = await send_file(client, alice, room_id, data, '한글 파일명 "따옴표".bin')
    file_id = message["attachments"][0]["id"]
    r = await client.get(f"/api/files/{file_id}", headers=bob.headers)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/octet-stream"
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;")
    assert "filename*=UTF-8''" + quote('한글 파일명 "따옴표".bin', safe="") in cd
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("sandbox")
    assert r.headers["etag"] == f'"{sha256(data)}"'
    assert "content-encoding" not in r.headers  # never gzipped
    r = await client.get(f"/api/files/{file_id}", headers={**bob.headers, "Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(data)}"
    r = await client.get(f"/api/files/{file_id}", headers={**bob.headers, "Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = await client.get(
        f"/api/files/{file_id}", headers={**bob.headers, "Range": "bytes=9999999-"}
    )
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}"
    r = await client.head(f"/api/files/{file_id}", headers=bob.headers)
    assert r.status_code == 200 and r.headers["content-length"] == str(len(data))


async def test_inline_only_for_the_allowlist(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    png = await send_file(client, alice, room_id, png_bytes(), "p.png")
    html = await send_file(
        client, alice, room_id, b"<html><script>alert(1)</script></html>", "evil.png"
    )
    svg = await send_file(
        client,
        alice,
        room_id,
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "logo.svg",
    )
    r = await client.get(f"/api/files/{png['attachments'][0]['id']}", headers=bob.headers)
    assert r.headers["content-disposition"].startswith("inline;")
    assert r.headers["content-type"] == "image/png"
    for m in (html, svg):
        att = m["attachments"][0]
        assert not att["content_type"].startswith("image/png")
        r = await client.get(f"/api/files/{att['id']}", headers=bob.headers)
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_who_may_download(
    client: httpx.AsyncClient, admin: LoggedIn, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, carol = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, b"secret plans", "plans.txt")
    file_id = message["attachments"][0]["id"]
    # not a member, guessed ids, no credentials
    assert_error(
        await client.get(f"/api/files/{file_id}", headers=carol.headers), 404, "file_not_found"
    )
    assert_error(
        await client.get(f"/api/files/{file_id + 1000}", headers=bob.headers), 404, "file_not_found"
    )
    assert (await client.get("/api/files/0", headers=bob.headers)).status_code == 404
    client.cookies.clear()  # the last login's media cookie
    assert (await client.get(f"/api/files/{file_id}")).status_code == 401
    r = await client.get(f"/api/rooms/{room_id}/files", headers=carol.headers)
    assert r.status_code == 404
    # after removal from the room
    assert (await client.get(f"/api/files/{file_id}", headers=bob.headers)).status_code == 200
    r = await client.delete(f"/api/rooms/{room_id}/members/{bob.user_id}", headers=alice.headers)
    assert r.status_code == 204, r.text
    assert_error(
        await client.get(f"/api/files/{file_id}", headers=bob.headers), 404, "file_not_found"
    )


async def test_unsending_removes_the_files(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, b"oops", "oops.txt")
    file_id = message["attachments"][0]["id"]
    r = await client.delete(f"/api/rooms/{room_id}/messages/{message['id']}", headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["attachments"] == []
    for user in (alice, bob):
        assert (await client.get(f"/api/files/{file_id}", headers=user.headers)).status_code == 404


async def test_media_cookie_lets_a_browser_fetch_files(
    client: httpx.AsyncClient, admin: LoggedIn, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, b"cookie", "c.txt")
    file_id = message["attachments"][0]["id"]
    r = await client.post(
        "/api/auth/login", json={"username": bob.username, "password": bob.password}
    )
    cookie = r.cookies.get("sodam_media")
    assert cookie
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert "path=/api/files" in set_cookie
    client.cookies.clear()
    client.cookies.set("sodam_media", cookie)
    r = await client.get(f"/api/files/{file_id}")
    assert r.status_code == 200 and r.content == b"cookie"
    # the media token is not an access token, and an access token is not a media cookie
    r = await client.get("/api/me", headers={"Authorization": f"Bearer {cookie}"})
    assert r.status_code == 401
    client.cookies.set("sodam_media", bob.access_token)
    r = await client.get(f"/api/files/{file_id}")
    assert r.status_code == 401


async def test_thumbnails_strip_metadata_and_follow_orientation(
    app: FastAPI, client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, jpeg_with_gps(80, 40), "photo.jpg")
    att = message["attachments"][0]
    assert att["thumbnail"] == "pending"
    r = await client.get(f"/api/files/{att['id']}/thumbnail", headers=bob.headers)
    assert_error(r, 404, "thumbnail_not_found")
    assert await run_jobs(app) >= 1
    r = await client.get(f"/api/rooms/{room_id}/messages", headers=bob.headers)
    now = r.json()["messages"][-1]["attachments"][0]
    assert now["thumbnail"] == "ready"
    assert (now["width"], now["height"]) == (40, 80)  # EXIF orientation 6 applied
    for size in ("small", "large"):
        r = await client.get(f"/api/files/{att['id']}/thumbnail?size={size}", headers=bob.headers)
        assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
        img = Image.open(io.BytesIO(r.content))
        assert img.size == (40, 80)
        assert not img.getexif() and "exif" not in img.info and "xmp" not in img.info


async def test_get_and_head_of_files_are_separate_operations(
    app: FastAPI, client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    # One route with methods GET and HEAD gave both the same operation id, and the web client's
    # generator refuses a document with duplicate ids.
    r = await client.get("/api/openapi.json")
    paths = r.json()["paths"]
    ids = {
        (path, method): paths[path][method]["operationId"]
        for path in ("/api/files/{attachment_id}", "/api/files/{attachment_id}/thumbnail")
        for method in ("get", "head")
    }
    assert ids == {
        ("/api/files/{attachment_id}", "get"): "files_download",
        ("/api/files/{attachment_id}", "head"): "files_head",
        ("/api/files/{attachment_id}/thumbnail", "get"): "files_thumbnail",
        ("/api/files/{attachment_id}/thumbnail", "head"): "files_thumbnail_head",
    }
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, png_bytes(64, 32), "p.png")
    file_id = message["attachments"][0]["id"]
    await run_jobs(app)
    small = await client.get(f"/api/files/{file_id}/thumbnail", headers=bob.headers)
    assert small.status_code == 200 and small.content
    r = await client.head(f"/api/files/{file_id}/thumbnail", headers=bob.headers)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"] == "image/webp"
    assert r.headers["content-length"] == str(len(small.content))
    r = await client.head(f"/api/files/{file_id + 1000}", headers=bob.headers)
    assert r.status_code == 404


async def test_attachment_changes_are_room_events(
    app: FastAPI, client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    r = await client.get(f"/api/rooms/{room_id}", headers=bob.headers)
    cursor = r.json()["last_event_seq"]
    message = await send_file(client, alice, room_id, png_bytes(), "p.png")
    await run_jobs(app)
    r = await client.get(f"/api/rooms/{room_id}/events?after={cursor}", headers=bob.headers)
    events = [f["event"] for f in r.json()["events"]]
    updated = [e for e in events if e["kind"] == "message.updated"]
    assert updated and updated[-1]["change"] == "attachment"
    assert updated[-1]["message"]["id"] == message["id"]
    assert updated[-1]["message"]["attachments"][0]["thumbnail"] == "ready"


async def test_a_broken_image_gets_no_thumbnail(
    app: FastAPI, client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    data = png_bytes(200, 200)
    message = await send_file(client, alice, room_id, data[: len(data) // 2], "cut.png")
    await run_jobs(app)
    r = await client.get(f"/api/rooms/{room_id}/messages/{message['id']}", headers=bob.headers)
    assert r.json()["attachments"][0]["thumbnail"] == "none"


async def test_drawer_pages_newest_first_by_kind(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    sent = []
    for i in range(5):
        sent.append(await send_file(client, alice, room_id, png_bytes(10 + i, 10), f"{i}.png"))
        sent.append(await send_file(client, bob, room_id, f"doc {i}".encode(), f"{i}.txt"))
    r = await client.get(f"/api/rooms/{room_id}/files?kind=media&limit=3", headers=bob.headers)
    page = r.json()
    names = [f["file_name"] for f in page["files"]]
    assert names == ["4.png", "3.png", "2.png"] and page["has_more"] is True
    r = await client.get(
        f"/api/rooms/{room_id}/files?kind=media&limit=3&before={page['files'][-1]['id']}",
        headers=bob.headers,
    )
    assert [f["file_name"] for f in r.json()["files"]] == ["1.png", "0.png"]
    assert r.json()["has_more"] is False
    r = await client.get(f"/api/rooms/{room_id}/files?kind=file", headers=alice.headers)
    files = r.json()["files"]
    assert [f["file_name"] for f in files] == [f"{i}.txt" for i in range(4, -1, -1)]
    assert files[0]["sender_id"] == bob.user_id and files[0]["message_id"] == sent[-1]["id"]
    # Each kind filters the attachment kind of its name (media: images and videos), so a client
    # merging two kinds into one tab never gets a file twice; "all" has every file once.
    await send_file(client, alice, room_id, b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64), "녹음.wav")
    by_kind = {}
    for kind in ("media", "image", "video", "audio", "file", "all"):
        r = await client.get(f"/api/rooms/{room_id}/files?kind={kind}", headers=alice.headers)
        by_kind[kind] = [(f["kind"], f["file_name"]) for f in r.json()["files"]]
    assert by_kind["audio"] == [("audio", "녹음.wav")]
    assert all(kind == "file" for kind, _ in by_kind["file"]) and len(by_kind["file"]) == 5
    assert by_kind["media"] == by_kind["image"] and by_kind["video"] == []
    assert sorted(by_kind["all"]) == sorted(by_kind["media"] + by_kind["audio"] + by_kind["file"])
    r = await client.get(f"/api/rooms/{room_id}/files?kind=bogus", headers=alice.headers)
    assert r.status_code == 422


async def test_room_list_previews_the_last_messages_files(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    await send_file(client, alice, room_id, png_bytes(), "사진.png")
    r = await client.get("/api/rooms", headers=bob.headers)
    room = next(x for x in r.json()["rooms"] if x["id"] == room_id)
    last = room["last_message"]
    assert last["kind"] == "file"
    assert [(a["kind"], a["file_name"]) for a in last["attachments"]] == [("image", "사진.png")]


async def test_a_reply_quotes_the_files_of_a_message_without_a_caption(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    photo = await send_file(client, alice, room_id, png_bytes(), "회의 사진.png")
    ids = [
        await upload(client, alice, b"%PDF-1.4\n" + b"0" * 100, "견적서.pdf"),
        await upload(client, alice, b"%PDF-1.4\n" + b"1" * 100, "계약서.pdf"),
    ]
    r = await send_files(client, alice, room_id, ids)
    assert r.status_code == 200, r.text
    docs = r.json()["message"]
    reply = await send(client, bob, room_id, "받았습니다", reply_to_id=photo["id"])
    quote = reply["reply_to"]
    assert quote["body"] == "" and quote["kind"] == "file"
    assert quote["attachments"] == [{"kind": "image", "file_name": "회의 사진.png"}]
    reply2 = await send(client, bob, room_id, "확인", reply_to_id=docs["id"])
    assert [a["file_name"] for a in reply2["reply_to"]["attachments"]] == [
        "견적서.pdf",
        "계약서.pdf",
    ]
    # the same in history, for both members
    for user in (alice, bob):
        r = await client.get(f"/api/rooms/{room_id}/messages", headers=user.headers)
        by_id = {m["id"]: m for m in r.json()["messages"]}
        assert by_id[reply["id"]]["reply_to"] == quote
    # once the quoted message is unsent, its files are not named any more
    assert (await unsend(client, alice, room_id, photo["id"])).status_code == 200
    r = await client.get(f"/api/rooms/{room_id}/messages", headers=bob.headers)
    gone = next(m for m in r.json()["messages"] if m["id"] == reply["id"])["reply_to"]
    assert gone["body"] is None and gone["kind"] is None and gone["attachments"] == []


async def test_a_video_gets_a_poster_thumbnail(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: tuple[LoggedIn, LoggedIn, LoggedIn],
    tmp_path: Path,
) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        if os.environ.get("CI"):
            pytest.fail("ffmpeg is missing in CI: scripts/ensure-system-deps.sh installs it")
        pytest.skip("ffmpeg is not installed (scripts/ensure-system-deps.sh installs it)")
    clip = tmp_path / "clip.mp4"
    await asyncio.to_thread(
        subprocess.run,
        [
            ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10",
            "-t",
            "1",
            "-pix_fmt",
            "yuv420p",
            str(clip),
        ],
        check=True,
        timeout=60,
    )
    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, clip.read_bytes(), "회의 영상.mp4")
    att = message["attachments"][0]
    assert att["kind"] == "video" and att["content_type"] == "video/mp4"
    await run_jobs(app)
    r = await client.get(f"/api/files/{att['id']}/thumbnail?size=small", headers=bob.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(r.content)).size == (320, 240)
    r = await client.get(f"/api/files/{att['id']}", headers=bob.headers)
    assert r.headers["content-disposition"].startswith("inline;")  # mp4 plays in the browser


async def test_a_hidden_file_message_shares_nothing(
    client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    alice, bob, carol = users
    room_id = await _room(client, alice, bob, carol)
    message = await send_file(client, bob, room_id, b"bad content", "bad.txt")
    file_id = message["attachments"][0]["id"]
    r = await client.put(
        f"/api/rooms/{room_id}/messages/{message['id']}/hidden",
        json={"hidden": True},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["attachments"] == []
    assert_error(
        await client.get(f"/api/files/{file_id}", headers=carol.headers), 404, "file_not_found"
    )
    r = await client.get(f"/api/rooms/{room_id}/files", headers=carol.headers)
    assert r.json()["files"] == []


async def test_scan_and_thumbnail_results_apply_once(
    app: FastAPI, client: httpx.AsyncClient, users: tuple[LoggedIn, LoggedIn, LoggedIn]
) -> None:
    """A job run again (a lost lease) or after an unsend changes nothing and leaves no blobs."""
    from sodam.domain.jobs import Job

    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, png_bytes(), "p.png")
    att_id = message["attachments"][0]["id"]
    job = Job(
        id=0, kind="files.thumbnail", payload={"attachment_id": att_id}, attempts=1, max_attempts=5
    )
    files = app.state.services.files
    r = await client.delete(f"/api/rooms/{room_id}/messages/{message['id']}", headers=alice.headers)
    assert r.status_code == 200
    before = await app.state.services.sync.events_since(
        await app.state.services.auth.authenticate(bob.access_token), room_id, 0
    )
    await files.thumbnail_job(job)  # the unsent file: nothing is rendered or published
    after = await app.state.services.sync.events_since(
        await app.state.services.auth.authenticate(bob.access_token), room_id, 0
    )
    assert len(after.frames) == len(before.frames)
    await run_jobs(app)  # deletes the blobs
    store = files.store
    key = await app.state.db.read(
        lambda c: c.exec_driver_sql("SELECT storage_key FROM attachments").scalar_one()
    )
    assert store.size(key) is None
    assert store.size(key + ".thumb-small.webp") is None


async def test_retention_deletes_old_files_through_a_job(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: tuple[LoggedIn, LoggedIn, LoggedIn],
    settings: Settings,
    clock: Any,
) -> None:
    from sodam.domain.jobs import Job

    alice, bob, _ = users
    room_id = await _room(client, alice, bob)
    message = await send_file(client, alice, room_id, b"old report", "old.txt")
    file_id = message["attachments"][0]["id"]
    settings.files.retention_days = 30
    clock.advance(31 * 86400)
    bob = await login(client, bob.username)
    await app.state.services.files.retention_job(
        Job(id=0, kind="files.retention", payload={}, attempts=1, max_attempts=5)
    )
    assert_error(
        await client.get(f"/api/files/{file_id}", headers=bob.headers), 404, "file_not_found"
    )
    await run_jobs(app, kinds={"files.delete_blobs"})
    key = await app.state.db.read(
        lambda c: c.exec_driver_sql("SELECT storage_key FROM attachments").scalar_one()
    )
    assert app.state.services.files.store.size(key) is None
    r = await client.get(f"/api/rooms/{room_id}/messages/{message['id']}", headers=bob.headers)
    assert r.json()["attachments"] == []
