"""Read state over HTTP (product.md R2, R3; reliability.md §4 read markers): monotonic read
positions, mark as unread, KakaoTalk's unread count beside each message, who has not read."""

from __future__ import annotations

import httpx

from tests.support.factories import LoggedIn, create_user, login
from tests.support.messaging import (
    assert_error,
    get_room,
    history,
    invite,
    make_group,
    mark_read,
    room_list,
    send,
)


async def _room_with(
    client: httpx.AsyncClient, admin: LoggedIn, n_members: int
) -> tuple[LoggedIn, list[LoggedIn], int]:
    owner = await create_user(client, admin)
    others = [await create_user(client, admin) for _ in range(n_members)]
    room = await make_group(client, owner, others)
    return owner, others, room["id"]


async def _mark_unread(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, seq: int
) -> dict[str, int]:
    r = await client.post(f"/api/rooms/{room_id}/unread", json={"seq": seq}, headers=user.headers)
    assert r.status_code == 200, r.text
    state: dict[str, int] = r.json()
    return state


async def _unread_members(
    client: httpx.AsyncClient, user: LoggedIn, room_id: int, message_id: int, **params: int
) -> dict[str, object]:
    r = await client.get(
        f"/api/rooms/{room_id}/messages/{message_id}/unread-members",
        params=params,
        headers=user.headers,
    )
    assert r.status_code == 200, r.text
    page: dict[str, object] = r.json()
    return page


# --- the read position -------------------------------------------------------------------------


