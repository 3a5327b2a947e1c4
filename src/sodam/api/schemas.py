"""Wire schemas shared by several routers (messages appear in rooms, history, events)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ReplyFileOut(BaseModel):
    kind: Literal["image", "video", "audio", "file"]
    file_name: str


class ReplyOut(BaseModel):
    id: int
    seq: int
    sender_id: int | None
    body: str | None = Field(
        description="None when the quoted message is unsent, hidden, or "
        "before the viewer's visible history"
    )
    kind: str | None = Field(
        description="the quoted message's kind (text, file, ...); None when body is None "
        "for those reasons"
    )
    attachments: list[ReplyFileOut] = Field(
        description="the quoted message's files (kind and name), for a quote such as 사진 or "
        "파일: name; empty when it has none or cannot be shown"
    )


class ReactionOut(BaseModel):
    reaction: Literal["heart", "like", "check", "laugh", "surprise", "sad"]
    count: int
    user_ids: list[int]


class AttachmentOut(BaseModel):
    """A file of a message (docs/files.md). Download: GET /api/files/{id}; thumbnails: GET
    /api/files/{id}/thumbnail?size=small|large."""

    id: int
    file_name: str = Field(description="Sanitised; Korean names kept")
    content_type: str = Field(description="Sniffed from the bytes, never the client's claim")
    kind: Literal["image", "video", "audio", "file"]
    size: int
    sha256: str
    width: int | None
    height: int | None
    scan_state: Literal["pending", "clean", "infected", "unscanned"]
    scan_reason: str | None = Field(
        description="For unscanned: scanner_disabled, too_large, scanner_limit, scanner_error"
    )
    thumbnail: Literal["pending", "ready", "none", "failed"]
    downloadable: bool = Field(
        description="Whether members other than the uploader may download it now"
    )


class MessageOut(BaseModel):
    """A message as members see it. Unsent messages are anonymous tombstones: sender_id, body,
    mentions and reactions are empty and deleted_at is set. Mentions appear in the body as
    ``<@user_id>`` and ``<@all>`` tokens."""

    id: int
    room_id: int
    seq: int = Field(description="Per-room, gap-free, strictly increasing message number")
    event_seq: int
    sender_id: int | None
    client_msg_id: str | None
    kind: Literal["text", "system", "file"]
    body: str | None = Field(description='For kind "file": the optional caption')
    system: dict[str, Any] | None = Field(
        description='For kind "system": {"event": "invited"|"left"|"kicked", "actor_id", ...}'
    )
    reply_to: ReplyOut | None
    forwarded: bool
    mentions: list[int]
    mentions_all: bool
    created_at: str
    edited_at: str | None
    deleted_at: str | None
    hidden: bool
    reactions: list[ReactionOut]
    unread_count: int = Field(description="Members who have not read it (KakaoTalk's number)")
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description='Files of a kind "file" message (docs/files.md)'
    )


class RoomOut(BaseModel):
    id: int
    kind: Literal["direct", "self", "group"]
    name: str | None = Field(
        description="Group name, or the peer's name for a 1:1 room; None for 나와의 채팅"
    )
    topic: str | None
    history_visibility: Literal["all", "joined"]
    member_count: int
    role: Literal["owner", "admin", "member"]
    last_seq: int
    last_event_seq: int
    last_read_seq: int
    visible_from_seq: int
    last_message: MessageOut | None
    last_message_at: str | None
    unread_count: int
    unread_mentions: int
    muted: bool
    favourite: bool
    archived: bool
    notice_message_id: int | None
    members_can_invite: bool = Field(description="False: only the owner and admins invite")
    peer_user_id: int | None
    created_at: str
