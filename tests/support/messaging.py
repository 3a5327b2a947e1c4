"""Builders and helpers for the messaging tests: rooms, messages, paging, a SQL statement counter
and a client-side state model fed by event frames (Zulip's ``verify_action``).

Everything goes through the public REST API except the statement counter (which listens on the
app's engine) and ``insert_users`` (which uses the account service to make many users quickly).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from sodam.db.tables import room_members
from sodam.domain.messages import reply_preview_text
from tests.support.factories import DEFAULT_PASSWORD, LoggedIn

JSON = dict[str, Any]
_msg_counter = itertools.count(1)
_user_counter = itertools.count(1)


def assert_error(r: httpx.Response, status: int, code: str) -> JSON:
    """The response is an error with this status and code, in the shared error shape."""
    assert r.status_code == status, r.text
    body: JSON = r.json()
    assert set(body) == {"code", "message", "data"}, body
    assert body["code"] == code, body
    return body


def new_client_msg_id() -> str:
    return f"cmid-{next(_msg_counter):08d}"


# --- users -------------------------------------------------------------------------------------


async def insert_users(app: FastAPI, count: int, *, prefix: str = "bulk") -> list[int]:
    """Creates ``count`` users through the account service (no HTTP, no login): ids only."""
    accounts = app.state.services.accounts
    ids: list[int] = []
    for _ in range(count):
        n = next(_user_counter)
        user = await accounts.create_user(
            None, username=f"{prefix}{n}", password=DEFAULT_PASSWORD, display_name=f"{prefix}{n}"
        )
        ids.append(int(user.id))
    return ids


# --- rooms -------------------------------------------------------------------------------------


async def make_group(
    client: httpx.AsyncClient,
    owner: LoggedIn,
    members: list[LoggedIn] | list[int] | tuple[Any, ...] = (),
    **overrides: Any,
) -> JSON:
    """A group room owned by ``owner`` (members given as LoggedIn or plain user ids)."""
    member_ids = [m if isinstance(m, int) else m.user_id for m in members]
    body: JSON = {
        "kind": "group",
        "name": "개발팀",
        "topic": None,
        "member_ids": member_ids,
        "history_visibility": "all",
    }
    body.update(overrides)
    r = await client.post("/api/rooms", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    room: JSON = r.json()
    return room


async def open_direct(client: httpx.AsyncClient, user: LoggedIn, peer: LoggedIn) -> JSON:
    r = await client.post(
        "/api/rooms", json={"kind": "direct", "user_id": peer.user_id}, headers=user.headers
    )
    assert r.status_code == 201, r.text
    room: JSON = r.json()
    return room


async def get_room(client: httpx.AsyncClient, user: LoggedIn, room_id: int) -> JSON:
    r = await client.get(f"/api/rooms/{room_id}", headers=user.headers)
    assert r.status_code == 200, r.text
    room: JSON = r.json()
    return room


async def room_list(client: httpx.AsyncClient, user: LoggedIn) -> JSON:
    r = await client.get("/api/rooms", headers=user.headers)
    assert r.status_code == 200, r.text
    listed: JSON = r.json()
    return listed


async def invite(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, *invitees: LoggedIn | int
) -> list[int]:
    ids = [i if isinstance(i, int) else i.user_id for i in invitees]
    r = await client.post(
        f"/api/rooms/{room_id}/members", json={"user_ids": ids}, headers=user.headers
    )
    assert r.status_code == 200, r.text
    added: list[int] = r.json()["added"]
    return added


async def members(client: httpx.AsyncClient, user: LoggedIn, room_id: int) -> dict[int, str]:
    """{user_id: role} of a room."""
    r = await client.get(f"/api/rooms/{room_id}/members", headers=user.headers)
    assert r.status_code == 200, r.text
    return {m["user_id"]: m["role"] for m in r.json()}


# --- messages ----------------------------------------------------------------------------------


async def post_message(
    client: httpx.AsyncClient,
    user: LoggedIn,
    room_id: int,
    /,
    body: str | None = "안녕하세요",
    client_msg_id: str | None = None,
    **extra: Any,
) -> httpx.Response:
    """POST a message and return the raw response (for error cases)."""
    payload: JSON = {"client_msg_id": client_msg_id or new_client_msg_id(), **extra}
    if body is not None:
        payload["body"] = body
    return await client.post(f"/api/rooms/{room_id}/messages", json=payload, headers=user.headers)


async def send(
    client: httpx.AsyncClient,
    user: LoggedIn,
    room_id: int,
    /,
    body: str | None = "안녕하세요",
    client_msg_id: str | None = None,
    **extra: Any,
) -> JSON:
    """Sends a message and returns it (the ``message`` of the answer)."""
    r = await post_message(client, user, room_id, body, client_msg_id, **extra)
    assert r.status_code == 200, r.text
    assert r.json()["duplicate"] is False, r.text
    message: JSON = r.json()["message"]
    return message


async def history(client: httpx.AsyncClient, user: LoggedIn, room_id: int, **params: Any) -> JSON:
    r = await client.get(f"/api/rooms/{room_id}/messages", params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    page: JSON = r.json()
    return page


async def all_messages(client: httpx.AsyncClient, user: LoggedIn, room_id: int) -> list[JSON]:
    """Every message the user can see, oldest first, paging backwards with ``before``."""
    out: list[JSON] = []
    page = await history(client, user, room_id, limit=200)
    while True:
        out[:0] = page["messages"]
        if not page["has_more_before"]:
            return out
        page = await history(client, user, room_id, before=out[0]["seq"], limit=200)


async def get_message(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int
) -> JSON:
    r = await client.get(f"/api/rooms/{room_id}/messages/{message_id}", headers=user.headers)
    assert r.status_code == 200, r.text
    message: JSON = r.json()
    return message


async def edit(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int, body: str
) -> httpx.Response:
    return await client.patch(
        f"/api/rooms/{room_id}/messages/{message_id}", json={"body": body}, headers=user.headers
    )


async def unsend(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int
) -> httpx.Response:
    return await client.delete(f"/api/rooms/{room_id}/messages/{message_id}", headers=user.headers)


async def react(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int, reaction: str | None
) -> httpx.Response:
    path = f"/api/rooms/{room_id}/messages/{message_id}/reaction"
    if reaction is None:
        return await client.delete(path, headers=user.headers)
    return await client.put(path, json={"reaction": reaction}, headers=user.headers)


async def mark_read(client: httpx.AsyncClient, user: LoggedIn, room_id: int, seq: int) -> JSON:
    r = await client.post(f"/api/rooms/{room_id}/read", json={"seq": seq}, headers=user.headers)
    assert r.status_code == 200, r.text
    state: JSON = r.json()
    return state


async def events(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, after: int, limit: int = 200
) -> JSON:
    r = await client.get(
        f"/api/rooms/{room_id}/events",
        params={"after": after, "limit": limit},
        headers=user.headers,
    )
    assert r.status_code == 200, r.text
    page: JSON = r.json()
    return page


async def all_events(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, after: int, limit: int = 200
) -> list[JSON]:
    """Every event frame after a cursor, following ``has_more`` page by page."""
    frames: list[JSON] = []
    while True:
        page = await events(client, user, room_id, after, limit)
        assert not page["too_far_behind"], page
        frames.extend(page["events"])
        after = page["next_event_seq"]
        if not page["has_more"]:
            return frames


# --- reading the database directly (assertions only; the API never does this) ------------------


async def db_rows(app: FastAPI, query: sa.Executable) -> list[Any]:
    """Rows of ``query``, read through the app's own database."""
    rows: list[Any] = await app.state.db.read(lambda conn: list(conn.execute(query)))
    return rows


