"""Bad input to the messaging API (reliability.md §4 "Content"): paging parameters, client message
ids, hostile JSON, and markup that must stay plain text."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    JSON,
    assert_error,
    get_message,
    get_room,
    history,
    make_group,
    post_message,
    send,
)


@pytest.fixture
async def room(client: httpx.AsyncClient, admin: LoggedIn) -> tuple[LoggedIn, int]:
    owner = await create_user(client, admin)
    created = await make_group(client, owner, [], name="입력 검사")
    for i in range(3):
        await send(client, owner, created["id"], f"#{i}")
    return owner, created["id"]


# --- paging parameters -------------------------------------------------------------------------


BAD_HISTORY_PARAMS: list[dict[str, str]] = [
    {"before": "-1"},
    {"after": "abc"},
    {"around": "1.5"},
    {"before": "1e3"},
    {"after": str(2**60)},
    {"around": "99999999999999999999999999"},
    {"limit": "0"},
    {"limit": "-5"},
    {"limit": "201"},
    {"limit": "many"},
    {"limit": str(10**30)},
    {"before": ""},
]


async def test_bad_history_paging_parameters_are_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for params in BAD_HISTORY_PARAMS:
        r = await client.get(f"/api/rooms/{rid}/messages", params=params, headers=owner.headers)
        body = assert_error(r, 422, "validation_failed")
        assert [e["loc"][-1] for e in body["data"]["errors"]] == list(params), params


async def test_two_paging_directions_at_once_are_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for params in (
        {"before": "2", "after": "1"},
        {"before": "2", "around": "1"},
        {"after": "0", "around": "1"},
        {"before": "3", "after": "0", "around": "1"},
    ):
        r = await client.get(f"/api/rooms/{rid}/messages", params=params, headers=owner.headers)
        assert_error(r, 400, "paging_conflict")


async def test_paging_beyond_the_room_is_an_empty_page(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    assert (await history(client, owner, rid, after=1000))["messages"] == []
    assert (await history(client, owner, rid, before=0))["messages"] == []
    assert [m["seq"] for m in (await history(client, owner, rid, before=2**53))["messages"]] == [
        1,
        2,
        3,
    ]


BAD_OTHER_PARAMS: list[tuple[str, dict[str, str]]] = [
    ("events", {"after": "-1"}),
    ("events", {"after": "x"}),
    ("events", {"limit": "0"}),
    ("events", {"limit": "501"}),
    ("events", {"after": str(2**64)}),
    ("members", {"limit": "0"}),
    ("members", {"after_user_id": "-1"}),
    ("messages/1/unread-members", {"limit": "0"}),
    ("messages/1/unread-members", {"limit": "501"}),
    ("messages/1/unread-members", {"after_user_id": "-3"}),
]


async def test_bad_paging_parameters_elsewhere_are_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for path, params in BAD_OTHER_PARAMS:
        r = await client.get(f"/api/rooms/{rid}/{path}", params=params, headers=owner.headers)
        assert_error(r, 422, "validation_failed")


async def test_bad_room_ids_are_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, _rid = room
    for room_id in ("abc", "0", "-1", str(2**54), str(2**64), "1e3"):
        r = await client.get(f"/api/rooms/{room_id}/messages", headers=owner.headers)
        assert_error(r, 422, "validation_failed")


async def test_bad_read_positions_are_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for seq in (-1, "abc", 2**54, None, 1.5, [1]):
        for action in ("read", "unread"):
            r = await client.post(
                f"/api/rooms/{rid}/{action}", json={"seq": seq}, headers=owner.headers
            )
            assert_error(r, 422, "validation_failed")
    assert (await get_room(client, owner, rid))["last_read_seq"] == 3


# --- client message ids ------------------------------------------------------------------------


BAD_CLIENT_MSG_IDS: list[object] = [
    "short",
    "a" * 65,
    "has space 123",
    "tab\there123",
    "newline-at-end\n",
    "한글로된아이디입니다",
    "semi;colon1",
    "",
    12345678,
    None,
]


async def test_bad_client_msg_ids_are_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for client_msg_id in BAD_CLIENT_MSG_IDS:
        r = await client.post(
            f"/api/rooms/{rid}/messages",
            json={"client_msg_id": client_msg_id, "body": "본문"},
            headers=owner.headers,
        )
        assert_error(r, 422, "validation_failed")
    r = await client.post(
        f"/api/rooms/{rid}/messages", json={"body": "본문"}, headers=owner.headers
    )
    assert_error(r, 422, "validation_failed")
    assert (await get_room(client, owner, rid))["last_seq"] == 3


async def test_a_body_that_is_not_text_is_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for body in (123, ["목록"], {"text": "객체"}, True):
        r = await client.post(
            f"/api/rooms/{rid}/messages",
            json={"client_msg_id": "not-text-0001", "body": body},
            headers=owner.headers,
        )
        assert_error(r, 422, "validation_failed")
    assert (await get_room(client, owner, rid))["last_seq"] == 3


# --- hostile JSON ------------------------------------------------------------------------------


HOSTILE_JSON: list[bytes] = [
    b'{"client_msg_id": "dupkey-00001", "body": "a", "body": "b"}',
    b'{"client_msg_id": "hugeint-0001", "body": "a", "reply_to_id": 1' + b"0" * 40 + b"}",
    b'{"client_msg_id": "nan-00000001", "body": "a", "reply_to_id": NaN}',
    b'{"client_msg_id": "inf-00000001", "body": "a", "reply_to_id": 1e999}',
    b'{"client_msg_id": "trunc-000001", "body": "a"',
    b'{"client_msg_id": "utf8-0000001", "body": "\xff\xfe"}',
    b'{"client_msg_id": "deep-0000001", "body": "a", "x": ' + b"[" * 100 + b"]" * 100 + b"}",
]


async def test_hostile_json_in_a_send_is_refused(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for raw in HOSTILE_JSON:
        r = await client.post(
            f"/api/rooms/{rid}/messages",
            content=raw,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert_error(r, 400, "invalid_json")
    assert (await get_room(client, owner, rid))["last_seq"] == 3


# --- markup stays text -------------------------------------------------------------------------


MARKUP: list[str] = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "[눌러 보세요](javascript:alert(1))",
    '<a href="javascript:alert(document.cookie)">링크</a>',
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "&lt;b&gt;이미 이스케이프된&lt;/b&gt; &amp; \"따옴표\" 'quote'",
    "**굵게** _기울임_ `코드`",
    "\u202eevil.exe",
]


async def test_markup_in_a_message_is_stored_and_returned_verbatim(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    for text in MARKUP:
        sent = await send(client, owner, rid, text)
        assert sent["body"] == text
        assert (await get_message(client, owner, rid, sent["id"]))["body"] == text
        last = (await history(client, owner, rid))["messages"][-1]
        assert last["body"] == text
        r = await client.get(f"/api/rooms/{rid}/messages/{sent['id']}", headers=owner.headers)
        assert r.headers["content-type"].startswith("application/json")
        listed = (await client.get("/api/rooms", headers=owner.headers)).json()["rooms"]
        assert listed[0]["last_message"]["body"] == text


async def test_markup_in_room_names_is_stored_verbatim(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    name = "<b onmouseover=alert(1)>팀</b>"
    created = await make_group(client, owner, [], name=name, topic="javascript:alert(1)")
    assert (created["name"], created["topic"]) == (name, "javascript:alert(1)")


async def test_mention_tokens_that_are_not_user_ids_stay_text(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    text = "<@99999999999999999999999> <@-1> <@abc> <@ 1>"
    sent = await send(client, owner, rid, text)
    assert (sent["body"], sent["mentions"], sent["mentions_all"]) == (text, [], False)


async def test_a_mention_of_a_huge_user_id_is_ignored(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    sent = await send(client, owner, rid, "<@999999999999999999> 안녕")
    assert sent["mentions"] == []


async def test_room_creation_with_bad_fields_is_refused(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    bad: list[JSON] = [
        {"kind": "channel", "name": "x"},
        {"kind": "group", "name": "x" * 101},
        {"kind": "group", "name": "x", "member_ids": ["a"]},
        {"kind": "group", "name": "x", "member_ids": [0]},
        {"kind": "group", "name": "x", "history_visibility": "some"},
        {"kind": "group", "name": "x", "created_by": 1},
        {"kind": "direct", "user_id": -1},
    ]
    for payload in bad:
        r = await client.post("/api/rooms", json=payload, headers=owner.headers)
        assert_error(r, 422, "validation_failed")
    assert (await client.get("/api/rooms", headers=owner.headers)).json()["rooms"] == []


async def test_an_oversized_request_body_is_refused_before_parsing(
    client: httpx.AsyncClient, room: tuple[LoggedIn, int]
) -> None:
    owner, rid = room
    r = await post_message(client, owner, rid, "가" * 400_000)  # ~1.2 MB of UTF-8
    assert r.status_code == 413, r.text
    assert (await get_room(client, owner, rid))["last_seq"] == 3
