"""Authorisation of the messaging API (reliability.md §4 "Authorisation", I5): a room the caller is
not in answers exactly like a room that does not exist; message ids from elsewhere are not found;
server-owned fields cannot be supplied by clients."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from sodam.db.tables import messages
from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    JSON,
    assert_error,
    db_rows,
    get_message,
    get_room,
    make_group,
    members,
    open_direct,
    post_message,
    react,
    request,
    room_requests,
    send,
)

MISSING_ROOM = 987_654


async def _private_room(
    client: httpx.AsyncClient, admin: LoggedIn
) -> tuple[LoggedIn, LoggedIn, int, JSON]:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member], name="인사팀 비공개")
    message = await send(client, member, room["id"], f"<@{owner.user_id}> 연봉 협상 결과")
    assert (await react(client, owner, room["id"], message["id"], "heart")).status_code == 200
    r = await client.put(f"/api/rooms/{room['id']}/pins/{message['id']}", headers=owner.headers)
    assert r.status_code == 204
    return owner, member, room["id"], message


async def test_a_non_member_gets_the_same_404_as_for_a_missing_room_everywhere(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, member, rid, message = await _private_room(client, admin)
    stranger = await create_user(client, admin)
    before_room = await get_room(client, owner, rid)
    before_message = await get_message(client, owner, rid, message["id"])

    requests = room_requests(rid, message["id"], member.user_id)
    missing = room_requests(MISSING_ROOM, message["id"], member.user_id)
    assert len(requests) >= 25
    for (method, path, body), (_, missing_path, _) in zip(requests, missing, strict=True):
        r = await request(client, stranger, method, path, body)
        r_missing = await request(client, stranger, method, missing_path, body)
        assert r.status_code == 404, (method, path, r.text)
        assert (
            r.json()
            == r_missing.json()
            == {
                "code": "room_not_found",
                "message": "No such room.",
                "data": {},
            }
        ), (method, path)
        assert "연봉" not in r.text

    # Nothing the stranger tried changed anything.
    after_room = await get_room(client, owner, rid)
    for key in ("name", "last_seq", "last_event_seq", "member_count", "notice_message_id"):
        assert after_room[key] == before_room[key], key
    assert await get_message(client, owner, rid, message["id"]) == before_message
    assert set(await members(client, owner, rid)) == {owner.user_id, member.user_id}


async def test_a_non_member_cannot_reach_a_direct_room_either(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    kim = await create_user(client, admin)
    lee = await create_user(client, admin)
    stranger = await create_user(client, admin)
    room = await open_direct(client, kim, lee)
    message = await send(client, kim, room["id"], "우리끼리 얘기")
    for method, path, body in room_requests(room["id"], message["id"], kim.user_id):
        r = await request(client, stranger, method, path, body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "room_not_found"


async def test_a_non_member_sees_nothing_of_the_room_in_lists(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await _private_room(client, admin)
    stranger = await create_user(client, admin)
    r = await client.get("/api/rooms", headers=stranger.headers)
    assert r.json() == {"rooms": [], "total_unread": 0}


async def test_message_ids_of_another_room_are_not_found(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    _owner, _member, secret_rid, secret = await _private_room(client, admin)
    snoop = await create_user(client, admin)
    own = await make_group(client, snoop, [], name="내 방")
    rid = own["id"]
    mine = await send(client, snoop, rid, "내 메시지")
    base = f"/api/rooms/{rid}"
    probes: list[tuple[str, str, JSON | None]] = [
        ("GET", f"{base}/messages/{{id}}", None),
        ("PATCH", f"{base}/messages/{{id}}", {"body": "바꿈"}),
        ("DELETE", f"{base}/messages/{{id}}", None),
        ("PUT", f"{base}/messages/{{id}}/hidden", {"hidden": True}),
        ("GET", f"{base}/messages/{{id}}/edits", None),
        ("PUT", f"{base}/messages/{{id}}/reaction", {"reaction": "heart"}),
        ("DELETE", f"{base}/messages/{{id}}/reaction", None),
        ("GET", f"{base}/messages/{{id}}/unread-members", None),
        ("PUT", f"{base}/pins/{{id}}", None),
        ("DELETE", f"{base}/pins/{{id}}", None),
        ("PUT", f"{base}/notice", {"message_id": "{id}"}),
    ]
    for method, template, body in probes:
        for target in (secret["id"], 10**9):  # another room's message, and one that never was
            path = template.replace("{id}", str(target))
            payload = {k: target if v == "{id}" else v for k, v in body.items()} if body else None
            r = await request(client, snoop, method, path, payload)
            assert_error(r, 404, "message_not_found")
            assert "연봉" not in r.text
    # Quoting or forwarding it fails the same way, and nothing is sent.
    r = await post_message(client, snoop, rid, "인용", reply_to_id=secret["id"])
    assert_error(r, 404, "message_not_found")
    r = await post_message(client, snoop, rid, None, forward_of_id=secret["id"])
    assert_error(r, 404, "message_not_found")
    assert (await get_room(client, snoop, rid))["last_seq"] == mine["seq"]
    # The secret message is untouched.
    assert "연봉" in (await get_message(client, _owner, secret_rid, secret["id"]))["body"]


@pytest.mark.parametrize(
    "extra",
    [
        {"sender_id": 1},
        {"seq": 1},
        {"event_seq": 1},
        {"created_at": "2020-01-01T00:00:00+00:00"},
        {"mentions": [1]},
        {"mentions_all": True},
        {"kind": "system"},
        {"room_id": 1},
        {"edited_at": None},
        {"deleted_at": None},
        {"id": 1},
    ],
)
async def test_server_fields_in_a_send_are_refused_and_never_stored(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn, extra: JSON
) -> None:
    owner = await create_user(client, admin)
    room = await make_group(client, owner, [], name="필드")
    r = await post_message(client, owner, room["id"], "본문", **extra)
    body = assert_error(r, 422, "validation_failed")
    assert [e["type"] for e in body["data"]["errors"]] == ["extra_forbidden"]
    assert await db_rows(app, sa.select(messages.c.id)) == []
    assert (await get_room(client, owner, room["id"]))["last_seq"] == 0


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "/messages/{id}", {"body": "수정", "sender_id": 1}),
        ("PATCH", "/messages/{id}", {"body": "수정", "edited_by": 1}),
        ("PUT", "/messages/{id}/reaction", {"reaction": "heart", "user_id": 1}),
        ("POST", "/read", {"seq": 1, "user_id": 1}),
        ("POST", "/unread", {"seq": 1, "user_id": 1}),
        ("PATCH", "/settings", {"muted": True, "user_id": 1}),
        ("PUT", "/notice", {"message_id": "{id}", "room_id": 1}),
    ],
)
async def test_acting_for_someone_else_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn, method: str, suffix: str, body: JSON
) -> None:
    owner = await create_user(client, admin)
    member = await create_user(client, admin)
    room = await make_group(client, owner, [member])
    message = await send(client, owner, room["id"], "원문")
    path = f"/api/rooms/{room['id']}" + suffix.replace("{id}", str(message["id"]))
    payload = {k: message["id"] if v == "{id}" else v for k, v in body.items()}
    r = await client.request(method, path, json=payload, headers=member.headers)
    assert_error(r, 422, "validation_failed")
    seen = await get_message(client, owner, room["id"], message["id"])
    assert (seen["body"], seen["reactions"]) == ("원문", [])
    assert (await get_room(client, owner, room["id"]))["last_read_seq"] == 1


async def test_the_messaging_api_needs_a_token(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner = await create_user(client, admin)
    room = await make_group(client, owner, [], name="토큰")
    message = await send(client, owner, room["id"], "본문")
    for method, path, body in room_requests(room["id"], message["id"], owner.user_id):
        r = await client.request(method, path, json=body)
        assert r.status_code == 401, (method, path)
    assert (await client.get("/api/rooms")).status_code == 401
