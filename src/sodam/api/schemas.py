"""Wire schemas shared by several routers (messages appear in rooms, history, events)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ReplyOut(BaseModel):
    id: int
    seq: int
    sender_id: int | None
    body: str | None = Field(
        description="None when the quoted message is unsent, hidden, or "
        "before the viewer's visible history"
    )


class ReactionOut(BaseModel):
    reaction: Literal["heart", "like", "check", "laugh", "surprise", "sad"]
    count: int
    user_ids: list[int]


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
    kind: Literal["text", "system"]
    body: str | None
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
