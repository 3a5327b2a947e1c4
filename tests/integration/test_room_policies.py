"""Room policies and their edges: invite control (R4), @all in the mention badge, what unsending
does to the notice and pins, forwards that do not ping, audited refusals, and the length limit."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from sodam.db.tables import audit_logs
from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    assert_error,
    get_room,
    invite,
    make_group,
    mark_read,
    post_message,
    room_list,
    send,
    unsend,
)


async def test_when_members_may_not_invite_only_the_owner_and_admins_can(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    outsider = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    rid = room["id"]
    assert room["members_can_invite"] is True

    r = await client.patch(
        f"/api/rooms/{rid}", json={"members_can_invite": False}, headers=member.headers
    )
    assert_error(r, 403, "room_permission_denied")
    r = await client.patch(
        f"/api/rooms/{rid}", json={"members_can_invite": False}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["members_can_invite"] is False

    r = await client.post(
        f"/api/rooms/{rid}/members", json={"user_ids": [outsider.user_id]}, headers=member.headers
    )
    assert_error(r, 403, "room_permission_denied")
    assert await invite(client, owner, rid, outsider) == [outsider.user_id]


async def test_an_unread_mention_of_everyone_counts_in_the_mention_badge(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    rid = room["id"]
    await send(client, owner, rid, "<@all> 회의 10분 전입니다")
    both = await send(client, owner, rid, f"<@all> <@{member.user_id}> 자료 확인 부탁드려요")

    def badge(listed: dict[str, object]) -> int:
        rooms = listed["rooms"]
        assert isinstance(rooms, list)
        return int(next(r for r in rooms if r["id"] == rid)["unread_mentions"])

    # Two messages mention the member (one both ways: counted once); none counts for the sender.
    assert badge(await room_list(client, member)) == 2
    assert badge(await room_list(client, owner)) == 0
    await mark_read(client, member, rid, both["seq"])
    assert badge(await room_list(client, member)) == 0


async def test_unsending_the_notice_clears_it_and_unpins_the_message(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    rid = (await make_group(client, owner, [member]))["id"]
    notice = await send(client, owner, rid, "공지: 금요일 전사 회의")
    assert (
        await client.put(
            f"/api/rooms/{rid}/notice", json={"message_id": notice["id"]}, headers=owner.headers
        )
    ).status_code == 204
    assert (
        await client.put(f"/api/rooms/{rid}/pins/{notice['id']}", headers=owner.headers)
    ).status_code == 204

    assert (await unsend(client, owner, rid, notice["id"])).status_code == 200

    assert (await get_room(client, member, rid))["notice_message_id"] is None
    r = await client.get(f"/api/rooms/{rid}/notice", headers=member.headers)
    assert r.json() == {"notice": None}
    r = await client.get(f"/api/rooms/{rid}/pins", headers=member.headers)
    assert r.json() == []


async def test_a_forwarded_message_notifies_no_one_in_the_new_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    source_room = (await make_group(client, owner, [member], name="원본"))["id"]
    target_room = (await make_group(client, member, [owner], name="전달받는 방"))["id"]
    original = await send(client, owner, source_room, f"<@all> <@{member.user_id}> 확인")

    forwarded = await send(client, member, target_room, None, forward_of_id=original["id"])

    assert forwarded["forwarded"] is True
    assert forwarded["body"] == original["body"]
    assert forwarded["mentions"] == [] and forwarded["mentions_all"] is False
    listed = await room_list(client, owner)
    target = next(r for r in listed["rooms"] if r["id"] == target_room)
    assert target["unread_mentions"] == 0


async def test_refused_hides_and_pins_are_audited(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    rid = (await make_group(client, owner, [member]))["id"]
    message = await send(client, owner, rid, "중요한 메시지")

    r = await client.put(
        f"/api/rooms/{rid}/messages/{message['id']}/hidden",
        json={"hidden": True},
        headers=member.headers,
    )
    assert_error(r, 403, "room_permission_denied")
    r = await client.put(f"/api/rooms/{rid}/pins/{message['id']}", headers=member.headers)
    assert_error(r, 403, "room_permission_denied")

    rows = await app.state.db.read(
        lambda conn: list(
            conn.execute(
                sa.select(audit_logs.c.action, audit_logs.c.actor_id, audit_logs.c.target_id)
                .where(audit_logs.c.action.like("%_refused"))
                .order_by(audit_logs.c.id)
            )
        )
    )
    assert [(r.action, r.actor_id, r.target_id) for r in rows] == [
        ("message.hide_refused", member.user_id, str(message["id"])),
        ("message.pin_refused", member.user_id, str(message["id"])),
    ]


async def test_any_body_over_the_limit_is_413_with_the_limit(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    rid = (await make_group(client, owner, []))["id"]
    for size in (10_001, 300_000):
        r = await post_message(client, owner, rid, "가" * size)
        body = assert_error(r, 413, "message_too_long")
        assert body["data"] == {"max_chars": 10_000}


async def test_renaming_trims_the_name(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner = await create_user(client, admin)
    rid = (await make_group(client, owner, []))["id"]
    r = await client.patch(f"/api/rooms/{rid}", json={"name": "  기획팀  "}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "기획팀"
    r = await client.patch(f"/api/rooms/{rid}", json={"name": "   "}, headers=owner.headers)
    assert_error(r, 400, "room_name_empty")


async def test_each_direct_room_is_named_after_its_own_peer(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin, display_name="나")
    kim = await create_user(client, admin, display_name="김민수")
    lee = await create_user(client, admin, display_name="이영희")
    for peer in (kim, lee):
        r = await client.post(
            "/api/rooms", json={"kind": "direct", "user_id": peer.user_id}, headers=me.headers
        )
        assert r.status_code == 201, r.text
    listed = await room_list(client, me)
    names = {r["peer_user_id"]: r["name"] for r in listed["rooms"] if r["kind"] == "direct"}
    assert names == {kim.user_id: "김민수", lee.user_id: "이영희"}