async def test_mark_read_moves_forward_and_answers_the_new_state(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    for i in range(5):
        await send(client, owner, rid, f"#{i}")
    assert await mark_read(client, reader, rid, 3) == {
        "room_id": rid,
        "last_read_seq": 3,
        "unread_count": 2,
    }
    room = await get_room(client, reader, rid)
    assert (room["last_read_seq"], room["unread_count"]) == (3, 2)


async def test_mark_read_never_moves_back(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    for i in range(5):
        await send(client, owner, rid, f"#{i}")
    await mark_read(client, reader, rid, 4)
    for lower in (4, 2, 0):
        assert await mark_read(client, reader, rid, lower) == {
            "room_id": rid,
            "last_read_seq": 4,
            "unread_count": 1,
        }
    assert (await get_room(client, reader, rid))["last_read_seq"] == 4


async def test_a_future_seq_is_clamped_to_the_newest_message(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    for i in range(3):
        await send(client, owner, rid, f"#{i}")
    assert (await mark_read(client, reader, rid, 10**12))["last_read_seq"] == 3
    # A message sent later is unread again.
    await send(client, owner, rid, "새 메시지")
    room = await get_room(client, reader, rid)
    assert (room["last_read_seq"], room["unread_count"]) == (3, 1)


async def test_mark_unread_moves_back_from_the_given_message(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    for i in range(5):
        await send(client, owner, rid, f"#{i}")
    await mark_read(client, reader, rid, 5)
    assert await _mark_unread(client, reader, rid, 2) == {
        "room_id": rid,
        "last_read_seq": 1,
        "unread_count": 4,
    }
    room = await get_room(client, reader, rid)
    assert (room["last_read_seq"], room["unread_count"]) == (1, 4)
    # Reading again works from there.
    assert (await mark_read(client, reader, rid, 3))["last_read_seq"] == 3


async def test_mark_unread_never_goes_before_joining(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _, rid = await _room_with(client, admin, 0)
    for i in range(4):
        await send(client, owner, rid, f"#{i}")
    newcomer = await create_user(client, admin)
    await invite(client, owner, rid, newcomer)  # joins at seq 4; the invite notice is seq 5
    room = await get_room(client, newcomer, rid)
    assert (room["last_read_seq"], room["unread_count"]) == (4, 1)
    assert (await _mark_unread(client, newcomer, rid, 1))["last_read_seq"] == 4
    assert (await _mark_unread(client, newcomer, rid, 0))["last_read_seq"] == 4


async def test_mark_unread_past_the_newest_message_is_clamped(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    for i in range(3):
        await send(client, owner, rid, f"#{i}")
    assert (await _mark_unread(client, reader, rid, 10**9))["last_read_seq"] == 3


async def test_sending_marks_ones_own_message_read(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (other,), rid = await _room_with(client, admin, 1)
    await send(client, other, rid, "먼저")
    await send(client, owner, rid, "답")
    room = await get_room(client, owner, rid)
    assert (room["last_read_seq"], room["unread_count"]) == (2, 0)


# --- unread counts beside messages (R2) --------------------------------------------------------


async def test_unread_count_beside_each_message_falls_as_members_read(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (a, b, c), rid = await _room_with(client, admin, 3)
    for i in range(3):
        await send(client, owner, rid, f"#{i}")

    async def counts() -> list[int]:
        return [m["unread_count"] for m in (await history(client, owner, rid))["messages"]]

    assert await counts() == [3, 3, 3]
    await mark_read(client, a, rid, 2)
    assert await counts() == [2, 2, 3]
    await mark_read(client, b, rid, 3)
    assert await counts() == [1, 1, 2]
    await mark_read(client, c, rid, 1)
    assert await counts() == [0, 1, 2]
    await mark_read(client, a, rid, 3)
    await mark_read(client, c, rid, 3)
    assert await counts() == [0, 0, 0]
    # Everyone sees the same numbers.
    assert [m["unread_count"] for m in (await history(client, c, rid))["messages"]] == [0, 0, 0]


async def test_the_sender_never_counts_for_their_own_message(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    message = await send(client, owner, rid, "내 메시지")
    await _mark_unread(client, owner, rid, message["seq"])  # the sender's position is now 0
    assert (await history(client, reader, rid))["messages"][0]["unread_count"] == 1
    await mark_read(client, reader, rid, message["seq"])
    assert (await history(client, reader, rid))["messages"][0]["unread_count"] == 0


async def test_members_who_join_later_do_not_count_for_older_messages(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, _, rid = await _room_with(client, admin, 1)
    old = await send(client, owner, rid, "예전 메시지")
    newcomer = await create_user(client, admin)
    await invite(client, owner, rid, newcomer)
    new = await send(client, owner, rid, "새 메시지")
    by_id = {m["id"]: m for m in (await history(client, owner, rid))["messages"]}
    assert by_id[old["id"]]["unread_count"] == 1  # only the reader
    assert by_id[new["id"]]["unread_count"] == 2  # the reader and the newcomer


async def test_members_who_leave_stop_counting(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, (stays, leaves), rid = await _room_with(client, admin, 2)
    message = await send(client, owner, rid, "공지")
    assert message["unread_count"] == 2
    r = await client.delete(
        f"/api/rooms/{rid}/members/me", params={"quiet": "true"}, headers=leaves.headers
    )
    assert r.status_code == 204
    assert (await history(client, stays, rid))["messages"][0]["unread_count"] == 1


async def test_system_messages_show_no_unread_count(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (member,), rid = await _room_with(client, admin, 1)
    await invite(client, owner, rid, await create_user(client, admin))
    notice = (await history(client, member, rid))["messages"][-1]
    assert (notice["kind"], notice["unread_count"]) == ("system", 0)


# --- read positions and who has not read -------------------------------------------------------


async def test_read_positions_list_every_member(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    owner, (a, b), rid = await _room_with(client, admin, 2)
    for i in range(4):
        await send(client, owner, rid, f"#{i}")
    await mark_read(client, a, rid, 2)
    r = await client.get(f"/api/rooms/{rid}/reads", headers=b.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "reads": [
            {"user_id": owner.user_id, "last_read_seq": 4},
            {"user_id": a.user_id, "last_read_seq": 2},
            {"user_id": b.user_id, "last_read_seq": 0},
        ]
    }


async def test_unread_members_are_paged_and_leave_out_the_sender(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, readers, rid = await _room_with(client, admin, 5)
    message = await send(client, owner, rid, "다들 읽어 주세요")
    await _mark_unread(client, owner, rid, message["seq"])  # the sender is still not listed
    await mark_read(client, readers[1], rid, message["seq"])
    await mark_read(client, readers[3], rid, message["seq"])
    expected = sorted(r.user_id for i, r in enumerate(readers) if i not in (1, 3))

    first = await _unread_members(client, readers[0], rid, message["id"], limit=2)
    assert first == {"user_ids": expected[:2], "next_after_user_id": expected[1]}
    second = await _unread_members(
        client, readers[0], rid, message["id"], limit=2, after_user_id=expected[1]
    )
    assert second == {"user_ids": expected[2:], "next_after_user_id": None}
    everyone = await _unread_members(client, owner, rid, message["id"])
    assert everyone == {"user_ids": expected, "next_after_user_id": None}


async def test_unread_members_of_a_message_everyone_read_is_empty(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    message = await send(client, owner, rid, "확인")
    await mark_read(client, reader, rid, message["seq"])
    page = await _unread_members(client, owner, rid, message["id"])
    assert page == {"user_ids": [], "next_after_user_id": None}


async def test_unread_members_of_a_message_in_another_room_is_not_found(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    other = await make_group(client, owner, [reader])
    foreign = await send(client, owner, other["id"], "다른 방")
    r = await client.get(
        f"/api/rooms/{rid}/messages/{foreign['id']}/unread-members", headers=owner.headers
    )
    assert_error(r, 404, "message_not_found")


# --- the room list (R1, R3) --------------------------------------------------------------------


async def test_reading_clears_the_rooms_badge_in_the_room_list(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    other = await make_group(client, owner, [reader])
    for i in range(3):
        await send(client, owner, rid, f"#{i}")
    await send(client, owner, other["id"], "다른 방")
    listed = await room_list(client, reader)
    assert {r["id"]: r["unread_count"] for r in listed["rooms"]} == {rid: 3, other["id"]: 1}
    assert listed["total_unread"] == 4
    await mark_read(client, reader, rid, 3)
    listed = await room_list(client, reader)
    assert {r["id"]: r["unread_count"] for r in listed["rooms"]} == {rid: 0, other["id"]: 1}
    assert listed["total_unread"] == 1


async def test_read_position_is_the_same_on_every_device(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    owner, (reader,), rid = await _room_with(client, admin, 1)
    for i in range(3):
        await send(client, owner, rid, f"#{i}")
    phone = await login(client, reader.username)
    await mark_read(client, phone, rid, 3)
    assert (await get_room(client, reader, rid))["unread_count"] == 0
