"""The room notice (공지) and pinned messages over HTTP (product.md M7)."""

from __future__ import annotations

import httpx
import pytest

from sodam.domain.clock import FakeClock
from sodam.services import pins as pins_service
from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    JSON,
    all_events,
    assert_error,
    get_room,
    history,
    make_group,
    open_direct,
    send,
    unsend,
)


async def _pins(client: httpx.AsyncClient, user: LoggedIn, room_id: int) -> list[int]:
    r = await client.get(f"/api/rooms/{room_id}/pins", headers=user.headers)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()]


async def _pin(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int, pinned: bool = True
) -> httpx.Response:
    method = "PUT" if pinned else "DELETE"
    return await client.request(
        method, f"/api/rooms/{room_id}/pins/{message_id}", headers=user.headers
    )


async def _notice(client: httpx.AsyncClient, user: LoggedIn, room_id: int) -> JSON | None:
    r = await client.get(f"/api/rooms/{room_id}/notice", headers=user.headers)
    assert r.status_code == 200, r.text
    notice: JSON | None = r.json()["notice"]
    return notice


async def _set_notice(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int | None
) -> httpx.Response:
    if message_id is None:
        return await client.delete(f"/api/rooms/{room_id}/notice", headers=user.headers)
    return await client.put(
        f"/api/rooms/{room_id}/notice", json={"message_id": message_id}, headers=user.headers
    )


async def _group(client: httpx.AsyncClient, admin: LoggedIn) -> tuple[LoggedIn, LoggedIn, int]:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    return owner, member, room["id"]


# --- pins --------------------------------------------------------------------------------------


