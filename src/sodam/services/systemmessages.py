"""System messages (초대, 나감, 내보냄 notices) posted inside a use case's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from sodam.db import messages as messages_repo
from sodam.db import rooms as rooms_repo
from sodam.domain.events import room_frame
from sodam.domain.ids import RoomId
from sodam.domain.messages import Message, MessageView
from sodam.services.roomlog import Outgoing


def post_system_message_txn(
    conn: sa.Connection, out: Outgoing, room_id: RoomId, meta: dict[str, Any], now: dt.datetime
) -> Message:
    """A message with kind "system" and structured ``meta`` that clients render in Korean or
    English (e.g. {"event": "invited", "actor_id": 1, "user_ids": [2, 3]})."""
    seq, event_seq = rooms_repo.next_seqs(conn, room_id, message=True, now=now)
    message = messages_repo.insert_message(
        conn,
        room_id=room_id,
        seq=seq,
        event_seq=event_seq,
        sender_id=None,
        client_msg_id=None,
        kind="system",
        body=None,
        meta=meta,
        reply_to_id=None,
        forwarded_from_id=None,
        mentions_all=False,
        now=now,
    )
    out.to_room(
        room_id,
        room_frame(
            room_id,
            event_seq,
            {
                "kind": "message.created",
                "message": MessageView(message=message).to_wire(),
            },
        ),
    )
    return message