async def db_execute(app: FastAPI, statement: sa.Executable) -> None:
    """Test set-up the API cannot do (e.g. making someone a room admin), in its own transaction."""
    await app.state.db.write(lambda conn: conn.execute(statement))


async def set_role(app: FastAPI, room_id: int, user_id: int, role: str) -> None:
    await db_execute(
        app,
        sa.update(room_members)
        .where(room_members.c.room_id == room_id, room_members.c.user_id == user_id)
        .values(role=role),
    )


# --- counting SQL statements (STYLE.md §12) ----------------------------------------------------

_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(self.statements))


@contextmanager
def count_statements(app: FastAPI) -> Iterator[StatementLog]:
    """Records every SQL statement the app's engine runs inside the block, except transaction
    control and PRAGMAs."""
    engine = app.state.db.engine
    log = StatementLog()

    def _before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(_NOT_COUNTED):
            log.statements.append(text)

    sa.event.listen(engine, "before_cursor_execute", _before)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", _before)


# --- the client-side state model (verify_action) -----------------------------------------------

# Fields of a message that depend on who has read it, not on the event log: read positions
# travel in ephemeral ``read`` frames and are resynced from /reads, so they are left out.
_READ_DEPENDENT = ("unread_count",)


@dataclass
class RoomState:
    """What a client keeps of one room, built from a fresh fetch or from event frames."""

    room: JSON
    members: dict[int, str]
    messages: dict[int, JSON]
    pins: set[int]

    def normalised(self) -> JSON:
        msgs = {
            mid: {k: v for k, v in m.items() if k not in _READ_DEPENDENT}
            for mid, m in self.messages.items()
        }
        # The pins list shows only messages that still exist for everyone.
        visible_pins = {p for p in self.pins if p in msgs and msgs[p]["deleted_at"] is None}
        return {
            "room": dict(self.room),
            "members": dict(self.members),
            "messages": msgs,
            "pins": visible_pins,
        }


ROOM_FIELDS = ("name", "topic", "history_visibility", "notice_message_id")