async def test_owner_pins_messages_newest_pin_first(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner, member, rid = await _group(client, admin)
    a = await send(client, member, rid, "첫째")
    b = await send(client, member, rid, "둘째")
    assert (await _pin(client, owner, rid, a["id"])).status_code == 204
    clock.advance(5)
    assert (await _pin(client, owner, rid, b["id"])).status_code == 204
    assert await _pins(client, member, rid) == [b["id"], a["id"]]
    r = await client.get(f"/api/rooms/{rid}/pins", headers=member.headers)
    assert [m["body"] for m in r.json()] == ["둘째", "첫째"]


async def test_pinning_twice_is_one_pin_and_one_event(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    message = await send(client, member, rid, "중요")
    start = (await get_room(client, owner, rid))["last_event_seq"]
    for _ in range(2):
        assert (await _pin(client, owner, rid, message["id"])).status_code == 204
    assert await _pins(client, owner, rid) == [message["id"]]
    frames = await all_events(client, owner, rid, after=start)
    assert [f["event"] for f in frames] == [
        {"kind": "pins.updated", "message_id": message["id"], "pinned": True}
    ]


async def test_unpinning_removes_the_pin(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, member, rid = await _group(client, admin)
    message = await send(client, member, rid, "중요")
    await _pin(client, owner, rid, message["id"])
    start = (await get_room(client, owner, rid))["last_event_seq"]
    for _ in range(2):
        assert (await _pin(client, owner, rid, message["id"], pinned=False)).status_code == 204
    assert await _pins(client, member, rid) == []
    frames = await all_events(client, owner, rid, after=start)
    assert [f["event"] for f in frames] == [
        {"kind": "pins.updated", "message_id": message["id"], "pinned": False}
    ]


async def test_a_plain_member_cannot_pin_in_a_group(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    message = await send(client, owner, rid, "중요")
    assert_error(await _pin(client, member, rid, message["id"]), 403, "room_permission_denied")
    await _pin(client, owner, rid, message["id"])
    r = await _pin(client, member, rid, message["id"], pinned=False)
    assert_error(r, 403, "room_permission_denied")
    assert await _pins(client, owner, rid) == [message["id"]]


async def test_either_side_pins_in_a_direct_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    kim = await create_user(client, admin)
    lee = await create_user(client, admin)
    room = await open_direct(client, kim, lee)
    message = await send(client, kim, room["id"], "주소: 서울시")
    assert (await _pin(client, lee, room["id"], message["id"])).status_code == 204
    assert (await _set_notice(client, lee, room["id"], message["id"])).status_code == 204
    assert await _pins(client, kim, room["id"]) == [message["id"]]


async def test_unsent_and_system_messages_cannot_be_pinned(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    gone = await send(client, owner, rid, "취소")
    await unsend(client, owner, rid, gone["id"])
    assert_error(await _pin(client, owner, rid, gone["id"]), 400, "pin_not_allowed")
    await client.delete(f"/api/rooms/{rid}/members/me", headers=member.headers)
    system = (await history(client, owner, rid))["messages"][-1]
    assert system["kind"] == "system"
    assert_error(await _pin(client, owner, rid, system["id"]), 400, "pin_not_allowed")


async def test_a_pinned_message_that_is_unsent_leaves_the_pins(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    message = await send(client, member, rid, "곧 지울 메시지")
    await _pin(client, owner, rid, message["id"])
    assert (await unsend(client, member, rid, message["id"])).status_code == 200
    assert await _pins(client, owner, rid) == []


async def test_a_message_of_another_room_cannot_be_pinned(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    other = await make_group(client, owner, [member])
    foreign = await send(client, owner, other["id"], "다른 방")
    assert_error(await _pin(client, owner, rid, foreign["id"]), 404, "message_not_found")
    assert await _pins(client, owner, rid) == []


async def test_pins_are_limited(
    client: httpx.AsyncClient, admin: LoggedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pins_service, "MAX_PINS", 3)
    owner, _member, rid = await _group(client, admin)
    sent = [await send(client, owner, rid, f"#{i}") for i in range(4)]
    for message in sent[:3]:
        assert (await _pin(client, owner, rid, message["id"])).status_code == 204
    body = assert_error(await _pin(client, owner, rid, sent[3]["id"]), 400, "too_many_pins")
    assert body["data"] == {"max_pins": 3}
    assert len(await _pins(client, owner, rid)) == 3


# --- the notice (공지) -------------------------------------------------------------------------


async def test_owner_sets_and_clears_the_notice(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, member, rid = await _group(client, admin)
    assert await _notice(client, member, rid) is None
    message = await send(client, owner, rid, "회의는 매주 월요일 10시")
    start = (await get_room(client, owner, rid))["last_event_seq"]
    assert (await _set_notice(client, owner, rid, message["id"])).status_code == 204
    notice = await _notice(client, member, rid)
    assert notice is not None
    assert (notice["id"], notice["body"]) == (message["id"], "회의는 매주 월요일 10시")
    assert (await get_room(client, member, rid))["notice_message_id"] == message["id"]
    assert (await _set_notice(client, owner, rid, None)).status_code == 204
    assert await _notice(client, member, rid) is None
    assert (await get_room(client, member, rid))["notice_message_id"] is None
    frames = await all_events(client, member, rid, after=start)
    assert [f["event"] for f in frames] == [
        {"kind": "room.updated", "changes": {"notice_message_id": message["id"]}},
        {"kind": "room.updated", "changes": {"notice_message_id": None}},
    ]


async def test_setting_the_same_notice_again_changes_nothing(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _group(client, admin)
    message = await send(client, owner, rid, "공지")
    await _set_notice(client, owner, rid, message["id"])
    before = (await get_room(client, owner, rid))["last_event_seq"]
    assert (await _set_notice(client, owner, rid, message["id"])).status_code == 204
    assert (await get_room(client, owner, rid))["last_event_seq"] == before


async def test_a_plain_member_cannot_set_the_notice(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    message = await send(client, member, rid, "내가 공지할래")
    r = await _set_notice(client, member, rid, message["id"])
    assert_error(r, 403, "room_permission_denied")
    assert await _notice(client, owner, rid) is None


async def test_an_unsent_notice_disappears(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, _member, rid = await _group(client, admin)
    message = await send(client, owner, rid, "잘못된 공지")
    await _set_notice(client, owner, rid, message["id"])
    await unsend(client, owner, rid, message["id"])
    assert await _notice(client, owner, rid) is None
    assert_error(await _set_notice(client, owner, rid, message["id"]), 400, "notice_not_allowed")


async def test_a_message_of_another_room_cannot_be_the_notice(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _group(client, admin)
    other = await make_group(client, owner, [member])
    foreign = await send(client, owner, other["id"], "다른 방")
    assert_error(await _set_notice(client, owner, rid, foreign["id"]), 404, "message_not_found")
