"""Node fan-out: who receives what (I5), in what order (I3), and what membership changes do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sodam.domain.ids import RoomId
from sodam.realtime.connection import Connection
from sodam.realtime.frames import CloseCode
from sodam.realtime.hub import Hub
from sodam.realtime.limits import GatewayLimits
from tests.unit.realtime.fakes import (
    FakeDirectory,
    FakeEventLog,
    Page,
    connection,
    event,
    payload,
    queued,
)

R1, R2 = RoomId(1), RoomId(2)


def make_hub(log: FakeEventLog | None = None, **limits: int) -> Hub:
    return Hub(log or FakeEventLog(), FakeDirectory(), GatewayLimits(**limits))  # type: ignore[arg-type]


def live(hub: Hub, user_id: int, rooms: list[RoomId], **kw: object) -> Connection:
    """A resumed socket of a user in ``rooms``, each room at head 0 when the user arrives."""
    conn = connection(user_id, **kw)  # type: ignore[arg-type]
    hub.register(conn, dict.fromkeys(rooms, 0))
    conn.finish_resume()
    return conn


def publish(hub: Hub, frame: dict[str, object]) -> None:
    text, parsed = payload(frame)
    hub.on_room_frame(RoomId(int(str(frame["room_id"]))), text, parsed)


def seqs(frames: list[dict[str, object]]) -> list[object]:
    return [f["event_seq"] for f in frames if f["type"] == "event"]


async def settle(hub: Hub, room_id: RoomId) -> None:
    state = hub.rooms.get(room_id)
    if state is not None and state.filler is not None:
        await asyncio.wait_for(state.filler, 5)


async def test_room_event_reaches_only_local_members() -> None:
    hub = make_hub()
    a = live(hub, 10, [R1])
    b = live(hub, 20, [R2])
    publish(hub, event(1, 1))
    assert seqs(await queued(a)) == [1]
    assert await queued(b) == []


async def test_every_socket_of_a_member_gets_the_same_serialised_frame() -> None:
    hub = make_hub()
    a1 = live(hub, 10, [R1])
    a2 = live(hub, 10, [R1])
    text, parsed = payload(event(1, 1))
    hub.on_room_frame(R1, text, parsed)
    first, second = await a1.queue.get(), await a2.queue.get()
    assert first is second is text  # serialised once per broadcast


async def test_duplicates_are_dropped_and_reordered_events_are_put_back_in_order() -> None:
    hub = make_hub()
    a = live(hub, 10, [R1])
    publish(hub, event(1, 1))
    publish(hub, event(1, 1))
    publish(hub, event(1, 3))
    publish(hub, event(1, 2))
    await settle(hub, R1)
    assert seqs(await queued(a)) == [1, 2, 3]


async def test_a_lost_event_is_filled_from_the_database_before_later_ones() -> None:
    log = FakeEventLog()
    frames = log.add(1, 5)
    hub = make_hub(log)
    a = live(hub, 10, [R1])
    publish(hub, frames[0])
    publish(hub, frames[4])  # 2..4 were lost by the bus
    await settle(hub, R1)
    got = await queued(a)
    assert seqs(got) == [1, 2, 3, 4, 5]
    assert ("after", 1, 1) in log.calls
    assert hub.gaps_filled >= 1


async def test_an_event_arriving_during_a_fill_waits_for_what_the_read_could_not_see() -> None:
    # Two nodes: 5 reaches this node while the fill reads the database, and the read's snapshot
    # predates the commit of 4 (committed before 5 was published). The read ending without 4
    # does not mean 4 does not exist: skipping to 5 would lose 4 for good (bench/chat, two nodes).
    log = FakeEventLog()
    frames = log.add(1, 5)
    hub = make_hub(log)
    a = live(hub, 10, [R1])
    read_after = log.events_after
    stale = True

    async def events_after(room_id: RoomId, after: int, limit: int = 200) -> Page:
        nonlocal stale
        if not stale:
            return await read_after(room_id, after, limit)
        stale = False
        publish(hub, frames[4])  # 5 arrives while the read runs
        return Page(frames[1:3], 3, False)  # the read saw 2 and 3 only

    log.events_after = events_after  # type: ignore[method-assign]
    publish(hub, frames[0])
    publish(hub, frames[2])  # 2 was lost by the bus
    await settle(hub, R1)
    assert seqs(await queued(a)) == [1, 2, 3, 4, 5]


async def test_a_gap_too_large_to_replay_asks_clients_to_resync() -> None:
    log = FakeEventLog()
    frames = log.add(1, 30)
    hub = make_hub(log, gap_fill_max_events=5)
    a = live(hub, 10, [R1])
    publish(hub, frames[0])
    publish(hub, frames[29])
    await settle(hub, R1)
    got = await queued(a)
    assert [f["type"] for f in got] == ["event", "resync_required", "event"]
    assert seqs(got) == [1, 30]


async def test_member_left_is_delivered_to_the_leaver_then_nothing_more() -> None:
    hub = make_hub()
    stays = live(hub, 10, [R1])
    leaves = live(hub, 20, [R1])
    publish(hub, event(1, 1))
    publish(hub, event(1, 2, "member.left", user_id=20, reason="kicked"))
    publish(hub, event(1, 3))
    assert seqs(await queued(stays)) == [1, 2, 3]
    assert seqs(await queued(leaves)) == [1, 2]
    assert not hub.is_member(leaves.user_id, R1)


async def test_member_left_arriving_late_is_still_applied_before_later_events() -> None:
    log = FakeEventLog()
    log.add(1, 1)
    log.events[1].append(event(1, 2, "member.left", user_id=20))
    log.add(1, 1)
    hub = make_hub(log)
    stays = live(hub, 10, [R1])
    leaves = live(hub, 20, [R1])
    publish(hub, log.events[1][0])
    publish(hub, log.events[1][2])  # seq 3 first: the kick (2) is missing
    await settle(hub, R1)
    assert seqs(await queued(leaves)) == [1, 2]
    assert seqs(await queued(stays)) == [1, 2, 3]


async def test_member_joined_subscribes_the_user_from_that_event() -> None:
    hub = make_hub()
    old = live(hub, 10, [R1])
    joiner = live(hub, 20, [])
    publish(hub, event(1, 1))
    publish(hub, event(1, 2, "member.joined", user_id=20))
    publish(hub, event(1, 3))
    assert seqs(await queued(joiner)) == [2, 3]
    assert seqs(await queued(old)) == [1, 2, 3]


async def test_join_into_a_room_nobody_here_was_in_starts_tracking_it() -> None:
    hub = make_hub()
    joiner = live(hub, 20, [])
    publish(hub, event(2, 40))  # not tracked: ignored
    publish(hub, event(2, 41, "member.joined", user_id=20))
    publish(hub, event(2, 42))
    assert seqs(await queued(joiner)) == [41, 42]


async def test_ephemeral_frames_reach_members_and_typing_skips_the_typer() -> None:
    hub = make_hub()
    a = live(hub, 10, [R1])
    b = live(hub, 20, [R1])
    outsider = live(hub, 30, [R2])
    publish(hub, {"type": "typing", "room_id": 1, "user_id": 10})
    publish(hub, {"type": "read", "room_id": 1, "reads": [{"user_id": 10, "last_read_seq": 4}]})
    assert [f["type"] for f in await queued(a)] == ["read"]
    assert [f["type"] for f in await queued(b)] == ["typing", "read"]
    assert await queued(outsider) == []


async def test_sessions_revoked_closes_only_the_named_sessions() -> None:
    hub = make_hub()
    closed: list[Connection] = []
    phone = live(hub, 10, [R1], session="phone", closed=closed)
    laptop = live(hub, 10, [R1], session="laptop", closed=closed)
    text, frame = payload(
        {
            "type": "sessions.revoked",
            "user_id": 10,
            "session_ids": [phone.session_id],
            "all_sessions": False,
            "reason": "logout",
        }
    )
    hub.on_user_frame(phone.user_id, text, frame)
    assert phone.closing and phone.close_code == CloseCode.SESSION_ENDED
    assert not laptop.closing
    text, frame = payload(
        {
            "type": "sessions.revoked",
            "user_id": 10,
            "session_ids": [],
            "all_sessions": True,
            "reason": "deactivated",
        }
    )
    hub.on_user_frame(laptop.user_id, text, frame)
    assert laptop.closing
    assert closed == [phone, laptop]


async def test_room_removed_on_the_user_topic_unsubscribes_and_is_forwarded() -> None:
    hub = make_hub()
    a = live(hub, 10, [R1])
    text, frame = payload({"type": "room.removed", "room_id": 1, "reason": "kicked"})
    hub.on_user_frame(a.user_id, text, frame)
    publish(hub, event(1, 9))
    assert [f["type"] for f in await queued(a)] == ["room.removed"]
    assert R1 not in hub.rooms  # nobody local left: the room's state is freed


async def test_room_added_is_checked_against_the_database_before_subscribing() -> None:
    directory = FakeDirectory({10: [R1]})
    hub = Hub(FakeEventLog(), directory, GatewayLimits())  # type: ignore[arg-type]
    a = connection(10)
    hub.register(a, {})
    a.finish_resume()
    for room in (1, 2):  # the user is really in room 1 only
        text, frame = payload({"type": "room.added", "room_id": room})
        hub.on_user_frame(a.user_id, text, frame)
    await asyncio.gather(*hub._tasks)
    assert hub.rooms_of(a.user_id) == {R1}
    assert [f["type"] for f in await queued(a)] == ["room.added", "room.added"]


async def test_last_socket_leaving_frees_the_users_rooms() -> None:
    hub = make_hub()
    a1 = live(hub, 10, [R1, R2])
    a2 = live(hub, 10, [R1, R2])
    hub.unregister(a1)
    assert hub.rooms_of(a2.user_id) == {R1, R2}
    hub.unregister(a2)
    assert hub.users == {} and hub.rooms == {}


async def test_slow_consumer_is_closed_for_resync_instead_of_growing() -> None:
    limits = GatewayLimits(queue_max_frames=5, ephemeral_max_frames=2)
    hub = make_hub()
    closed: list[Connection] = []
    slow = live(hub, 10, [R1], limits=limits, closed=closed)
    for seq in range(1, 7):
        publish(hub, event(1, seq))
    assert slow.closing and slow.close_code == CloseCode.RESYNC
    assert len(slow.queue) == 0  # freed at once
    assert closed == [slow]


def hub_on(log: FakeEventLog, **limits: int) -> tuple[Hub, FakeDirectory]:
    directory = FakeDirectory(log=log)
    return Hub(log, directory, GatewayLimits(**limits)), directory  # type: ignore[arg-type]


async def test_a_newly_tracked_room_starts_at_its_head_so_its_first_events_are_checked() -> None:
    log = FakeEventLog()
    log.add(1, 3)
    hub, _directory = hub_on(log)
    a = connection(10)
    hub.register(a, {R1: log.head(1)})  # at 3 when the user's first socket authenticated
    a.finish_resume()
    frames = log.add(1, 2)  # 4 is lost by the bus; 5 arrives
    publish(hub, frames[1])
    await settle(hub, R1)
    assert seqs(await queued(a)) == [4, 5]


async def test_check_heads_fills_a_lost_last_event() -> None:
    log = FakeEventLog()
    hub, directory = hub_on(log)
    a = connection(10)
    hub.register(a, {R1: 0, R2: 0})
    a.finish_resume()
    first, _lost = log.add(1, 2)
    publish(hub, first)  # the last event (2) never comes: Redis lost it, nothing follows
    assert await hub.check_heads(grace_s=0) == 1
    await settle(hub, R1)
    assert seqs(await queued(a)) == [1, 2]
    assert directory.head_queries == [{1, 2}]  # one query for every room with local members
    assert await hub.check_heads(grace_s=0) == 0  # caught up: nothing to do


async def test_check_heads_leaves_alone_what_the_bus_delivers_during_the_grace() -> None:
    log = FakeEventLog()
    hub, _directory = hub_on(log)
    a = live(hub, 10, [R1])
    (late,) = log.add(1, 1)
    check = asyncio.create_task(hub.check_heads(grace_s=0.05))
    await wait_until(lambda: bool(_directory.head_queries))
    publish(hub, late)  # the bus was just slower than the database
    assert await check == 0
    assert ("after", 1, 0) not in log.calls
    assert seqs(await queued(a)) == [1]


async def test_check_heads_reads_rooms_in_batches_and_only_rooms_with_local_members() -> None:
    log = FakeEventLog()
    hub, directory = hub_on(log)
    rooms = [RoomId(r) for r in range(1, 1101)]
    a = live(hub, 10, rooms)
    hub.unregister(live(hub, 20, [RoomId(5000)]))  # gone: its room is not tracked any more
    await hub.check_heads(grace_s=0)
    assert [len(q) for q in directory.head_queries] == [500, 500, 100]
    assert set().union(*directory.head_queries) == set(range(1, 1101))
    assert not a.closing


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")
