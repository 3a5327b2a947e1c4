"""Sending, fan-out and membership over the WebSocket, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sodam.config import Settings
from sodam.domain.clock import FakeClock
from sodam.realtime.frames import CloseCode
from sodam.realtime.limits import GatewayLimits
from sodam.services.passwords import PasswordHasher
from tests.conftest import ADMIN_PASSWORD
from tests.support.factories import LoggedIn
from tests.support.messaging import all_messages, invite, make_group, new_client_msg_id, room_list
from tests.support.ws import Live, WsClient, live_server

JSON = dict[str, Any]


@pytest.fixture
async def live(
    settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher
) -> AsyncIterator[Live]:
    async with live_server(settings, clock, fast_hasher, ADMIN_PASSWORD, GatewayLimits()) as s:
        yield s


async def cursors(live: Live, who: LoggedIn) -> dict[int, int]:
    listed = await room_list(live.http, who)
    return {room["id"]: room["last_event_seq"] for room in listed["rooms"]}


def send_frame(room_id: int, body: str = "안녕하세요", **extra: Any) -> JSON:
    return {
        "type": "send",
        "room_id": room_id,
        "client_msg_id": new_client_msg_id(),
        "body": body,
        **extra,
    }


async def sync(ws: WsClient) -> None:
    """A round trip: everything the server queued for this socket before it is now read."""
    await ws.send({"type": "ping"})
    await ws.expect("pong")


def events_of(ws: WsClient, room_id: int) -> list[JSON]:
    return [f for f in ws.frames if f.get("type") == "event" and f["room_id"] == room_id]


async def test_send_is_acked_after_commit_and_reaches_the_other_member(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with (
        live.session(alice, await cursors(live, alice)) as wa,
        live.session(bob, await cursors(live, bob)) as wb,
    ):
        ack = await wa.request(send_frame(room["id"], "점심 뭐 먹어요?"))
        assert ack["type"] == "ack" and ack["duplicate"] is False
        message = ack["message"]
        assert message["body"] == "점심 뭐 먹어요?" and message["sender_id"] == alice.user_id
        stored = await all_messages(live.http, bob, room["id"])
        assert [m["id"] for m in stored][-1] == message["id"]  # committed before the ack
        event = await wb.expect("event", room_id=room["id"])
        assert event["event"]["kind"] == "message.created"
        assert event["event"]["message"]["id"] == message["id"]
        assert event["event_seq"] == message["event_seq"]


async def test_duplicate_send_returns_the_same_message_and_seq(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with (
        live.session(alice, await cursors(live, alice)) as wa,
        live.session(bob, await cursors(live, bob)) as wb,
    ):
        frame = send_frame(room["id"], "한 번만")
        first = await wa.request(dict(frame, ref="s1"))
        again = await wa.request(dict(frame, ref="s2"))
        assert again["duplicate"] is True
        assert (again["message"]["id"], again["message"]["seq"]) == (
            first["message"]["id"],
            first["message"]["seq"],
        )
        await wb.expect("event", room_id=room["id"])
        await sync(wb)
        assert len(events_of(wb, room["id"])) == 1
    assert len(await all_messages(live.http, alice, room["id"])) == 1


async def test_errors_have_the_rest_shape_and_the_ref(live: Live) -> None:
    alice = await live.user()
    room = await make_group(live.http, alice, [])
    async with live.session(alice, {}) as ws:
        error = await ws.request(send_frame(room["id"], "가" * 10_001, ref="long"))
        assert error == {
            "type": "error",
            "ref": "long",
            "code": "message_too_long",
            "message": error["message"],
            "data": {"max_chars": 10_000},
        }


async def test_a_non_member_never_receives_a_rooms_events_and_is_refused(live: Live) -> None:
    alice, bob, eve = await live.user(), await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with (
        live.session(alice, await cursors(live, alice)) as wa,
        live.session(bob, await cursors(live, bob)) as wb,
        live.session(eve, {}) as we,
    ):
        for action in (
            send_frame(room["id"]),
            {"type": "typing", "room_id": room["id"]},
            {"type": "read", "room_id": room["id"], "seq": 1},
            {"type": "send", "room_id": 999_999, "client_msg_id": new_client_msg_id(), "body": "x"},
        ):
            answer = await we.request(action)
            assert (answer["type"], answer["code"]) == ("error", "room_not_found"), answer
        await wa.request(send_frame(room["id"], "비밀"))
        await wa.request({"type": "typing", "room_id": room["id"]})
        await wb.expect("event", room_id=room["id"])
        await wb.expect("typing", room_id=room["id"])
        await sync(we)
        assert not [f for f in we.frames if f.get("room_id") == room["id"]]


async def test_kick_unsubscribes_at_once(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with (
        live.session(alice, await cursors(live, alice)) as wa,
        live.session(bob, await cursors(live, bob)) as wb,
    ):
        r = await live.http.delete(
            f"/api/rooms/{room['id']}/members/{bob.user_id}", headers=alice.headers
        )
        assert r.status_code == 204, r.text
        left = await wb.expect("event", room_id=room["id"])
        assert left["event"]["kind"] == "member.left"
        await wb.expect("room.removed", room_id=room["id"])
        after = await wa.request(send_frame(room["id"], "bob 없을 때"))
        await wa.expect("event", event_seq=after["message"]["event_seq"])
        await sync(wb)
        assert max(f["event_seq"] for f in events_of(wb, room["id"])) == left["event_seq"]
        refused = await wb.request(send_frame(room["id"]))
        assert refused["code"] == "room_not_found"


async def test_invited_user_gets_room_added_then_the_rooms_events(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [])
    async with live.session(alice, await cursors(live, alice)) as wa, live.session(bob, {}) as wb:
        await invite(live.http, alice, room["id"], bob)
        await wb.expect("room.added", room_id=room["id"])
        joined = await wb.expect("event", room_id=room["id"])
        assert joined["event"]["kind"] == "member.joined"
        sent = await wa.request(send_frame(room["id"], "환영해요"))
        got = await wb.expect("event", event_seq=sent["message"]["event_seq"])
        assert got["event"]["message"]["body"] == "환영해요"


async def test_typing_reaches_the_other_member_not_the_typer(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with (
        live.session(alice, await cursors(live, alice)) as wa,
        live.session(bob, await cursors(live, bob)) as wb,
    ):
        assert (await wa.request({"type": "typing", "room_id": room["id"]}))["type"] == "ok"
        typing = await wb.expect("typing", room_id=room["id"])
        assert typing["user_id"] == alice.user_id
        await sync(wa)
        assert not wa.unread("typing")


async def test_presence_and_work_status_reach_a_watcher(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    async with live.session(bob, {}) as wb:
        await wb.request({"type": "presence.watch", "user_ids": [alice.user_id]})
        first = await wb.expect("presence", user_id=alice.user_id)
        assert (first["status"], first["work_status"]) == ("offline", "working")
        async with live.session(alice, {}) as wa:
            await wb.expect("presence", user_id=alice.user_id, status="online")
            await wa.request({"type": "presence", "status": "away"})
            await wb.expect("presence", user_id=alice.user_id, status="away")
        gone = await wb.expect("presence", user_id=alice.user_id, status="offline")
        assert gone["last_seen_at"] == live.clock.now().isoformat()


async def test_read_position_reaches_members_and_the_readers_other_device(live: Live) -> None:
    alice, bob = await live.user(), await live.user()
    room = await make_group(live.http, alice, [bob])
    async with (
        live.session(alice, await cursors(live, alice)) as wa,
        live.session(bob, await cursors(live, bob)) as phone,
        live.session(bob, await cursors(live, bob)) as laptop,
    ):
        sent = await wa.request(send_frame(room["id"]))
        seq = sent["message"]["seq"]
        assert (await phone.request({"type": "read", "room_id": room["id"], "seq": seq}))[
            "type"
        ] == "ok"
        read = await wa.expect("read", room_id=room["id"])
        assert {"user_id": bob.user_id, "last_read_seq": seq} in read["reads"]
        own = await laptop.expect("read.self", room_id=room["id"])
        assert own["last_read_seq"] == seq


async def test_logout_closes_that_sessions_socket(live: Live) -> None:
    alice = await live.user()
    other = await live.user()
    async with live.session(alice, {}) as ws, live.session(other, {}) as bystander:
        r = await live.http.post("/api/auth/logout", headers=alice.headers)
        assert r.status_code == 204, r.text
        assert await ws.closed() == (CloseCode.SESSION_ENDED, "logout")
        await sync(bystander)


async def test_deactivation_closes_every_socket_of_the_user(live: Live) -> None:
    alice = await live.user()
    async with live.session(alice, {}) as one, live.session(alice, {}) as two:
        r = await live.http.post(
            f"/api/admin/users/{alice.username}/deactivate", headers=live.admin.headers
        )
        assert r.status_code == 200, r.text
        assert await one.closed() == (CloseCode.SESSION_ENDED, "deactivated")
        assert await two.closed() == (CloseCode.SESSION_ENDED, "deactivated")
    assert live.gateway.hub.connection_count(alice.user_id) == 0
