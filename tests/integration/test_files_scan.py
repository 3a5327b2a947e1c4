"""Virus scanning of sent files against a real clamd (a signature database the tests write):
clean files are shared, infected ones blocked for everyone with the sender told and an audit
entry, and a scanner that is down leaves files pending (fail closed) until a retry succeeds."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sodam.config import Settings
from sodam.db.tables import audit_logs
from sodam.domain.clock import FakeClock
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.support.clamd import ClamdServer, start_clamd
from tests.support.factories import LoggedIn, create_user
from tests.support.files import eicar, run_jobs, send_file
from tests.support.messaging import assert_error, make_group
from tests.support.ws import live_server


@pytest.fixture
def settings(database_url: str, tmp_path: Path, clamd: ClamdServer) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        admin_password=ADMIN_PASSWORD,
        embedded_workers=False,
        database={"url": database_url, "migrate_on_start": True},
        files={"clamd_url": clamd.tcp_address, "scan_timeout_s": 30},
    )


async def _pair(client: httpx.AsyncClient, admin: LoggedIn) -> tuple[LoggedIn, LoggedIn, int]:
    alice = await create_user(client, admin)
    bob = await create_user(client, admin)
    room = await make_group(client, alice, [bob])
    return alice, bob, int(room["id"])


async def _attachment(client: httpx.AsyncClient, user: LoggedIn, room_id: int, mid: int) -> dict:
    r = await client.get(f"/api/rooms/{room_id}/messages/{mid}", headers=user.headers)
    assert r.status_code == 200, r.text
    attachment: dict = r.json()["attachments"][0]
    return attachment


async def test_a_clean_file_is_shared_once_scanned(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    alice, bob, room_id = await _pair(client, admin)
    message = await send_file(client, alice, room_id, "회의 자료입니다".encode() * 100, "a.txt")
    att = message["attachments"][0]
    assert att["scan_state"] == "pending" and att["downloadable"] is False
    # pending: the uploader may fetch their own file, the others may not yet
    assert (await client.get(f"/api/files/{att['id']}", headers=alice.headers)).status_code == 200
    r = await client.get(f"/api/files/{att['id']}", headers=bob.headers)
    assert_error(r, 409, "file_not_scanned")
    assert await run_jobs(app) == 1
    att = await _attachment(client, bob, room_id, message["id"])
    assert att["scan_state"] == "clean" and att["downloadable"] is True
    assert (await client.get(f"/api/files/{att['id']}", headers=bob.headers)).status_code == 200


@pytest.mark.parametrize("variant", ["plain", "trailing", "zip"])
async def test_infected_files_are_blocked_for_everyone(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher, variant: str
) -> None:
    data = eicar()
    if variant == "trailing":
        data += b"\n" + b"padding " * 1000
    elif variant == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("readme.txt", data)
        data = buf.getvalue()
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD) as live:
        alice, bob, room_id = await _pair(live.http, live.admin)
        async with live.session(alice) as alice_ws:
            message = await send_file(live.http, alice, room_id, data, "업무.zip")
            await run_jobs(live.app)
            blocked = await alice_ws.expect("file.blocked")
        att = await _attachment(live.http, bob, room_id, message["id"])
        assert att["scan_state"] == "infected" and att["downloadable"] is False
        assert blocked["attachment_id"] == att["id"] and blocked["file_name"] == "업무.zip"
        assert "EICAR" in (blocked["signature"] or "")
        for user in (alice, bob):
            r = await live.http.get(f"/api/files/{att['id']}", headers=user.headers)
            assert_error(r, 403, "file_blocked")


async def test_infection_is_audited(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    alice, _bob, room_id = await _pair(client, admin)
    message = await send_file(client, alice, room_id, eicar(), "x.com")
    await run_jobs(app)
    rows = await app.state.db.read(
        lambda conn: conn.execute(
            audit_logs.select().where(audit_logs.c.action == "file.infected")
        ).all()
    )
    assert len(rows) == 1
    row = rows[0]._mapping
    assert row["target_id"] == str(message["attachments"][0]["id"])
    assert row["data"]["uploader_id"] == alice.user_id


async def test_a_scanner_outage_keeps_files_pending(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> None:
    """clamd down: the file stays pending (not shared) and the scan is retried later."""
    gone = start_clamd()
    gone.stop()
    down = settings.model_copy(
        update={"files": settings.files.model_copy(update={"clamd_url": gone.tcp_address})}
    )
    async with live_server(down, clock, fast_hasher, ADMIN_PASSWORD) as live:
        alice, bob, room_id = await _pair(live.http, live.admin)
        message = await send_file(live.http, alice, room_id, b"plain text", "t.txt")
        assert await run_jobs(live.app) == 0  # the attempt failed: retried later, not done
        att = await _attachment(live.http, bob, room_id, message["id"])
        assert att["scan_state"] == "pending"
        r = await live.http.get(f"/api/files/{att['id']}", headers=bob.headers)
        assert_error(r, 409, "file_not_scanned")
        jobs = await live.app.state.services.jobs.list_jobs(state="pending")
        assert [j.kind for j in jobs] == ["files.scan"]
