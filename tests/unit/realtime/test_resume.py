"""Resume: exactly the missed events, in order, once, with live events arriving meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sodam.domain.ids import RoomId
from sodam.realtime.connection import Connection
from sodam.realtime.hub import Hub
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.resume import resume
from sodam.services.context import Principal
from tests.unit.realtime.fakes import FakeDirectory, FakeEventLog, Page, connection, payload, queued

R1, R2, R3 = RoomId(1), RoomId(2), RoomId(3)
ME = 10


class HookedLog(FakeEventLog):
    """Runs ``before_answer`` while a read is in flight: live events arrive during the replay."""

    before_answer: Callable[[int], None] | None = None

    async def events_since(
        self, principal: Principal, room_id: RoomId, after_event_seq: int, limit: int = 200
    ) -> Page:
        page = await super().events_since(principal, room_id, after_event_seq, limit)
        if self.before_answer is not None:
            self.before_answer(room_id)
        return page


def setup(log: FakeEventLog, rooms: list[RoomId], **limits: Any) -> tuple[Hub, Connection]:
    lim = GatewayLimits(**limits)
    hub = Hub(log, FakeDirectory(), lim)  # type: ignore[arg-type]
    conn = connection(ME, lim)
    hub.register(conn, {room: log.head(room) for room in rooms})
    for room in rooms:
        log.members.setdefault(room, set()).add(ME)
    return hub, conn


def live_publish(hub: Hub, log: FakeEventLog, room_id: int, count: int = 1) -> None:
    """Commits events to the log and publishes them, as a send on another node would."""
    for frame in log.add(room_id, count):
        text, parsed = payload(frame)
        hub.on_room_frame(RoomId(room_id), text, parsed)


def summary(frames: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for f in frames:
        if f["type"] == "event":
            out.append(("event", f["room_id"], f["event_seq"]))
        else:
            out.append((f["type"], f.get("room_id")))
    return out


async def run(
    hub: Hub,
    conn: Connection,
    log: FakeEventLog,
    cursors: dict[int, int],
    limits: GatewayLimits | None = None,
) -> list[tuple[Any, ...]]:
    await resume(
        conn, hub, log, limits or GatewayLimits(), {RoomId(k): v for k, v in cursors.items()}
    )
    return summary(await queued(conn))


async def test_missed_events_are_replayed_in_order_then_resumed() -> None:
    log = FakeEventLog()
    log.add(1, 5)
    hub, conn = setup(log, [R1])
    got = await run(hub, conn, log, {1: 2})
    assert got == [("event", 1, 3), ("event", 1, 4), ("event", 1, 5), ("resumed", None)]


async def test_replay_is_paged() -> None:
    log = FakeEventLog()
    log.add(1, 5)
    hub, conn = setup(log, [R1])
    limits = GatewayLimits(resume_page_size=2)
    got = await run(hub, conn, log, {1: 0}, limits)
    assert [g[2] for g in got if g[0] == "event"] == [1, 2, 3, 4, 5]
    assert [c[2] for c in log.calls] == [0, 2, 4]


async def test_live_events_during_the_replay_are_not_lost_repeated_or_reordered() -> None:
    log = HookedLog()
    log.add(1, 3)
    hub, conn = setup(log, [R1])
    hub.set_room_base(R1, 3)
    live_publish(hub, log, 1)  # 4 arrives before the resume frame
    rounds = iter([2, 1, 0, 0, 0])
    # While each read is in flight, more events commit and are published live.
    log.before_answer = lambda room: live_publish(hub, log, room, next(rounds))
    got = await run(hub, conn, log, {1: 1}, GatewayLimits(resume_page_size=2))
    events = [g[2] for g in got if g[0] == "event"]
    assert events == list(range(2, log.head(1) + 1))
    assert got[-1] == ("resumed", None)
    live_publish(hub, log, 1)
    assert [g[2] for g in summary(await queued(conn))] == [log.head(1)]


async def test_live_events_before_the_resume_frame_are_held_not_sent() -> None:
    log = FakeEventLog()
    hub, conn = setup(log, [R1])
    live_publish(hub, log, 1, 2)
    assert await queued(conn) == []
    got = await run(hub, conn, log, {1: 0})
    assert got == [("event", 1, 1), ("event", 1, 2), ("resumed", None)]


async def test_a_room_too_far_behind_gets_resync_required() -> None:
    log = FakeEventLog(too_far=3)
    log.add(1, 10)
    hub, conn = setup(log, [R1])
    got = await run(hub, conn, log, {1: 1})
    assert got == [("resync_required", 1), ("resumed", None)]


async def test_resume_max_events_caps_a_long_replay() -> None:
    log = FakeEventLog()
    log.add(1, 10)
    hub, conn = setup(log, [R1])
    got = await run(hub, conn, log, {1: 0}, GatewayLimits(resume_page_size=4, resume_max_events=6))
    assert got[-2:] == [("resync_required", 1), ("resumed", None)]
    assert [g[2] for g in got if g[0] == "event"] == [1, 2, 3, 4]


async def test_rooms_left_while_offline_are_removed_and_new_rooms_added() -> None:
    log = FakeEventLog()
    log.add(3, 2)
    log.add(2, 2)
    hub, conn = setup(log, [R1, R2])
    log.members[3] = {99}  # the user was in room 3 once; not any more
    got = await run(hub, conn, log, {1: 0, 3: 0})
    assert got == [("room.removed", 3), ("room.added", 2), ("resumed", None)]
    assert not any(c[1] == 3 for c in log.calls)  # nothing of room 3 was even read


async def test_removal_during_the_replay_stops_the_room_at_once() -> None:
    log = HookedLog()
    log.add(1, 6)
    hub, conn = setup(log, [R1])

    def kicked(room: int) -> None:
        text, frame = payload({"type": "room.removed", "room_id": room})
        hub.on_user_frame(conn.user_id, text, frame)
        log.members[room].discard(ME)

    log.before_answer = kicked
    got = await run(hub, conn, log, {1: 0}, GatewayLimits(resume_page_size=2))
    assert got == [("room.removed", 1), ("resumed", None)]


async def test_room_joined_during_the_resume_goes_live_with_what_it_held() -> None:
    log = HookedLog()
    log.add(1, 1)
    hub, conn = setup(log, [R1])

    def joined(_room: int) -> None:
        log.before_answer = None
        frame = log.add(3, 1, "member.joined")[0]
        frame["event"]["user_id"] = ME
        text, parsed = payload(frame)
        hub.on_room_frame(R3, text, parsed)

    log.before_answer = joined
    got = await run(hub, conn, log, {1: 0})
    assert got == [("event", 1, 1), ("event", 3, 1), ("resumed", None)]
