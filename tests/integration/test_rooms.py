"""Rooms over HTTP (product.md M1, R1, R4, R5): 1:1 and self rooms, groups, invitations with
and without history, leaving, kicking, the owner (방장), per-member settings and the room list."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from sodam.db.tables import chat_rooms
from sodam.domain.clock import FakeClock
from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    all_events,
    all_messages,
    assert_error,
    db_rows,
    get_room,
    history,
    invite,
    make_group,
    mark_read,
    members,
    open_direct,
    post_message,
    react,
    request,
    room_list,
    room_requests,
    send,
    set_role,
)

# --- 1:1 rooms and 나와의 채팅 ------------------------------------------------------------------


async def test_direct_room_is_created_once_and_reused_by_both_sides(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    kim = await create_user(client, admin, display_name="김민수")
    lee = await create_user(client, admin, display_name="이지은")
    first = await open_direct(client, kim, lee)
    again = await open_direct(client, kim, lee)
    other_side = await open_direct(client, lee, kim)
    assert first["id"] == again["id"] == other_side["id"]
    assert (first["kind"], first["member_count"], first["role"]) == ("direct", 2, "member")
    # Each side sees the other's name and id.
    assert (first["name"], first["peer_user_id"]) == ("이지은", lee.user_id)
    assert (other_side["name"], other_side["peer_user_id"]) == ("김민수", kim.user_id)
    keys = [r.direct_key for r in await db_rows(app, sa.select(chat_rooms.c.direct_key))]
    assert keys == [f"{min(kim.user_id, lee.user_id)}:{max(kim.user_id, lee.user_id)}"]


async def test_both_sides_opening_the_direct_room_at_once_get_the_same_room(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    kim = await create_user(client, admin)
    lee = await create_user(client, admin)
    rooms = await asyncio.gather(
        *(open_direct(client, a, b) for a, b in [(kim, lee), (lee, kim)] * 3)
    )
    assert len({r["id"] for r in rooms}) == 1
    assert all(r["member_count"] == 2 for r in rooms)
    assert len(await db_rows(app, sa.select(chat_rooms.c.id))) == 1


async def test_self_room_is_a_room_of_one_reused(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    r = await client.post("/api/rooms", json={"kind": "self"}, headers=me.headers)
    assert r.status_code == 201, r.text
    room = r.json()
    assert (room["kind"], room["name"], room["member_count"], room["peer_user_id"]) == (
        "self",
        None,
        1,
        None,
    )
    again = await client.post("/api/rooms", json={"kind": "self"}, headers=me.headers)
    assert again.json()["id"] == room["id"]
    # Opening a 1:1 room with oneself is the same room.
    assert (await open_direct(client, me, me))["id"] == room["id"]
    message = await send(client, me, room["id"], "메모: 우유 사기")
    assert (message["seq"], message["unread_count"]) == (1, 0)


async def test_direct_room_with_an_unknown_user_is_not_found(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    r = await client.post(
        "/api/rooms", json={"kind": "direct", "user_id": 999_999}, headers=me.headers
    )
    assert_error(r, 404, "user_not_found")
    r = await client.post("/api/rooms", json={"kind": "direct"}, headers=me.headers)
    assert_error(r, 400, "user_id_required")


async def test_direct_room_with_a_deactivated_user_is_not_found(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    gone = await create_user(client, admin)
    r = await client.post(f"/api/admin/users/{gone.username}/deactivate", headers=admin.headers)
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/rooms", json={"kind": "direct", "user_id": gone.user_id}, headers=me.headers
    )
    assert_error(r, 404, "user_not_found")


# --- groups ------------------------------------------------------------------------------------


async def test_group_room_has_its_name_topic_members_and_owner(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    a = await create_user(client, admin)
    b = await create_user(client, admin)
    room = await make_group(
        client, owner, [a, b, owner, a], name="  마케팅팀 ", topic="4분기 캠페인"
    )
    assert (room["kind"], room["name"], room["topic"]) == ("group", "마케팅팀", "4분기 캠페인")
    assert (room["role"], room["member_count"], room["peer_user_id"]) == ("owner", 3, None)
    assert await members(client, owner, room["id"]) == {
        owner.user_id: "owner",
        a.user_id: "member",
        b.user_id: "member",
    }
    # The members see it too, as plain members.
    assert (await get_room(client, a, room["id"]))["role"] == "member"


async def test_group_room_needs_a_name(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner = await create_user(client, admin)
    for name in (None, "", "   "):
        r = await client.post(
            "/api/rooms", json={"kind": "group", "name": name}, headers=owner.headers
        )
        assert_error(r, 400, "room_name_empty")


async def test_group_room_with_an_unknown_member_is_refused_whole(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    r = await client.post(
        "/api/rooms",
        json={"kind": "group", "name": "팀", "member_ids": [999_999]},
        headers=owner.headers,
    )
    assert_error(r, 404, "user_not_found")
    assert (await room_list(client, owner))["rooms"] == []


async def test_owner_renames_the_room_and_changes_its_topic(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    r = await client.patch(
        f"/api/rooms/{room['id']}",
        json={"name": "새 이름", "topic": "새 주제"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["topic"]) == ("새 이름", "새 주제")
    seen = await get_room(client, member, room["id"])
    assert (seen["name"], seen["topic"]) == ("새 이름", "새 주제")


async def test_a_plain_member_cannot_rename_the_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member], name="원래 이름")
    r = await client.patch(
        f"/api/rooms/{room['id']}", json={"name": "바꿈"}, headers=member.headers
    )
    assert_error(r, 403, "room_permission_denied")
    assert (await get_room(client, owner, room["id"]))["name"] == "원래 이름"


async def test_direct_rooms_take_no_names_and_no_invitations(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    kim = await create_user(client, admin)
    lee = await create_user(client, admin)
    park = await create_user(client, admin)
    room = await open_direct(client, kim, lee)
    r = await client.patch(f"/api/rooms/{room['id']}", json={"name": "x"}, headers=kim.headers)
    assert_error(r, 400, "room_kind_invalid")
    r = await client.post(
        f"/api/rooms/{room['id']}/members", json={"user_ids": [park.user_id]}, headers=kim.headers
    )
    assert_error(r, 400, "room_kind_invalid")
    assert set(await members(client, kim, room["id"])) == {kim.user_id, lee.user_id}


# --- invitations and history visibility --------------------------------------------------------


async def test_invited_member_reads_earlier_messages_when_history_is_shared(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    newcomer = await create_user(client, admin)
    room = await make_group(client, owner, [], history_visibility="all")
    old = await send(client, owner, room["id"], "이전 대화")
    assert await invite(client, owner, room["id"], newcomer) == [newcomer.user_id]
    seen = await all_messages(client, newcomer, room["id"])
    assert seen[0]["id"] == old["id"]
    r = await client.get(f"/api/rooms/{room['id']}/messages/{old['id']}", headers=newcomer.headers)
    assert r.status_code == 200
    assert r.json()["body"] == "이전 대화"
    # The invitation itself is announced as a system message.
    notice = seen[-1]
    assert notice["kind"] == "system"
    assert notice["system"] == {
        "event": "invited",
        "actor_id": owner.user_id,
        "user_ids": [newcomer.user_id],
    }


async def test_invited_member_sees_nothing_before_joining_when_history_is_not_shared(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    old_member = await create_user(client, admin)
    newcomer = await create_user(client, admin)
    room = await make_group(client, owner, [old_member], history_visibility="joined")
    rid = room["id"]
    old = await send(client, owner, rid, "입사 전 비밀 이야기")
    r = await client.put(f"/api/rooms/{rid}/pins/{old['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    await invite(client, owner, rid, newcomer)
    reply = await send(client, old_member, rid, "답장입니다", reply_to_id=old["id"])
    # The old member sees the quote in history; the newcomer sees the reply but not the quote.
    theirs = await history(client, old_member, rid)
    assert theirs["messages"][-1]["reply_to"]["body"] == "입사 전 비밀 이야기"

    seen = await all_messages(client, newcomer, rid)
    assert [m["kind"] for m in seen] == ["system", "text"]
    assert seen[1]["id"] == reply["id"]
    assert seen[1]["reply_to"]["body"] is None
    page = await history(client, newcomer, rid, around=old["seq"])
    assert old["id"] not in {m["id"] for m in page["messages"]}
    assert page["has_more_before"] is False

    base = f"/api/rooms/{rid}/messages/{old['id']}"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/edits"),
        ("GET", f"{base}/unread-members"),
    ]:
        assert_error(
            await client.request(method, path, headers=newcomer.headers), 404, "message_not_found"
        )
    assert_error(await react(client, newcomer, rid, old["id"], "heart"), 404, "message_not_found")
    r = await post_message(client, newcomer, rid, "인용", reply_to_id=old["id"])
    assert_error(r, 404, "message_not_found")
    r = await client.get(f"/api/rooms/{rid}/pins", headers=newcomer.headers)
    assert r.json() == []

    # Nor does replaying the room's events reveal it.
    frames = await all_events(client, newcomer, rid, after=0)
    assert "입사 전 비밀 이야기" not in str(frames)
    assert old["id"] not in {f["event"].get("message", {}).get("id") for f in frames}


async def test_changes_to_earlier_messages_are_not_revealed_by_the_replay(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    newcomer = await create_user(client, admin)
    room = await make_group(client, owner, [], history_visibility="joined")
    rid = room["id"]
    old = await send(client, owner, rid, "입사 전 비밀 이야기")
    hidden = await send(client, owner, rid, "가릴 메시지")
    await invite(client, owner, rid, newcomer)
    # After the newcomer joined, the earlier messages change: an edit, a reaction, a hide.
    assert (
        await client.patch(
            f"/api/rooms/{rid}/messages/{old['id']}",
            json={"body": "입사 전 비밀 이야기 (수정)"},
            headers=owner.headers,
        )
    ).status_code == 200
    assert (await react(client, owner, rid, old["id"], "heart")).status_code == 200
    r = await client.put(
        f"/api/rooms/{rid}/messages/{hidden['id']}/hidden",
        json={"hidden": False},
        headers=owner.headers,
    )
    assert r.status_code == 200
    frames = await all_events(client, newcomer, rid, after=0)
    kinds = [f["event"]["kind"] for f in frames]
    assert "message.updated" in kinds and "reaction.updated" in kinds
    text = str(frames)
    assert "비밀" not in text and "가릴" not in text
    for frame in frames:
        message = frame["event"].get("message")
        assert message is None or message["seq"] >= room["last_seq"] + 1, frame


async def test_events_before_joining_are_not_replayed_when_history_is_not_shared(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    newcomer = await create_user(client, admin)
    room = await make_group(client, owner, [], history_visibility="joined")
    await send(client, owner, room["id"], "하나")
    before = await get_room(client, owner, room["id"])
    await invite(client, owner, room["id"], newcomer)
    frames = await all_events(client, newcomer, room["id"], after=0)
    assert frames[0]["event_seq"] == before["last_event_seq"] + 1
    assert frames[0]["event"] == {
        "kind": "member.joined",
        "user_id": newcomer.user_id,
        "role": "member",
        "by": owner.user_id,
    }


async def test_changing_the_history_policy_applies_to_later_invitations(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    first_guest = await create_user(client, admin)
    second_guest = await create_user(client, admin)
    room = await make_group(client, owner, [], history_visibility="joined")
    rid = room["id"]
    old = await send(client, owner, rid, "예전 이야기")
    await invite(client, owner, rid, first_guest)
    r = await client.patch(
        f"/api/rooms/{rid}", json={"history_visibility": "all"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["history_visibility"] == "all"
    await invite(client, owner, rid, second_guest)
    assert old["id"] in {m["id"] for m in await all_messages(client, second_guest, rid)}
    # Who joined under the old policy keeps what they had.
    assert old["id"] not in {m["id"] for m in await all_messages(client, first_guest, rid)}


async def test_inviting_someone_already_in_the_room_adds_nobody(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    before = await get_room(client, owner, room["id"])
    assert await invite(client, owner, room["id"], member, owner) == []
    after = await get_room(client, owner, room["id"])
    assert (after["last_seq"], after["member_count"]) == (before["last_seq"], 2)


# --- leaving and kicking -----------------------------------------------------------------------


async def test_leaving_quietly_posts_no_notice(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner = await create_user(client, admin)
    leaver = await create_user(client, admin)
    room = await make_group(client, owner, [leaver])
    before = await get_room(client, owner, room["id"])
    r = await client.delete(
        f"/api/rooms/{room['id']}/members/me", params={"quiet": "true"}, headers=leaver.headers
    )
    assert r.status_code == 204, r.text
    after = await get_room(client, owner, room["id"])
    assert after["last_seq"] == before["last_seq"]
    assert after["member_count"] == 1
    assert leaver.user_id not in await members(client, owner, room["id"])
    # The member list still changes for clients: one member.left event, marked quiet.
    frames = await all_events(client, owner, room["id"], after=before["last_event_seq"])
    assert [f["event"] for f in frames] == [
        {
            "kind": "member.left",
            "user_id": leaver.user_id,
            "reason": "left",
            "quiet": True,
            "by": leaver.user_id,
        }
    ]
    assert_error(
        await client.get(f"/api/rooms/{room['id']}", headers=leaver.headers), 404, "room_not_found"
    )


async def test_leaving_with_a_notice_posts_a_system_message(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    leaver = await create_user(client, admin)
    room = await make_group(client, owner, [leaver])
    r = await client.delete(f"/api/rooms/{room['id']}/members/me", headers=leaver.headers)
    assert r.status_code == 204, r.text
    last = (await history(client, owner, room["id"]))["messages"][-1]
    assert (last["kind"], last["sender_id"], last["body"]) == ("system", None, None)
    assert last["system"] == {
        "event": "left",
        "actor_id": leaver.user_id,
        "user_id": leaver.user_id,
    }
    assert last["unread_count"] == 0


async def test_owner_kicks_a_member_who_then_cannot_see_the_room_at_all(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    kicked = await create_user(client, admin)
    room = await make_group(client, owner, [kicked])
    rid = room["id"]
    message = await send(client, kicked, rid, "나가기 전 메시지")
    r = await client.delete(f"/api/rooms/{rid}/members/{kicked.user_id}", headers=owner.headers)
    assert r.status_code == 204, r.text
    last = (await history(client, owner, rid))["messages"][-1]
    assert last["system"] == {
        "event": "kicked",
        "actor_id": owner.user_id,
        "user_id": kicked.user_id,
    }
    assert kicked.user_id not in await members(client, owner, rid)
    assert rid not in {x["id"] for x in (await room_list(client, kicked))["rooms"]}
    for method, path, body in room_requests(rid, message["id"], owner.user_id):
        r = await request(client, kicked, method, path, body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "room_not_found", (method, path)


async def test_a_plain_member_cannot_kick(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    other = await create_user(client, admin)
    room = await make_group(client, owner, [member, other])
    for target in (other, owner):
        r = await client.delete(
            f"/api/rooms/{room['id']}/members/{target.user_id}", headers=member.headers
        )
        assert_error(r, 403, "room_permission_denied")
    assert len(await members(client, owner, room["id"])) == 3


async def test_the_owner_cannot_kick_themselves_or_a_stranger(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    stranger = await create_user(client, admin)
    room = await make_group(client, owner, [])
    r = await client.delete(
        f"/api/rooms/{room['id']}/members/{owner.user_id}", headers=owner.headers
    )
    assert_error(r, 400, "cannot_kick_self")
    r = await client.delete(
        f"/api/rooms/{room['id']}/members/{stranger.user_id}", headers=owner.headers
    )
    assert_error(r, 404, "member_not_found")


# --- the owner (방장) --------------------------------------------------------------------------


async def test_owner_hands_over_the_room(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner = await create_user(client, admin)
    heir = await create_user(client, admin)
    other = await create_user(client, admin)
    room = await make_group(client, owner, [heir, other])
    rid = room["id"]
    r = await client.post(
        f"/api/rooms/{rid}/owner", json={"user_id": heir.user_id}, headers=owner.headers
    )
    assert r.status_code == 204, r.text
    assert await members(client, owner, rid) == {
        owner.user_id: "member",
        heir.user_id: "owner",
        other.user_id: "member",
    }
    # The powers moved with the role.
    r = await client.delete(f"/api/rooms/{rid}/members/{other.user_id}", headers=owner.headers)
    assert_error(r, 403, "room_permission_denied")
    r = await client.delete(f"/api/rooms/{rid}/members/{other.user_id}", headers=heir.headers)
    assert r.status_code == 204


async def test_only_the_owner_hands_over_and_only_to_a_member(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    stranger = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    rid = room["id"]
    r = await client.post(
        f"/api/rooms/{rid}/owner", json={"user_id": member.user_id}, headers=member.headers
    )
    assert_error(r, 403, "room_permission_denied")
    r = await client.post(
        f"/api/rooms/{rid}/owner", json={"user_id": stranger.user_id}, headers=owner.headers
    )
    assert_error(r, 404, "member_not_found")
    assert (await members(client, owner, rid))[owner.user_id] == "owner"


async def test_owner_leaving_hands_the_room_to_the_earliest_member(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner = await create_user(client, admin)
    later = await create_user(client, admin)  # the smaller user id, but joins later
    earliest = await create_user(client, admin)
    room = await make_group(client, owner, [earliest])
    clock.advance(60)
    await invite(client, owner, room["id"], later)
    r = await client.delete(f"/api/rooms/{room['id']}/members/me", headers=owner.headers)
    assert r.status_code == 204, r.text
    assert await members(client, earliest, room["id"]) == {
        earliest.user_id: "owner",
        later.user_id: "member",
    }
    assert (await get_room(client, earliest, room["id"]))["role"] == "owner"


async def test_last_member_leaving_leaves_an_empty_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    room = await make_group(client, owner, [])
    r = await client.delete(f"/api/rooms/{room['id']}/members/me", headers=owner.headers)
    assert r.status_code == 204, r.text
    assert (await room_list(client, owner))["rooms"] == []


async def test_a_room_admin_moderates_but_cannot_remove_the_owner_or_another_admin(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    room_admin = await create_user(client, admin)
    other_admin = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [room_admin, other_admin, member])
    rid = room["id"]
    for who in (room_admin, other_admin):
        await set_role(app, rid, who.user_id, "admin")
    message = await send(client, member, rid, "정리할 메시지")
    r = await client.patch(
        f"/api/rooms/{rid}", json={"name": "관리자가 바꿈"}, headers=room_admin.headers
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        f"/api/rooms/{rid}/messages/{message['id']}/hidden",
        json={"hidden": True},
        headers=room_admin.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.put(f"/api/rooms/{rid}/pins/{message['id']}", headers=room_admin.headers)
    assert r.status_code == 204, r.text
    for target in (owner, other_admin):
        r = await client.delete(
            f"/api/rooms/{rid}/members/{target.user_id}", headers=room_admin.headers
        )
        assert_error(r, 403, "room_permission_denied")
    r = await client.delete(
        f"/api/rooms/{rid}/members/{member.user_id}", headers=room_admin.headers
    )
    assert r.status_code == 204
    # An admin cannot hand over the room; the owner can remove an admin.
    r = await client.post(
        f"/api/rooms/{rid}/owner", json={"user_id": room_admin.user_id}, headers=room_admin.headers
    )
    assert_error(r, 403, "room_permission_denied")
    r = await client.delete(
        f"/api/rooms/{rid}/members/{other_admin.user_id}", headers=owner.headers
    )
    assert r.status_code == 204
    assert await members(client, owner, rid) == {
        owner.user_id: "owner",
        room_admin.user_id: "admin",
    }


async def test_owner_leaving_hands_the_room_to_an_admin_first(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner = await create_user(client, admin)
    earliest = await create_user(client, admin)
    room = await make_group(client, owner, [earliest])
    clock.advance(60)
    room_admin = await create_user(client, admin)
    await invite(client, owner, room["id"], room_admin)
    await set_role(app, room["id"], room_admin.user_id, "admin")
    r = await client.delete(f"/api/rooms/{room['id']}/members/me", headers=owner.headers)
    assert r.status_code == 204, r.text
    assert await members(client, earliest, room["id"]) == {
        earliest.user_id: "member",
        room_admin.user_id: "owner",
    }


# --- per-member settings -----------------------------------------------------------------------


async def test_mute_favourite_and_archive_are_each_members_own(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    r = await client.patch(
        f"/api/rooms/{room['id']}/settings",
        json={"muted": True, "favourite": True, "archived": True},
        headers=member.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["muted"], r.json()["favourite"], r.json()["archived"]) == (True, True, True)
    mine = await get_room(client, member, room["id"])
    theirs = await get_room(client, owner, room["id"])
    assert (mine["muted"], mine["favourite"], mine["archived"]) == (True, True, True)
    assert (theirs["muted"], theirs["favourite"], theirs["archived"]) == (False, False, False)
    # Only the given flags change.
    r = await client.patch(
        f"/api/rooms/{room['id']}/settings", json={"muted": False}, headers=member.headers
    )
    assert (r.json()["muted"], r.json()["favourite"], r.json()["archived"]) == (False, True, True)


# --- the room list (R1) ------------------------------------------------------------------------


async def test_room_list_is_sorted_by_last_activity_with_a_preview(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    me = await create_user(client, admin)
    peer = await create_user(client, admin, display_name="박서준")
    first = await make_group(client, me, [peer], name="첫째")
    clock.advance(10)
    second = await make_group(client, me, [peer], name="둘째")
    clock.advance(10)
    direct = await open_direct(client, me, peer)
    clock.advance(10)
    listed = await room_list(client, me)
    assert [r["id"] for r in listed["rooms"]] == [direct["id"], second["id"], first["id"]]

    clock.advance(10)
    await send(client, peer, first["id"], "가장 최근 메시지")
    listed = await room_list(client, me)
    assert [r["id"] for r in listed["rooms"]] == [first["id"], direct["id"], second["id"]]
    top = listed["rooms"][0]
    assert top["last_message"]["body"] == "가장 최근 메시지"
    assert top["last_message"]["sender_id"] == peer.user_id
    assert top["last_message_at"] == clock.now().isoformat()
    assert listed["rooms"][1]["name"] == "박서준"
    assert listed["rooms"][1]["last_message"] is None


async def test_room_list_counts_unread_messages_and_mentions(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    peer = await create_user(client, admin)
    room = await make_group(client, peer, [me])
    rid = room["id"]
    await send(client, peer, rid, "하나")
    await send(client, peer, rid, f"<@{me.user_id}> 확인해 주세요")
    await send(client, peer, rid, f"<@{peer.user_id}> 자기 자신 언급")
    mine = await get_room(client, me, rid)
    assert (mine["unread_count"], mine["unread_mentions"]) == (3, 1)
    # The sender's own messages are read by them.
    assert (await get_room(client, peer, rid))["unread_count"] == 0

    await mark_read(client, me, rid, mine["last_seq"] - 2)  # up to "하나"
    mine = await get_room(client, me, rid)
    assert (mine["unread_count"], mine["unread_mentions"]) == (2, 1)
    await mark_read(client, me, rid, mine["last_seq"])
    mine = await get_room(client, me, rid)
    assert (mine["unread_count"], mine["unread_mentions"], mine["last_read_seq"]) == (
        0,
        0,
        mine["last_seq"],
    )


async def test_total_unread_leaves_out_muted_rooms(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    peer = await create_user(client, admin)
    loud = await make_group(client, peer, [me], name="시끄러운 방")
    quiet = await make_group(client, peer, [me], name="조용한 방")
    for _ in range(2):
        await send(client, peer, loud["id"], "알림")
    for _ in range(5):
        await send(client, peer, quiet["id"], "알림")
    assert (await room_list(client, me))["total_unread"] == 7
    r = await client.patch(
        f"/api/rooms/{quiet['id']}/settings", json={"muted": True}, headers=me.headers
    )
    assert r.status_code == 200
    listed = await room_list(client, me)
    assert listed["total_unread"] == 2
    by_id = {r["id"]: r for r in listed["rooms"]}
    assert by_id[quiet["id"]]["unread_count"] == 5  # still shown on the room itself


async def test_room_list_shows_only_the_callers_rooms(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    me = await create_user(client, admin)
    peer = await create_user(client, admin)
    stranger = await create_user(client, admin)
    mine = await make_group(client, me, [peer])
    await make_group(client, peer, [stranger])
    await open_direct(client, peer, stranger)
    assert [r["id"] for r in (await room_list(client, me))["rooms"]] == [mine["id"]]
