"""Black box: ``sodam serve`` as a real process, driven over real WebSockets: send/ack, duplicate
sends, resume after a disconnect, and a SIGTERM restart (F14) that loses nothing."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import E2E_ADMIN_PASSWORD, StartServer
from tests.support.ws import WsClient, ws_connect

pytestmark = pytest.mark.e2e
JSON = dict[str, Any]
PASSWORD = "e2e-user-password-0123"


async def login(http: httpx.AsyncClient, username: str, password: str) -> JSON:
    r = await http.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    tokens: JSON = r.json()
    return tokens


def bearer(tokens: JSON) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def new_user(http: httpx.AsyncClient, admin: JSON, name: str) -> JSON:
    r = await http.post(
        "/api/admin/users",
        headers=bearer(admin),
        json={"username": name, "password": PASSWORD, "display_name": name},
    )
    assert r.status_code == 201, r.text
    return await login(http, name, PASSWORD)


async def cursors(http: httpx.AsyncClient, who: JSON) -> dict[str, int]:
    r = await http.get("/api/rooms", headers=bearer(who))
    assert r.status_code == 200, r.text
    return {str(room["id"]): room["last_event_seq"] for room in r.json()["rooms"]}


async def open_session(ws: WsClient, who: JSON, resume_from: dict[str, int]) -> list[JSON]:
    """auth + resume; returns the replayed frames."""
    await ws.send({"type": "auth", "token": who["access_token"]})
    await ws.expect("ready")
    start = len(ws.frames)
    answer = await ws.request({"type": "resume", "cursors": resume_from})
    assert answer["type"] == "resumed", answer
    return [f for f in ws.frames[start:] if f.get("type") == "event"]


def send_frame(room_id: int, cmid: str, body: str) -> JSON:
    return {"type": "send", "room_id": room_id, "client_msg_id": cmid, "body": body}


async def scenario(start_server: StartServer, data_dir: Path) -> None:
    server = start_server(data_dir=data_dir, SODAM_ADMIN_PASSWORD=E2E_ADMIN_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        admin = await login(http, "admin", E2E_ADMIN_PASSWORD)
        alice = await new_user(http, admin, "alice")
        bob = await new_user(http, admin, "bob")
        r = await http.post(
            "/api/rooms",
            headers=bearer(alice),
            json={"kind": "group", "name": "e2e", "member_ids": [bob["user_id"]]},
        )
        assert r.status_code == 201, r.text
        room_id = r.json()["id"]

        # Live: alice sends over the socket, bob receives the event; a retry is a duplicate.
        async with ws_connect(server.base_url) as wa, ws_connect(server.base_url) as wb:
            await open_session(wa, alice, await cursors(http, alice))
            await open_session(wb, bob, await cursors(http, bob))
            first = await wa.request(send_frame(room_id, "e2e-msg-0001", "첫 메시지"))
            assert first["type"] == "ack" and first["duplicate"] is False
            event = await wb.expect("event", room_id=room_id)
            assert event["event"]["message"]["id"] == first["message"]["id"]
            retry = await wa.request(send_frame(room_id, "e2e-msg-0001", "첫 메시지"))
            assert retry["duplicate"] is True
            assert (retry["message"]["id"], retry["message"]["seq"]) == (
                first["message"]["id"],
                first["message"]["seq"],
            )
            bob_cursor = event["event_seq"]

        # Bob is away while alice sends three more; his resume gets exactly those, in order.
        async with ws_connect(server.base_url) as wa:
            await open_session(wa, alice, {})
            missed = [
                await wa.request(send_frame(room_id, f"e2e-msg-000{i}", f"놓친 {i}"))
                for i in (2, 3, 4)
            ]
        async with ws_connect(server.base_url) as wb:
            replay = await open_session(wb, bob, {str(room_id): bob_cursor})
            assert [f["event_seq"] for f in replay] == [m["message"]["event_seq"] for m in missed]
            bob_cursor = replay[-1]["event_seq"]

            # SIGTERM (a rolling restart): the open socket is told to reconnect (1012).
            server.process.send_signal(signal.SIGTERM)
            code, _reason = await wb.closed(within=60)
            assert code == 1012
        assert server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal

    # The restarted server (same data) keeps every acknowledged message and every dedupe key.
    server = start_server(data_dir=data_dir, SODAM_ADMIN_PASSWORD=E2E_ADMIN_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        alice = await login(http, "alice", PASSWORD)
        bob = await login(http, "bob", PASSWORD)
        async with ws_connect(server.base_url) as wa, ws_connect(server.base_url) as wb:
            assert await open_session(wb, bob, {str(room_id): bob_cursor}) == []
            await open_session(wa, alice, {})
            again = await wa.request(send_frame(room_id, "e2e-msg-0004", "놓친 4"))
            assert again["duplicate"] is True
            assert again["message"]["id"] == missed[-1]["message"]["id"]
            fresh = await wa.request(send_frame(room_id, "e2e-msg-0005", "재시작 후"))
            got = await wb.expect("event", room_id=room_id)
            assert got["event_seq"] == fresh["message"]["event_seq"] == bob_cursor + 1


def test_websocket_send_resume_and_restart(start_server: StartServer, tmp_path: Path) -> None:
    asyncio.run(scenario(start_server, tmp_path / "var"))
