"""Messages over HTTP (product.md M2–M7; reliability.md I2, I3): server-sequenced idempotent
sends, replies, forwards, edits with history, unsend, reactions, 가리기, limits and paging."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.db.tables import audit_logs, messages
from sodam.domain.clock import FakeClock
from sodam.services.passwords import PasswordHasher
from tests.support.factories import LoggedIn, create_user, login
from tests.support.messaging import (
    all_events,
    all_messages,
    assert_error,
    db_rows,
    edit,
    get_message,
    get_room,
    history,
    insert_users,
    make_group,
    open_direct,
    post_message,
    react,
    room_list,
    send,
    set_role,
    unsend,
)

DAY_S = 24 * 3600


async def relogin(client: httpx.AsyncClient, user: LoggedIn) -> LoggedIn:
    """A fresh access token (after the fake clock moved past the old one's lifetime)."""
    return await login(client, user.username, user.password)


async def _pair_room(
    client: httpx.AsyncClient, admin: LoggedIn, **overrides: Any
) -> tuple[LoggedIn, LoggedIn, int]:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member], **overrides)
    return owner, member, room["id"]


# --- sending, sequencing and idempotency (I2, I3) ----------------------------------------------


async def test_sends_get_gap_free_increasing_seqs(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    sent = [await send(client, u, rid, f"메시지 {i}") for i, u in enumerate([owner, member] * 3)]
    assert [m["seq"] for m in sent] == [1, 2, 3, 4, 5, 6]
    assert all(m["room_id"] == rid and m["kind"] == "text" for m in sent)
    assert [m["sender_id"] for m in sent] == [owner.user_id, member.user_id] * 3
    assert [m["body"] for m in await all_messages(client, owner, rid)] == [
        f"메시지 {i}" for i in range(6)
    ]
    # Event seqs are strictly increasing too (every message is a room event).
    event_seqs = [m["event_seq"] for m in sent]
    assert event_seqs == sorted(set(event_seqs))
    assert (await get_room(client, owner, rid))["last_seq"] == 6


async def test_a_new_message_is_unread_by_everyone_but_its_sender(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    others = [await create_user(client, admin) for _ in range(3)]
    room = await make_group(client, owner, others)
    message = await send(client, owner, room["id"], "공지")
    assert message["unread_count"] == 3
    assert (await get_message(client, owner, room["id"], message["id"]))["unread_count"] == 3


async def test_repeating_a_client_msg_id_returns_the_original_message(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    first = await post_message(client, owner, rid, "원본", client_msg_id="retry-0001")
    again = await post_message(client, owner, rid, "다른 내용", client_msg_id="retry-0001")
    assert first.status_code == again.status_code == 200
    assert first.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    original, repeat = first.json()["message"], again.json()["message"]
    assert (repeat["id"], repeat["seq"], repeat["body"]) == (original["id"], 1, "원본")
    assert [m["id"] for m in await all_messages(client, owner, rid)] == [original["id"]]
    assert (await get_room(client, owner, rid))["last_seq"] == 1


async def test_a_client_msg_id_is_scoped_to_its_sender_and_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    other_room = (await make_group(client, owner, [member]))["id"]
    a = await send(client, owner, rid, "하나", client_msg_id="same-id-0001")
    b = await send(client, member, rid, "둘", client_msg_id="same-id-0001")
    c = await send(client, owner, other_room, "셋", client_msg_id="same-id-0001")
    assert len({a["id"], b["id"], c["id"]}) == 3
    assert (a["seq"], b["seq"], c["seq"]) == (1, 2, 1)


async def test_a_retry_a_day_later_is_still_recognised(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    first = await send(client, owner, rid, "늦은 재전송", client_msg_id="late-retry-01")
    await send(client, owner, rid, "그 다음")
    clock.advance(25 * 3600)
    owner = await relogin(client, owner)
    r = await post_message(client, owner, rid, "늦은 재전송", client_msg_id="late-retry-01")
    assert r.status_code == 200, r.text
    assert r.json()["duplicate"] is True
    assert (r.json()["message"]["id"], r.json()["message"]["seq"]) == (first["id"], 1)
    assert (await get_room(client, owner, rid))["last_seq"] == 2


async def test_a_retry_after_a_restart_is_still_recognised(
    client: httpx.AsyncClient,
    admin: LoggedIn,
    settings: Settings,
    clock: FakeClock,
    fast_hasher: PasswordHasher,
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    first = await send(client, owner, rid, "재시작 전", client_msg_id="restart-retry-1")
    # A second server process on the same database: nothing is remembered in memory.
    restarted = build_app(settings, Overrides(clock=clock, hasher=fast_hasher))
    async with LifespanManager(restarted):
        transport = httpx.ASGITransport(app=restarted, client=("203.0.113.8", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c2:
            r = await post_message(c2, owner, rid, "재시작 전", client_msg_id="restart-retry-1")
            assert r.status_code == 200, r.text
            assert r.json()["duplicate"] is True
            assert (r.json()["message"]["id"], r.json()["message"]["seq"]) == (first["id"], 1)
            after = await send(c2, owner, rid, "재시작 후")
    assert after["seq"] == 2


async def test_concurrent_sends_get_unique_gap_free_seqs(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    results = await asyncio.gather(
        *(send(client, u, rid, f"{u.username}-{i}") for i in range(10) for u in (owner, member))
    )
    seqs = sorted(m["seq"] for m in results)
    assert seqs == list(range(1, 21))
    stored = await all_messages(client, owner, rid)
    assert [m["seq"] for m in stored] == list(range(1, 21))
    # Each acknowledged message is stored under the seq it was acknowledged with (I1).
    assert {m["id"]: m["seq"] for m in stored} == {m["id"]: m["seq"] for m in results}
    # Per sender, the order of the bodies is whatever the server chose, but every body is there.
    assert sorted(m["body"] for m in stored) == sorted(m["body"] for m in results)


async def test_concurrent_retries_of_one_send_store_exactly_one_message(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    responses = await asyncio.gather(
        *(
            post_message(client, owner, rid, "한 번만", client_msg_id="storm-000001")
            for _ in range(8)
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["message"]["id"] for r in responses}) == 1
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 7
    rows = await db_rows(app, sa.select(messages.c.seq).where(messages.c.room_id == rid))
    assert [r.seq for r in rows] == [1]
    assert (await get_room(client, owner, rid))["last_seq"] == 1


# --- replies and forwards (M3) -----------------------------------------------------------------


async def test_reply_carries_a_quote_of_the_original(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    long_text = "가" * 150
    original = await send(client, owner, rid, long_text)
    reply = await send(client, member, rid, "네, 알겠습니다", reply_to_id=original["id"])
    expected = {
        "id": original["id"],
        "seq": original["seq"],
        "sender_id": owner.user_id,
        "body": "가" * 100 + "…",
        "kind": "text",
        "attachments": [],
    }
    assert reply["reply_to"] == expected
    assert (await get_message(client, owner, rid, reply["id"]))["reply_to"] == expected
    assert (await history(client, owner, rid))["messages"][-1]["reply_to"] == expected


async def test_reply_to_a_message_of_another_room_is_not_found(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    elsewhere = (await make_group(client, owner, [member]))["id"]
    foreign = await send(client, owner, elsewhere, "다른 방")
    r = await post_message(client, owner, rid, "답장", reply_to_id=foreign["id"])
    assert_error(r, 404, "message_not_found")
    assert (await get_room(client, owner, rid))["last_seq"] == 0


async def test_forward_copies_the_body_into_another_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    target = await open_direct(client, member, owner)
    source = await send(client, owner, rid, "전달할 내용 <@all>")
    r = await post_message(client, member, target["id"], None, forward_of_id=source["id"])
    assert r.status_code == 200, r.text
    forwarded = r.json()["message"]
    assert (forwarded["room_id"], forwarded["seq"], forwarded["sender_id"]) == (
        target["id"],
        1,
        member.user_id,
    )
    assert (forwarded["body"], forwarded["forwarded"]) == ("전달할 내용 <@all>", True)
    assert source["forwarded"] is False
    # The original is untouched.
    assert (await get_message(client, owner, rid, source["id"]))["body"] == "전달할 내용 <@all>"


async def test_forwarding_a_message_one_cannot_read_is_not_found(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    outsider = await create_user(client, admin)
    own_room = await open_direct(client, outsider, owner)
    secret = await send(client, owner, rid, "기밀")
    r = await post_message(client, outsider, own_room["id"], None, forward_of_id=secret["id"])
    assert_error(r, 404, "message_not_found")
    assert "기밀" not in r.text
    # Nor an unsent message, even by a member.
    gone = await send(client, owner, rid, "취소될 메시지")
    assert (await unsend(client, owner, rid, gone["id"])).status_code == 200
    mine = await open_direct(client, member, owner)
    r = await post_message(client, member, mine["id"], None, forward_of_id=gone["id"])
    assert_error(r, 404, "message_not_found")


# --- edits (M4) --------------------------------------------------------------------------------


async def test_edit_within_the_window_keeps_the_history(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "첫 버전")
    clock.advance(60)
    r = await edit(client, owner, rid, message["id"], f"둘째 버전 <@{member.user_id}>")
    assert r.status_code == 200, r.text
    clock.advance(60)
    r = await edit(client, owner, rid, message["id"], "셋째 버전")
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["id"], edited["seq"], edited["body"]) == (message["id"], 1, "셋째 버전")
    assert edited["edited_at"] == clock.now().isoformat()
    assert edited["created_at"] == message["created_at"]
    assert edited["mentions"] == []
    seen = await get_message(client, member, rid, message["id"])
    assert (seen["body"], seen["edited_at"]) == ("셋째 버전", edited["edited_at"])
    r = await client.get(f"/api/rooms/{rid}/messages/{message['id']}/edits", headers=member.headers)
    assert r.status_code == 200
    assert [e["previous_body"] for e in r.json()] == ["첫 버전", f"둘째 버전 <@{member.user_id}>"]


async def test_edit_updates_the_mentions(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "안녕")
    assert (await get_room(client, member, rid))["unread_mentions"] == 0
    r = await edit(client, owner, rid, message["id"], f"<@{member.user_id}> 안녕")
    assert r.json()["mentions"] == [member.user_id]
    assert (await get_room(client, member, rid))["unread_mentions"] == 1


async def test_edit_after_the_window_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "원문")
    clock.advance(DAY_S + 1)
    owner = await relogin(client, owner)
    body = assert_error(
        await edit(client, owner, rid, message["id"], "늦은 수정"), 403, "edit_window_passed"
    )
    assert body["data"] == {"window_s": DAY_S}
    assert_error(await unsend(client, owner, rid, message["id"]), 403, "unsend_window_passed")
    seen = await get_message(client, owner, rid, message["id"])
    assert (seen["body"], seen["edited_at"], seen["deleted_at"]) == ("원문", None, None)


async def test_edit_at_the_edge_of_the_window_is_allowed(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "원문")
    clock.advance(DAY_S)
    owner = await relogin(client, owner)
    assert (await edit(client, owner, rid, message["id"], "아슬아슬")).status_code == 200


@pytest.mark.parametrize("action", ["edit", "unsend"])
async def test_changing_someone_elses_message_is_refused_and_audited(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn, action: str
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, member, rid, "내 메시지")
    if action == "edit":
        r = await edit(client, owner, rid, message["id"], "남의 메시지 수정")
    else:
        r = await unsend(client, owner, rid, message["id"])
    assert_error(r, 403, "not_message_owner")
    seen = await get_message(client, member, rid, message["id"])
    assert (seen["body"], seen["deleted_at"]) == ("내 메시지", None)
    rows = await db_rows(
        app, sa.select(audit_logs).where(audit_logs.c.action == f"message.{action}_refused")
    )
    assert [(r.actor_id, r.target_type, r.target_id) for r in rows] == [
        (owner.user_id, "message", str(message["id"]))
    ]


async def test_system_messages_cannot_be_edited(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, member, rid = await _pair_room(client, admin)
    assert (
        await client.delete(f"/api/rooms/{rid}/members/me", headers=member.headers)
    ).status_code == 204
    notice = (await history(client, owner, rid))["messages"][-1]
    assert notice["kind"] == "system"
    assert_error(await edit(client, owner, rid, notice["id"], "조작"), 403, "not_message_owner")


# --- unsend (M5) -------------------------------------------------------------------------------


async def test_unsend_leaves_an_anonymous_tombstone_everywhere(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    start = (await get_room(client, member, rid))["last_event_seq"]
    message = await send(client, owner, rid, f"실수로 보낸 메시지 <@{member.user_id}>")
    assert (await react(client, member, rid, message["id"], "laugh")).status_code == 200
    await send(client, member, rid, "뭐라고요?", reply_to_id=message["id"])
    r = await unsend(client, owner, rid, message["id"])
    assert r.status_code == 200, r.text

    def is_tombstone(m: dict[str, Any]) -> bool:
        return (
            m["id"] == message["id"]
            and m["seq"] == message["seq"]
            and m["deleted_at"] is not None
            and m["body"] is None
            and m["sender_id"] is None
            and m["mentions"] == []
            and m["reactions"] == []
        )

    assert is_tombstone(r.json())
    assert is_tombstone(await get_message(client, member, rid, message["id"]))
    page = (await history(client, member, rid))["messages"]
    assert is_tombstone(page[0])
    # The quote in the reply goes too.
    assert page[1]["reply_to"] == {
        "id": message["id"],
        "seq": message["seq"],
        "sender_id": None,
        "body": None,
        "kind": None,
        "attachments": [],
    }
    # The mention no longer counts.
    assert (await get_room(client, member, rid))["unread_mentions"] == 0
    # A replay shows only the tombstone, never the text.
    frames = await all_events(client, member, rid, after=start)
    assert "실수로" not in str(frames)
    created = [f["event"]["message"] for f in frames if f["event"]["kind"] == "message.created"]
    assert is_tombstone(created[0])
    updated = [f["event"] for f in frames if f["event"]["kind"] == "message.updated"]
    assert updated[-1]["change"] == "unsent" and is_tombstone(updated[-1]["message"])
    assert "실수로" not in str(await history(client, member, rid))


async def test_unsent_last_message_shows_as_a_tombstone_in_the_room_list(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "지울 메시지")
    await unsend(client, owner, rid, message["id"])
    for who in (owner, member):
        room = next(r for r in (await room_list(client, who))["rooms"] if r["id"] == rid)
        assert room["last_message"]["id"] == message["id"]
        assert (room["last_message"]["body"], room["last_message"]["sender_id"]) == (None, None)
        assert room["last_message"]["deleted_at"] is not None


async def test_unsent_message_cannot_be_unsent_edited_or_reacted_to_again(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "지울 메시지")
    await unsend(client, owner, rid, message["id"])
    assert_error(await unsend(client, owner, rid, message["id"]), 409, "message_unsent")
    assert_error(await edit(client, owner, rid, message["id"], "부활"), 409, "message_unsent")
    assert_error(
        await react(client, member, rid, message["id"], "heart"), 400, "reaction_not_allowed"
    )
    r = await client.get(f"/api/rooms/{rid}/messages/{message['id']}/edits", headers=owner.headers)
    assert r.json() == []


# --- reactions (M6) ----------------------------------------------------------------------------


async def test_one_reaction_per_person_and_a_new_one_replaces_it(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "점심 뭐 먹을까요?")
    r = await react(client, member, rid, message["id"], "heart")
    assert r.json()["reactions"] == [
        {"reaction": "heart", "count": 1, "user_ids": [member.user_id]}
    ]
    r = await react(client, member, rid, message["id"], "like")
    assert r.json()["reactions"] == [{"reaction": "like", "count": 1, "user_ids": [member.user_id]}]
    r = await react(client, owner, rid, message["id"], "like")
    assert r.json()["reactions"] == [
        {"reaction": "like", "count": 2, "user_ids": sorted([member.user_id, owner.user_id])}
    ]
    r = await react(client, member, rid, message["id"], None)
    assert r.json()["reactions"] == [{"reaction": "like", "count": 1, "user_ids": [owner.user_id]}]
    # Removing a reaction one does not have changes nothing.
    r = await react(client, member, rid, message["id"], None)
    assert r.status_code == 200
    assert (await get_message(client, member, rid, message["id"]))["reactions"] == [
        {"reaction": "like", "count": 1, "user_ids": [owner.user_id]}
    ]


@pytest.mark.parametrize("reaction", ["heart", "like", "check", "laugh", "surprise", "sad"])
async def test_each_of_the_six_reactions_is_accepted(
    client: httpx.AsyncClient, admin: LoggedIn, reaction: str
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "공감해 주세요")
    r = await react(client, member, rid, message["id"], reaction)
    assert r.status_code == 200, r.text
    assert [x["reaction"] for x in r.json()["reactions"]] == [reaction]


@pytest.mark.parametrize("reaction", ["angry", "HEART", "", "❤️", 1, None])
async def test_unknown_reactions_are_refused(
    client: httpx.AsyncClient, admin: LoggedIn, reaction: object
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "공감해 주세요")
    r = await client.put(
        f"/api/rooms/{rid}/messages/{message['id']}/reaction",
        json={"reaction": reaction},
        headers=member.headers,
    )
    assert_error(r, 422, "validation_failed")
    assert (await get_message(client, owner, rid, message["id"]))["reactions"] == []


async def test_system_messages_take_no_reactions(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    await client.delete(f"/api/rooms/{rid}/members/me", headers=member.headers)
    notice = (await history(client, owner, rid))["messages"][-1]
    assert_error(
        await react(client, owner, rid, notice["id"], "heart"), 400, "reaction_not_allowed"
    )


# --- 가리기 (hide) -----------------------------------------------------------------------------


async def test_owner_hides_a_message_for_everyone_and_shows_it_again(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, member, rid, "부적절한 내용")
    path = f"/api/rooms/{rid}/messages/{message['id']}/hidden"
    r = await client.put(path, json={"hidden": True}, headers=owner.headers)
    assert r.status_code == 200, r.text
    for who in (owner, member):
        seen = await get_message(client, who, rid, message["id"])
        assert (seen["hidden"], seen["body"], seen["sender_id"]) == (True, None, member.user_id)
    assert "부적절한" not in str(await history(client, member, rid))
    r = await client.get(f"/api/rooms/{rid}/messages/{message['id']}/edits", headers=member.headers)
    assert r.json() == []
    r = await client.put(path, json={"hidden": False}, headers=owner.headers)
    assert (r.json()["hidden"], r.json()["body"]) == (False, "부적절한 내용")
    rows = await db_rows(
        app, sa.select(audit_logs.c.action).where(audit_logs.c.action.like("message.%"))
    )
    assert [row.action for row in rows] == ["message.hide", "message.unhide"]


async def test_a_plain_member_cannot_hide_messages(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "방장 메시지")
    r = await client.put(
        f"/api/rooms/{rid}/messages/{message['id']}/hidden",
        json={"hidden": True},
        headers=member.headers,
    )
    assert_error(r, 403, "room_permission_denied")
    assert (await get_message(client, member, rid, message["id"]))["hidden"] is False


# --- limits ------------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_refused_with_the_limit(
    client: httpx.AsyncClient, admin: LoggedIn, settings: Settings
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    limit = settings.limits.message_max_chars
    for body in ("가" * (limit + 1), "a" * (limit * 3)):
        r = await post_message(client, owner, rid, body)
        body_ = assert_error(r, 413, "message_too_long")
        assert body_["data"] == {"max_chars": limit}
    assert (await get_room(client, owner, rid))["last_seq"] == 0
    ok = await send(client, owner, rid, "가" * limit + "   \n")
    assert len(ok["body"]) == limit
    message = await send(client, owner, rid, "짧게")
    r = await edit(client, owner, rid, message["id"], "나" * (limit + 1))
    assert_error(r, 413, "message_too_long")


@pytest.mark.parametrize("body", ["", "   ", "\n\t\r\n", "\x00\x01", None])
async def test_an_empty_body_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn, body: str | None
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    assert_error(await post_message(client, owner, rid, body), 400, "message_empty")
    assert (await get_room(client, owner, rid))["last_seq"] == 0


async def test_an_edit_to_an_empty_body_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "내용")
    assert_error(await edit(client, owner, rid, message["id"], "  \n "), 400, "message_empty")


async def test_control_characters_are_removed_before_storing(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    message = await send(client, owner, rid, "줄1\r\n줄2\x00\x07 끝  ")
    assert message["body"] == "줄1\n줄2 끝"
    assert (await get_message(client, owner, rid, message["id"]))["body"] == "줄1\n줄2 끝"


# --- mentions ----------------------------------------------------------------------------------


async def test_mentions_keep_only_members_of_the_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid = await _pair_room(client, admin)
    outsider = await create_user(client, admin)
    message = await send(
        client,
        owner,
        rid,
        f"<@{member.user_id}> <@{outsider.user_id}> <@999999> <@{member.user_id}>",
    )
    assert message["mentions"] == [member.user_id]
    assert message["mentions_all"] is False
    assert (await get_room(client, member, rid))["unread_mentions"] == 1


async def test_anyone_may_mention_everyone_in_a_small_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    _owner, member, rid = await _pair_room(client, admin)
    message = await send(client, member, rid, "<@all> 회의 시작합니다")
    assert message["mentions_all"] is True


async def test_only_the_owner_may_mention_everyone_in_a_big_room(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    crowd = await insert_users(app, 50)  # 52 members: above the free @all limit of 50
    room = await make_group(client, owner, [member, *crowd])
    rid = room["id"]
    assert room["member_count"] == 52
    r = await post_message(client, member, rid, "<@all> 다들 보세요")
    assert_error(r, 403, "mention_all_forbidden")
    assert (await get_room(client, owner, rid))["last_seq"] == 0
    assert (await send(client, member, rid, "<@12> 개별 언급은 괜찮아요"))["mentions_all"] is False
    message = await send(client, owner, rid, "<@all> 전체 공지")
    assert message["mentions_all"] is True
    assert message["unread_count"] == 51
    # A room admin may too.
    await set_role(app, rid, member.user_id, "admin")
    assert (await send(client, member, rid, "<@all> 관리자 공지"))["mentions_all"] is True


# --- history paging ----------------------------------------------------------------------------


def _expected_page(
    last_seq: int, mode: str, cursor: int | None, limit: int
) -> tuple[list[int], bool, bool]:
    """What a page must hold, from the definition (seqs 1..last_seq all visible)."""
    seqs = list(range(1, last_seq + 1))
    if mode == "latest":
        page = seqs[-limit:]
    elif mode == "before":
        assert cursor is not None
        older = [s for s in seqs if s < cursor]
        page = older[-limit:] if older else []
    elif mode == "after":
        assert cursor is not None
        page = [s for s in seqs if s > cursor][:limit]
    else:
        # The older part ends with the message asked for, so a jump always shows it.
        assert cursor is not None
        half = max(1, limit // 2)
        older = [s for s in seqs if s <= cursor][-half:]
        newer = [s for s in seqs if s > cursor][: limit - half]
        page = older + newer
    if not page:
        return page, False, False
    return page, page[0] > 1, page[-1] < last_seq


async def test_history_pages_and_their_has_more_flags_are_exact(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    last_seq = 9
    for i in range(last_seq):
        await send(client, owner, rid, f"#{i + 1}")
    cases: list[tuple[str, int | None, int]] = [("latest", None, n) for n in (1, 4, 9, 50)]
    cases += [
        (mode, cursor, n)
        for mode in ("before", "after", "around")
        for cursor in range(0, last_seq + 3)
        for n in (1, 2, 3, 4)
    ]
    for mode, cursor, n in cases:
        params: dict[str, int] = {"limit": n}
        if cursor is not None:
            params[mode] = cursor
        page = await history(client, owner, rid, **params)
        seqs, more_before, more_after = _expected_page(last_seq, mode, cursor, n)
        got = [m["seq"] for m in page["messages"]]
        assert got == seqs, (mode, cursor, n, got)
        assert [m["body"] for m in page["messages"]] == [f"#{s}" for s in seqs]
        if seqs:
            assert (page["has_more_before"], page["has_more_after"]) == (
                more_before,
                more_after,
            ), (mode, cursor, n)
        elif mode == "before":
            assert page["has_more_before"] is False, (mode, cursor, n)
        elif mode == "after":
            assert page["has_more_after"] is False, (mode, cursor, n)


async def test_paging_backwards_visits_every_message_once(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    for i in range(23):
        await send(client, owner, rid, f"#{i + 1}")
    seen: list[int] = []
    page = await history(client, owner, rid, limit=5)
    while True:
        seen[:0] = [m["seq"] for m in page["messages"]]
        if not page["has_more_before"]:
            break
        page = await history(client, owner, rid, before=seen[0], limit=5)
    assert seen == list(range(1, 24))
    forward: list[int] = []
    page = await history(client, owner, rid, after=0, limit=5)
    while True:
        forward += [m["seq"] for m in page["messages"]]
        if not page["has_more_after"]:
            break
        page = await history(client, owner, rid, after=forward[-1], limit=5)
    assert forward == seen


async def test_empty_room_has_an_empty_history(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, _member, rid = await _pair_room(client, admin)
    page = await history(client, owner, rid)
    assert page == {"messages": [], "has_more_before": False, "has_more_after": False}
