"""Resume: after (re)connecting, the client sends its cursor per room and gets exactly what it
missed (docs/protocol.md "Resume").

For each room the user is a member of *now*:
- listed with a cursor: the events after it, from the database, page by page, each page waiting
  until the socket's queue has drained (never an unbounded burst); a room too far behind gets
  ``resync_required`` instead (the client refetches it over REST);
- not listed (joined while offline): ``room.added``.
Rooms the client listed but is no longer in get ``room.removed`` and nothing of their content.

Live events of a room that arrive during its replay are held by the connection; the replay ends by
handing over at the replayed cursor (``Connection.go_live``), so every event is sent once, in
order. Then ``resumed``.
"""

from __future__ import annotations

import logging

from sodam.domain.ids import RoomId
from sodam.errors import AppError, NotFound
from sodam.realtime.connection import Connection
from sodam.realtime.frames import encode
from sodam.realtime.hub import Hub
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.ports import EventLog

logger = logging.getLogger(__name__)

MAX_HANDOVER_ROUNDS = 3  # extra reads when held live events are ahead of the replay


async def resume(
    conn: Connection,
    hub: Hub,
    events: EventLog,
    limits: GatewayLimits,
    cursors: dict[RoomId, int],
    ref: str | None = None,
) -> None:
    member_of = hub.rooms_of(conn.user_id)
    for room_id in sorted(set(cursors) - member_of):
        await _pace(conn, limits)
        conn.send(
            encode({"type": "room.removed", "room_id": room_id, "reason": "not_member"}),
            event=True,
        )
    for room_id in sorted(member_of - set(cursors)):
        await _pace(conn, limits)
        if hub.is_member(conn.user_id, room_id):
            conn.send(encode({"type": "room.added", "room_id": room_id}), event=True)
            _hand_over(conn, hub, room_id, None)
    for room_id in sorted(member_of & set(cursors)):
        if conn.closing:
            return
        await _replay_room(conn, hub, events, limits, room_id, cursors[room_id])
    # Rooms joined while the replay ran were held too: they go live now.
    for room_id in conn.held_rooms():
        if hub.is_member(conn.user_id, room_id):
            _hand_over(conn, hub, room_id, None)
        else:
            conn.room_removed(room_id)
    conn.finish_resume()
    conn.send(encode({"type": "resumed", "ref": ref}))


async def _replay_room(
    conn: Connection,
    hub: Hub,
    events: EventLog,
    limits: GatewayLimits,
    room_id: RoomId,
    cursor: int,
) -> None:
    sent = 0
    extra_rounds = 0
    while not conn.closing:
        await _pace(conn, limits)
        try:
            page = await events.events_since(
                conn.principal, room_id, cursor, limits.resume_page_size
            )
        except NotFound:
            page = None
        except AppError:
            logger.warning("resume read failed; the client is told to refetch the room")
            page = None
            if hub.is_member(conn.user_id, room_id):
                _resync(conn, hub, room_id)
                return
        if conn.closing:
            return
        if page is None or not hub.is_member(conn.user_id, room_id):
            # Removed while replaying: nothing more of this room (the hub sent room.removed).
            conn.room_removed(room_id)
            return
        if page.too_far_behind or sent + len(page.frames) > limits.resume_max_events:
            _resync(conn, hub, room_id)
            return
        for frame in page.frames:
            if not conn.send(encode(frame), event=True):
                return
        sent += len(page.frames)
        cursor = max(cursor, page.next_event_seq)
        if page.has_more and page.frames:
            continue
        first_held = conn.first_held_seq(room_id)
        if (
            first_held is not None
            and first_held > cursor + 1
            and extra_rounds < MAX_HANDOVER_ROUNDS
        ):
            extra_rounds += 1  # live events ran ahead of what this read saw: read again
            continue
        _hand_over(conn, hub, room_id, cursor)
        return


async def _pace(conn: Connection, limits: GatewayLimits) -> None:
    """Backpressure: a page (and the live events held behind it) always fits in the queue."""
    if len(conn.queue) > limits.queue_max_frames // 4:
        await conn.queue.wait_below(limits.queue_max_frames // 4)


def _resync(conn: Connection, hub: Hub, room_id: RoomId) -> None:
    conn.send(encode({"type": "resync_required", "room_id": room_id}), event=True)
    _hand_over(conn, hub, room_id, None)


def _hand_over(conn: Connection, hub: Hub, room_id: RoomId, cursor: int | None) -> None:
    """The room goes live on this socket; the node adopts the position if it had none."""
    last = conn.go_live(room_id, cursor)
    if last is None:
        return
    node_last = hub.room_last(room_id)
    if node_last is None:
        hub.set_room_base(room_id, last)
    elif node_last < last:
        # The node has not yet delivered events this socket already got from the database.
        conn.note_floor(room_id, last)
