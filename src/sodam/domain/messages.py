"""Messages, their wire shape, mentions and reactions.

A message body is plain text. Mentions are written in the body as ``<@123>`` (a user id) and
``<@all>``; the server derives the mention list from the body (a client never supplies it) and
clients render the tokens as "@표시 이름".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sodam.domain.attachments import Attachment, attachment_wire
from sodam.domain.ids import MessageId, RoomId, UserId

MessageKind = Literal["text", "system", "file"]
REACTIONS = ("heart", "like", "check", "laugh", "surprise", "sad")  # KakaoTalk's 공감
CLIENT_MSG_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_MENTION_RE = re.compile(r"<@(all|[0-9]{1,18})>")
REPLY_PREVIEW_CHARS = 100


@dataclass(frozen=True, slots=True)
class Message:
    id: MessageId
    room_id: RoomId
    seq: int
    event_seq: int
    sender_id: UserId | None
    client_msg_id: str | None
    kind: MessageKind
    body: str | None
    meta: dict[str, Any] | None
    reply_to_id: MessageId | None
    forwarded_from_id: MessageId | None
    mentions_all: bool
    created_at: dt.datetime
    edited_at: dt.datetime | None
    deleted_at: dt.datetime | None
    hidden_at: dt.datetime | None

    @property
    def is_unsent(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class ReactionSummary:
    reaction: str
    count: int
    user_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReplyPreview:
    id: MessageId
    seq: int
    sender_id: UserId | None
    body: str | None  # None when the quoted message was unsent or hidden
    # The quoted message's kind and its files (kind, name), when it is readable: a quote of a
    # file message without a caption shows 사진 / 파일: name instead of an empty line.
    kind: str | None = None
    files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as every member sees it: tombstones carry no body, no sender, no mentions."""

    message: Message
    mentions: tuple[int, ...] = ()
    reactions: tuple[ReactionSummary, ...] = ()
    reply_to: ReplyPreview | None = None
    unread_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    # files.download_requires_clean: decides the attachments' "downloadable" flag
    requires_clean: bool = True

    def to_wire(self) -> dict[str, Any]:
        m = self.message
        tombstone = m.is_unsent
        hidden = m.hidden_at is not None
        return {
            "id": m.id,
            "room_id": m.room_id,
            "seq": m.seq,
            "event_seq": m.event_seq,
            # An unsent message is anonymous (KakaoTalk): no sender, no body, no reactions.
            "sender_id": None if tombstone else m.sender_id,
            "client_msg_id": None if tombstone else m.client_msg_id,
            "kind": m.kind,
            "body": None if tombstone or hidden else m.body,
            "system": m.meta if m.kind == "system" else None,
            "reply_to": None
            if tombstone or self.reply_to is None
            else {
                "id": self.reply_to.id,
                "seq": self.reply_to.seq,
                "sender_id": self.reply_to.sender_id,
                "body": self.reply_to.body,
                "kind": self.reply_to.kind,
                "attachments": [
                    {"kind": kind, "file_name": name} for kind, name in self.reply_to.files
                ],
            },
            "forwarded": m.forwarded_from_id is not None and not tombstone,
            "mentions": [] if tombstone else list(self.mentions),
            "mentions_all": m.mentions_all and not tombstone,
            "created_at": m.created_at.isoformat(),
            "edited_at": None if tombstone or m.edited_at is None else m.edited_at.isoformat(),
            "deleted_at": None if m.deleted_at is None else m.deleted_at.isoformat(),
            "hidden": hidden and not tombstone,
            "reactions": []
            if tombstone
            else [
                {"reaction": r.reaction, "count": r.count, "user_ids": list(r.user_ids)}
                for r in self.reactions
            ],
            "unread_count": self.unread_count,
            # An unsent message's files are gone with it; a hidden (가리기) one shows none.
            "attachments": []
            if tombstone or hidden
            else [
                attachment_wire(a, requires_clean=self.requires_clean)
                for a in self.attachments
                if a.deleted_at is None
            ],
        }


def parse_mentions(body: str) -> tuple[set[int], bool]:
    """User ids mentioned with ``<@id>`` tokens, and whether ``<@all>`` appears."""
    ids: set[int] = set()
    mention_all = False
    for target in _MENTION_RE.findall(body):
        if target == "all":
            mention_all = True
        else:
            ids.add(int(target))
    return ids, mention_all


def reply_preview_text(body: str | None) -> str | None:
    if body is None:
        return None
    return body if len(body) <= REPLY_PREVIEW_CHARS else body[:REPLY_PREVIEW_CHARS] + "…"


def normalise_body(body: str) -> str:
    """Trim trailing whitespace and strip NULs and other C0 controls except tab and newline."""
    cleaned = "".join(ch for ch in body if ch in "\t\n" or ch >= " " or ch == "\r")
    return cleaned.replace("\r\n", "\n").replace("\r", "\n").rstrip()
