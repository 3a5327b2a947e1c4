"""Convergence (reliability.md I3, I4; Zulip's ``verify_action``): a client that applies a room's
event frames to a stale copy ends with exactly what a fresh fetch shows, whether the frames come
live from the bus or from the REST replay (``GET /api/rooms/{id}/events``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from sodam.domain.clock import FakeClock
from sodam.services import sync as sync_service
from tests.support.factories import LoggedIn, create_user
from tests.support.messaging import (
    JSON,
    RoomState,
    all_events,
    apply_frames,
    assert_error,
    edit,
    events,
    fetch_state,
    get_message,
    get_room,
    invite,
    make_group,
    react,
    send,
    unsend,
)


@dataclass
class BusLog:
    """Every room event frame published on the app's bus, in publication order."""

    frames: list[JSON]

    def of_room(self, room_id: int, after: int) -> list[JSON]:
        return [
            f
            for f in self.frames
            if f.get("type") == "event" and f["room_id"] == room_id and f["event_seq"] > after
        ]


@pytest.fixture
async def bus_log(app: FastAPI) -> BusLog:
    log = BusLog([])

    async def record(topic: str, payload: bytes) -> None:
        if topic.startswith("room:"):
            log.frames.append(json.loads(payload))

    await app.state.bus.start(record)
    return log


@dataclass
class Cast:
    owner: LoggedIn
    b: LoggedIn
    c: LoggedIn
    d: LoggedIn
    e: LoggedIn


async def _cast(client: httpx.AsyncClient, admin: LoggedIn) -> Cast:
    return Cast(*[await create_user(client, admin) for _ in range(5)])


async def _ok(r: httpx.Response) -> JSON:
    assert r.status_code in (200, 204), (r.request.method, r.request.url, r.text)
    return r.json() if r.status_code == 200 else {}


async def _act_everything(
    client: httpx.AsyncClient, cast: Cast, rid: int, before: dict[str, JSON], clock: FakeClock
) -> None:
    """One of every kind of durable change, several touching messages sent before the cursor."""
    owner, b, c, d, e = cast.owner, cast.b, cast.c, cast.d, cast.e
    first, second, third = before["first"], before["second"], before["third"]
    base = f"/api/rooms/{rid}"
    clock.advance(30)
    fresh = await send(client, b, rid, f"새 메시지 <@{owner.user_id}>")  # send
    await send(client, c, rid, "첫 메시지에 답장", reply_to_id=first["id"])  # reply
    await _ok(await edit(client, owner, rid, first["id"], "첫 메시지 (수정됨)"))  # edit
    await _ok(await unsend(client, b, rid, second["id"]))  # unsend (it was pinned and quoted)
    await _ok(await react(client, c, rid, fresh["id"], "like"))  # react
    await _ok(await react(client, owner, rid, fresh["id"], "like"))
    await _ok(await react(client, c, rid, fresh["id"], "sad"))  # change a reaction
    await _ok(await react(client, b, rid, first["id"], None))  # unreact
    await _ok(
        await client.put(
            f"{base}/messages/{third['id']}/hidden", json={"hidden": True}, headers=owner.headers
        )
    )  # hide (it was quoted)
    await _ok(
        await client.put(f"{base}/notice", json={"message_id": fresh["id"]}, headers=owner.headers)
    )  # notice
    await _ok(await client.put(f"{base}/pins/{fresh['id']}", headers=owner.headers))  # pin
    await _ok(await client.put(f"{base}/pins/{first['id']}", headers=owner.headers))
    await _ok(await client.delete(f"{base}/pins/{first['id']}", headers=owner.headers))  # unpin
    await invite(client, owner, rid, d, e)  # invite
    await send(client, d, rid, "안녕하세요, 새로 왔습니다")
    await _ok(await client.delete(f"{base}/members/me", headers=c.headers))  # leave with notice
    await _ok(
        await client.delete(f"{base}/members/me", params={"quiet": "true"}, headers=b.headers)
    )  # leave quietly
    await invite(client, owner, rid, b)  # and come back
    await _ok(await client.delete(f"{base}/members/{e.user_id}", headers=owner.headers))  # kick
    await _ok(
        await client.post(f"{base}/owner", json={"user_id": d.user_id}, headers=owner.headers)
    )  # transfer the owner
    await _ok(
        await client.patch(base, json={"name": "새 방 이름", "topic": "새 주제"}, headers=d.headers)
    )  # rename
    await _ok(await client.delete(f"{base}/notice", headers=d.headers))  # clear the notice
    await _ok(
        await client.put(f"{base}/notice", json={"message_id": first["id"]}, headers=d.headers)
    )


async def _room_with_history(client: httpx.AsyncClient, cast: Cast) -> tuple[int, dict[str, JSON]]:
    owner, b, c = cast.owner, cast.b, cast.c
    room = await make_group(client, owner, [b, c], name="동기화 테스트", topic="처음 주제")
    rid = room["id"]
    first = await send(client, owner, rid, "첫 메시지")
    second = await send(client, b, rid, "둘째 메시지")
    third = await send(client, c, rid, f"셋째 메시지 <@{b.user_id}>")
    await send(client, c, rid, "둘째에 답장", reply_to_id=second["id"])
    await send(client, b, rid, "셋째에 답장", reply_to_id=third["id"])
    await _ok(await react(client, b, rid, first["id"], "heart"))
    await _ok(await client.put(f"/api/rooms/{rid}/pins/{second['id']}", headers=owner.headers))
    return rid, {"first": first, "second": second, "third": third}


