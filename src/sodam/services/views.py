"""Assembles what members see of messages: mentions, reactions, reply quotes and unread counts.

Every path that shows messages (history, send acks, live events, resume) goes through here, so
tombstones, hidden messages and quotes look the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from sodam.db import files as files_repo
from sodam.db import messages as messages_repo
from sodam.db import reads as reads_repo
from sodam.domain.ids import RoomId
from sodam.domain.messages import Message, MessageView, ReplyPreview, reply_preview_text
from sodam.domain.unread import unread_counts


def build_views_txn(
    conn: sa.Connection,
    room_id: RoomId,
    msgs: Sequence[Message],
    *,
    viewer_visible_from_seq: int = 0,
    requires_clean: bool = True,
) -> list[MessageView]:
    """Views of messages of one room, with unread counts computed from read positions.

    A quote of a message before ``viewer_visible_from_seq`` (history the viewer may not read) is
    shown without its text. ``requires_clean`` is files.download_requires_clean (it decides
    each attachment's "downloadable" flag).
    """
    if not msgs:
        return []
    ids = [m.id for m in msgs]
    mentions = messages_repo.select_mentions(conn, ids)
    reactions = messages_repo.select_reactions(conn, ids)
    reply_ids = [m.reply_to_id for m in msgs if m.reply_to_id is not None and not m.is_unsent]
    replies = messages_repo.select_messages_by_id(conn, reply_ids)
    laggards = reads_repo.select_laggards(conn, room_id, max(m.seq for m in msgs))
    file_ids = [m.id for m in msgs if m.kind == "file" and not m.is_unsent]
    quoted_files = {r.id for r in replies.values() if r.kind == "file"} - set(file_ids)
    file_ids += sorted(quoted_files)  # the quotes name the files of the messages they quote
    files = files_repo.select_attachments_for_messages(conn, file_ids) if file_ids else {}
    counts = unread_counts(((m.seq, m.sender_id) for m in msgs), laggards)
    views: list[MessageView] = []
    for m in msgs:
        reply = None
        if m.reply_to_id is not None and m.reply_to_id in replies:
            target = replies[m.reply_to_id]
            readable = (
                target.room_id == room_id
                and target.seq >= viewer_visible_from_seq
                and not target.is_unsent
                and target.hidden_at is None
            )
            reply = ReplyPreview(
                id=target.id,
                seq=target.seq,
                sender_id=target.sender_id if not target.is_unsent else None,
                body=reply_preview_text(target.body) if readable else None,
                kind=target.kind if readable else None,
                files=tuple(
                    (a.kind, a.file_name) for a in files.get(target.id, ()) if a.deleted_at is None
                )
                if readable
                else (),
            )
        views.append(
            MessageView(
                message=m,
                mentions=mentions.get(m.id, ()),
                reactions=reactions.get(m.id, ()),
                reply_to=reply,
                unread_count=0 if m.kind == "system" else counts.get(m.seq, 0),
                attachments=files.get(m.id, ()),
                requires_clean=requires_clean,
            )
        )
    return views