async def fetch_state(client: httpx.AsyncClient, user: LoggedIn, room_id: int) -> RoomState:
    """The authoritative state of a room as ``user`` sees it over REST."""
    room = await get_room(client, user, room_id)
    msgs = await all_messages(client, user, room_id)
    r = await client.get(f"/api/rooms/{room_id}/pins", headers=user.headers)
    assert r.status_code == 200, r.text
    return RoomState(
        room={k: room[k] for k in ROOM_FIELDS},
        members=await members(client, user, room_id),
        messages={m["id"]: m for m in msgs},
        pins={m["id"] for m in r.json()},
    )


def apply_frames(state: RoomState, frames: list[JSON]) -> RoomState:
    """A pure reducer: the state after applying event frames in order (a copy)."""
    out = copy.deepcopy(state)
    for frame in frames:
        assert frame["type"] == "event", frame
        _apply(out, frame["event"])
    return out


def _apply(state: RoomState, event: JSON) -> None:
    kind = event["kind"]
    if kind in ("message.created", "message.updated"):
        message = copy.deepcopy(event.get("message"))
        if message is not None:
            state.messages[message["id"]] = message
            _fill_quote(state, message)
            _refresh_quotes(state, message)
    elif kind == "reaction.updated":
        target = state.messages.get(event["message_id"])
        if target is not None and "reactions" in event:
            target["reactions"] = event["reactions"]
    elif kind == "member.joined":
        state.members[event["user_id"]] = event["role"]
    elif kind == "member.left":
        state.members.pop(event["user_id"], None)
    elif kind == "member.role_changed":
        state.members[event["user_id"]] = event["role"]
    elif kind == "room.updated":
        for key, value in event["changes"].items():
            state.room[key] = value
    elif kind == "pins.updated":
        if event["pinned"]:
            state.pins.add(event["message_id"])
        else:
            state.pins.discard(event["message_id"])
    else:  # pragma: no cover -- an unknown kind is a protocol change the test must learn
        raise AssertionError(f"unknown event kind {kind!r}")


def _quote_of(target: JSON) -> JSON:
    unsent = target["deleted_at"] is not None
    readable = not unsent and not target["hidden"]
    return {
        "id": target["id"],
        "seq": target["seq"],
        "sender_id": None if unsent else target["sender_id"],
        "body": reply_preview_text(target["body"]) if readable else None,
        "kind": target["kind"] if readable else None,
        "attachments": [
            {"kind": a["kind"], "file_name": a["file_name"]} for a in target["attachments"]
        ]
        if readable
        else [],
    }


def _refresh_quotes(state: RoomState, target: JSON) -> None:
    """Replies quoting a changed message show its current text (none once unsent or hidden)."""
    for message in state.messages.values():
        quote = message.get("reply_to")
        if quote is not None and quote["id"] == target["id"]:
            message["reply_to"] = _quote_of(target)


def _fill_quote(state: RoomState, message: JSON) -> None:
    """A frame sent to every member quotes without text what some member may not read; a
    client that holds the quoted message shows it from its own copy."""
    quote = message.get("reply_to")
    if quote is not None and quote["body"] is None and quote["id"] in state.messages:
        message["reply_to"] = _quote_of(state.messages[quote["id"]])


# --- every room-scoped endpoint, for authorisation tests ---------------------------------------


def room_requests(
    room_id: int, message_id: int, user_id: int
) -> list[tuple[str, str, JSON | None]]:
    """(method, path, json) for every endpoint scoped to one room: a caller who is not a member
    must get the same 404 from each as for a room that does not exist."""
    base = f"/api/rooms/{room_id}"
    msg = f"{base}/messages/{message_id}"
    return [
        ("GET", base, None),
        ("PATCH", base, {"name": "새 이름"}),
        ("PATCH", f"{base}/settings", {"muted": True}),
        ("GET", f"{base}/members", None),
        ("POST", f"{base}/members", {"user_ids": [user_id]}),
        ("DELETE", f"{base}/members/me", None),
        ("DELETE", f"{base}/members/{user_id}", None),
        ("POST", f"{base}/owner", {"user_id": user_id}),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"client_msg_id": "probe-0001", "body": "안녕"}),
        ("GET", msg, None),
        ("PATCH", msg, {"body": "바꿈"}),
        ("DELETE", msg, None),
        ("PUT", f"{msg}/hidden", {"hidden": True}),
        ("GET", f"{msg}/edits", None),
        ("PUT", f"{msg}/reaction", {"reaction": "heart"}),
        ("DELETE", f"{msg}/reaction", None),
        ("GET", f"{msg}/unread-members", None),
        ("POST", f"{base}/read", {"seq": 1}),
        ("POST", f"{base}/unread", {"seq": 1}),
        ("GET", f"{base}/reads", None),
        ("GET", f"{base}/notice", None),
        ("PUT", f"{base}/notice", {"message_id": message_id}),
        ("DELETE", f"{base}/notice", None),
        ("GET", f"{base}/pins", None),
        ("PUT", f"{base}/pins/{message_id}", None),
        ("DELETE", f"{base}/pins/{message_id}", None),
        ("GET", f"{base}/events", None),
    ]


async def request(
    client: httpx.AsyncClient, user: LoggedIn, method: str, path: str, body: JSON | None
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=user.headers)