def _assert_gap_free(frames: list[JSON], after: int, last_event_seq: int) -> None:
    seqs = [f["event_seq"] for f in frames]
    assert seqs == list(range(after + 1, last_event_seq + 1)), seqs


async def test_replayed_events_bring_a_stale_client_to_the_fresh_state(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    cast = await _cast(client, admin)
    rid, before = await _room_with_history(client, cast)
    stale = await fetch_state(client, cast.owner, rid)
    cursor = (await get_room(client, cast.owner, rid))["last_event_seq"]

    await _act_everything(client, cast, rid, before, clock)

    frames = await all_events(client, cast.owner, rid, after=cursor, limit=4)
    last_event_seq = (await get_room(client, cast.owner, rid))["last_event_seq"]
    _assert_gap_free(frames, cursor, last_event_seq)
    kinds = {f["event"]["kind"] for f in frames}
    assert kinds == {
        "message.created",
        "message.updated",
        "reaction.updated",
        "member.joined",
        "member.left",
        "member.role_changed",
        "room.updated",
        "pins.updated",
    }
    fresh = await fetch_state(client, cast.owner, rid)
    assert apply_frames(stale, frames).normalised() == fresh.normalised()
    # The replay did change things: the stale copy on its own is not the fresh state.
    assert stale.normalised() != fresh.normalised()


async def test_live_frames_bring_a_stale_client_to_the_fresh_state(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock, bus_log: BusLog
) -> None:
    cast = await _cast(client, admin)
    rid, before = await _room_with_history(client, cast)
    stale = await fetch_state(client, cast.owner, rid)
    cursor = (await get_room(client, cast.owner, rid))["last_event_seq"]

    await _act_everything(client, cast, rid, before, clock)

    live = bus_log.of_room(rid, cursor)
    _assert_gap_free(live, cursor, (await get_room(client, cast.owner, rid))["last_event_seq"])
    fresh = await fetch_state(client, cast.owner, rid)
    assert apply_frames(stale, live).normalised() == fresh.normalised()
    # The live frames and the replay describe the same events.
    replay = await all_events(client, cast.owner, rid, after=cursor)
    assert [(f["event_seq"], f["event"]["kind"]) for f in live] == [
        (f["event_seq"], f["event"]["kind"]) for f in replay
    ]


async def test_replaying_from_the_start_rebuilds_the_room(
    client: httpx.AsyncClient, admin: LoggedIn, clock: FakeClock
) -> None:
    cast = await _cast(client, admin)
    rid, before = await _room_with_history(client, cast)
    await _act_everything(client, cast, rid, before, clock)
    empty = RoomState(
        room={
            "name": "동기화 테스트",
            "topic": "처음 주제",
            "history_visibility": "all",
            "notice_message_id": None,
        },
        members={},
        messages={},
        pins=set(),
    )
    frames = await all_events(client, cast.owner, rid, after=0, limit=7)
    _assert_gap_free(frames, 0, (await get_room(client, cast.owner, rid))["last_event_seq"])
    fresh = await fetch_state(client, cast.owner, rid)
    assert apply_frames(empty, frames).normalised() == fresh.normalised()


async def test_events_page_reports_the_cursor_and_whether_more_follow(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    room = await make_group(client, owner, [], name="페이지")
    rid = room["id"]
    start = (await get_room(client, owner, rid))["last_event_seq"]
    for i in range(5):
        await send(client, owner, rid, f"#{i}")
    page = await events(client, owner, rid, after=start, limit=2)
    assert [f["event_seq"] for f in page["events"]] == [start + 1, start + 2]
    assert (page["next_event_seq"], page["has_more"], page["too_far_behind"]) == (
        start + 2,
        True,
        False,
    )
    page = await events(client, owner, rid, after=start + 2, limit=10)
    assert [f["event_seq"] for f in page["events"]] == [start + 3, start + 4, start + 5]
    assert (page["next_event_seq"], page["has_more"]) == (start + 5, False)
    # Caught up: an empty page that keeps the cursor.
    page = await events(client, owner, rid, after=start + 5)
    assert page == {
        "events": [],
        "next_event_seq": start + 5,
        "has_more": False,
        "too_far_behind": False,
    }
    assert all(f["room_id"] == rid and f["type"] == "event" for f in page["events"])


async def test_a_client_too_far_behind_is_told_to_refetch(
    client: httpx.AsyncClient, admin: LoggedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_service, "MAX_RESUME_EVENTS", 5)
    owner = await create_user(client, admin)
    room = await make_group(client, owner, [], name="밀린 방")
    rid = room["id"]
    for i in range(8):
        await send(client, owner, rid, f"#{i}")
    last = (await get_room(client, owner, rid))["last_event_seq"]
    assert last > 5
    page = await events(client, owner, rid, after=0)
    assert (page["events"], page["has_more"], page["too_far_behind"]) == ([], False, True)
    page = await events(client, owner, rid, after=last - 6)
    assert page["too_far_behind"] is True
    page = await events(client, owner, rid, after=last - 5)
    assert page["too_far_behind"] is False
    assert [f["event_seq"] for f in page["events"]] == list(range(last - 4, last + 1))


async def test_a_non_member_cannot_read_the_events(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner = await create_user(client, admin)
    stranger = await create_user(client, admin)
    room = await make_group(client, owner, [], name="비공개")
    await send(client, owner, room["id"], "비밀")
    r = await client.get(f"/api/rooms/{room['id']}/events", headers=stranger.headers)
    body = assert_error(r, 404, "room_not_found")
    missing = await client.get("/api/rooms/999999/events", headers=stranger.headers)
    assert missing.json() == body
    assert "비밀" not in r.text


# --- history the reader may not see (history_visibility "joined") ------------------------------


async def _room_with_a_newcomer(
    client: httpx.AsyncClient, admin: LoggedIn
) -> tuple[LoggedIn, LoggedIn, LoggedIn, int, JSON]:
    owner = await create_user(client, admin)
    old_member = await create_user(client, admin)
    newcomer = await create_user(client, admin)
    room = await make_group(client, owner, [old_member], history_visibility="joined")
    rid = room["id"]
    secret = await send(client, owner, rid, "입사 전 비밀 이야기")
    await invite(client, owner, rid, newcomer)
    return owner, old_member, newcomer, rid, secret


async def _change_old_and_new(
    client: httpx.AsyncClient, owner: LoggedIn, old_member: LoggedIn, rid: int, secret: JSON
) -> JSON:
    """Changes to a message from before the newcomer joined, and to a new reply quoting it."""
    reply = await send(client, old_member, rid, "그 얘기 말이죠", reply_to_id=secret["id"])
    await _ok(await edit(client, old_member, rid, reply["id"], "그 얘기 말이죠 (수정)"))
    await _ok(await react(client, owner, rid, reply["id"], "check"))
    hidden = f"/api/rooms/{rid}/messages/{reply['id']}/hidden"
    await _ok(await client.put(hidden, json={"hidden": True}, headers=owner.headers))
    await _ok(await client.put(hidden, json={"hidden": False}, headers=owner.headers))
    await _ok(await edit(client, owner, rid, secret["id"], "입사 전 비밀 이야기 (수정)"))
    await _ok(await react(client, old_member, rid, secret["id"], "like"))
    return reply


async def test_live_frames_never_show_a_newcomer_what_came_before_them(
    client: httpx.AsyncClient, admin: LoggedIn, bus_log: BusLog
) -> None:
    owner, old_member, newcomer, rid, secret = await _room_with_a_newcomer(client, admin)
    cursor = (await get_room(client, newcomer, rid))["last_event_seq"]
    reply = await _change_old_and_new(client, owner, old_member, rid, secret)
    live = bus_log.of_room(rid, cursor)
    assert live, "no frames published"
    text = json.dumps(live, ensure_ascii=False)
    assert "비밀" not in text
    for frame in live:
        message = frame["event"].get("message")
        if message is not None and message["id"] == reply["id"]:
            assert message["reply_to"]["body"] is None, frame
    # The newcomer's own replay is just as careful, and the same holds for the newcomer's view.
    replay = await all_events(client, newcomer, rid, after=0)
    assert "비밀" not in json.dumps(replay, ensure_ascii=False)
    seen = await fetch_state(client, newcomer, rid)
    assert "비밀" not in json.dumps(seen.normalised(), ensure_ascii=False, default=list)


async def test_an_old_member_converges_from_restricted_live_frames_by_refetching(
    client: httpx.AsyncClient, admin: LoggedIn, bus_log: BusLog
) -> None:
    owner, old_member, _newcomer, rid, secret = await _room_with_a_newcomer(client, admin)
    stale = await fetch_state(client, old_member, rid)
    cursor = (await get_room(client, old_member, rid))["last_event_seq"]
    await _change_old_and_new(client, owner, old_member, rid, secret)
    live = bus_log.of_room(rid, cursor)
    state = apply_frames(stale, live)
    # A change without content names the message; a member who can read it fetches it again.
    restricted = {f["event"]["message_id"] for f in live if f["event"].get("restricted")}
    assert restricted == {secret["id"]}
    for message_id in restricted:
        state = apply_frames(
            state,
            [
                {
                    "type": "event",
                    "event": {
                        "kind": "message.updated",
                        "message": await get_message(client, old_member, rid, message_id),
                    },
                }
            ],
        )
    fresh = await fetch_state(client, old_member, rid)
    assert state.normalised() == fresh.normalised()
    # Their own replay needs no refetch: it is rendered for them.
    replay = await all_events(client, old_member, rid, after=cursor)
    assert not any(f["event"].get("restricted") for f in replay)
    assert apply_frames(stale, replay).normalised() == fresh.normalised()
