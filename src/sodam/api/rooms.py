"""Rooms, members, per-member settings and read state."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sodam.api.deps import CurrentPrincipal, get_services
from sodam.api.schemas import RoomOut
from sodam.api.strictjson import StrictJSONRoute
from sodam.api.wire import WireJSON
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.errors import InvalidInput
from sodam.services.reads import ReadService
from sodam.services.rooms import RoomService

router = APIRouter(prefix="/api/rooms", tags=["rooms"], route_class=StrictJSONRoute)

MAX_ID = 2**53
RoomIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


async def _rooms(request: Request) -> RoomService:
    return get_services(request).rooms


async def _reads(request: Request) -> ReadService:
    return get_services(request).reads


Rooms = Annotated[RoomService, Depends(_rooms)]
Reads = Annotated[ReadService, Depends(_reads)]


class RoomListOut(BaseModel):
    rooms: list[RoomOut]
    total_unread: int = Field(description="Sum of unread counts of unmuted rooms (app badge)")


class RoomCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["direct", "self", "group"]
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="direct: the peer")
    name: str | None = Field(default=None, max_length=100, description="group: required")
    topic: str | None = Field(default=None, max_length=500)
    member_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=5000
    )
    history_visibility: Literal["all", "joined"] = "joined"


class RoomUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    topic: str | None = Field(default=None, max_length=500)
    history_visibility: Literal["all", "joined"] | None = None
    members_can_invite: bool | None = None


class RoomSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    muted: bool | None = None
    favourite: bool | None = None
    archived: bool | None = None


class MemberOut(BaseModel):
    user_id: int
    display_name: str
    role: Literal["owner", "admin", "member"]
    joined_at: dt.datetime


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=500)


class InviteOut(BaseModel):
    added: list[int]


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int = Field(ge=1, le=MAX_ID)


class SeqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: int = Field(ge=0, le=MAX_ID)


class ReadStateOut(BaseModel):
    room_id: int
    last_read_seq: int
    unread_count: int


class ReadPositionOut(BaseModel):
    user_id: int
    last_read_seq: int


class ReadsOut(BaseModel):
    reads: list[ReadPositionOut]


class UnreadMembersOut(BaseModel):
    user_ids: list[int]
    next_after_user_id: int | None


@router.get("", operation_id="rooms_list", response_model=RoomListOut)
async def list_rooms(principal: CurrentPrincipal, rooms: Rooms) -> Response:
    """The caller's rooms by last activity, with unread and mention counts (R1)."""
    summaries, total = await rooms.list_rooms(principal)
    return WireJSON({"rooms": [s.to_wire() for s in summaries], "total_unread": total})


@router.post(
    "", operation_id="rooms_create", response_model=RoomOut, status_code=status.HTTP_201_CREATED
)
async def create_room(body: RoomCreateIn, principal: CurrentPrincipal, rooms: Rooms) -> RoomOut:
    """Open the 1:1 room with someone (reused if it exists), 나와의 채팅, or a new group."""
    if body.kind == "direct":
        if body.user_id is None:
            raise InvalidInput("user_id_required", "A 1:1 room needs user_id.")
        summary = await rooms.open_direct(principal, UserId(body.user_id))
    elif body.kind == "self":
        summary = await rooms.open_direct(principal, principal.user.id)
    else:
        summary = await rooms.create_group(
            principal,
            name=body.name or "",
            topic=body.topic,
            member_ids=body.member_ids,
            history_visibility=body.history_visibility,
        )
    return RoomOut.model_validate(summary.to_wire())


@router.get("/{room_id}", operation_id="rooms_get", response_model=RoomOut)
async def get_room(room_id: RoomIdPath, principal: CurrentPrincipal, rooms: Rooms) -> RoomOut:
    return RoomOut.model_validate((await rooms.get_summary(principal, RoomId(room_id))).to_wire())


@router.patch("/{room_id}", operation_id="rooms_update", response_model=RoomOut)
async def update_room(
    room_id: RoomIdPath, body: RoomUpdateIn, principal: CurrentPrincipal, rooms: Rooms
) -> RoomOut:
    """Rename a group, change its topic or history policy (owner and admins)."""
    summary = await rooms.update_room(
        principal, RoomId(room_id), body.model_dump(exclude_unset=True)
    )
    return RoomOut.model_validate(summary.to_wire())


@router.patch("/{room_id}/settings", operation_id="rooms_update_settings", response_model=RoomOut)
async def update_settings(
    room_id: RoomIdPath, body: RoomSettingsIn, principal: CurrentPrincipal, rooms: Rooms
) -> RoomOut:
    """The caller's own mute, favourite and archive flags for a room."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    summary = await rooms.update_settings(principal, RoomId(room_id), changes)
    return RoomOut.model_validate(summary.to_wire())


@router.get("/{room_id}/members", operation_id="rooms_list_members", response_model=list[MemberOut])
async def list_members(
    room_id: RoomIdPath,
    principal: CurrentPrincipal,
    rooms: Rooms,
    after_user_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[MemberOut]:
    members = await rooms.list_members(
        principal, RoomId(room_id), after_user_id=after_user_id, limit=limit
    )
    return [
        MemberOut(
            user_id=m.user_id,
            display_name=m.display_name,
            role=m.role,
            joined_at=m.joined_at,
        )
        for m in members
    ]


@router.post("/{room_id}/members", operation_id="rooms_invite", response_model=InviteOut)
async def invite(
    room_id: RoomIdPath, body: InviteIn, principal: CurrentPrincipal, rooms: Rooms
) -> InviteOut:
    """Invite people into a group room."""
    added = await rooms.invite(principal, RoomId(room_id), body.user_ids)
    return InviteOut(added=list(added))


@router.delete(
    "/{room_id}/members/me", operation_id="rooms_leave", status_code=status.HTTP_204_NO_CONTENT
)
async def leave(
    room_id: RoomIdPath,
    principal: CurrentPrincipal,
    rooms: Rooms,
    quiet: Annotated[bool, Query()] = False,
) -> None:
    """Leave a room; ``quiet=true`` is 조용히 나가기 (no notice to the others)."""
    await rooms.leave(principal, RoomId(room_id), quiet=quiet)


@router.delete(
    "/{room_id}/members/{user_id}",
    operation_id="rooms_kick",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def kick(
    room_id: RoomIdPath,
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: CurrentPrincipal,
    rooms: Rooms,
) -> None:
    """Remove a member (owner and admins)."""
    await rooms.kick(principal, RoomId(room_id), UserId(user_id))


@router.post(
    "/{room_id}/owner", operation_id="rooms_transfer_owner", status_code=status.HTTP_204_NO_CONTENT
)
async def transfer_owner(
    room_id: RoomIdPath, body: OwnerIn, principal: CurrentPrincipal, rooms: Rooms
) -> None:
    """Hand 방장 over to another member."""
    await rooms.transfer_owner(principal, RoomId(room_id), UserId(body.user_id))


@router.post("/{room_id}/read", operation_id="rooms_mark_read", response_model=ReadStateOut)
async def mark_read(
    room_id: RoomIdPath, body: SeqIn, principal: CurrentPrincipal, reads: Reads
) -> ReadStateOut:
    """Mark messages read up to ``seq`` (never moves back; a future seq is clamped)."""
    state = await reads.mark_read(principal, RoomId(room_id), body.seq)
    return ReadStateOut(
        room_id=state.room_id, last_read_seq=state.last_read_seq, unread_count=state.unread_count
    )


@router.post("/{room_id}/unread", operation_id="rooms_mark_unread", response_model=ReadStateOut)
async def mark_unread(
    room_id: RoomIdPath, body: SeqIn, principal: CurrentPrincipal, reads: Reads
) -> ReadStateOut:
    """Mark the room unread from message ``seq`` on."""
    state = await reads.mark_unread(principal, RoomId(room_id), body.seq)
    return ReadStateOut(
        room_id=state.room_id, last_read_seq=state.last_read_seq, unread_count=state.unread_count
    )


@router.get("/{room_id}/reads", operation_id="rooms_read_positions", response_model=ReadsOut)
async def read_positions(
    room_id: RoomIdPath, principal: CurrentPrincipal, reads: Reads
) -> ReadsOut:
    """Every member's read position, to count each message's unread number."""
    positions = await reads.read_positions(principal, RoomId(room_id))
    return ReadsOut(reads=[ReadPositionOut(user_id=u, last_read_seq=s) for u, s in positions])


@router.get(
    "/{room_id}/messages/{message_id}/unread-members",
    operation_id="messages_unread_members",
    response_model=UnreadMembersOut,
    tags=["messages"],
)
async def unread_members(
    room_id: RoomIdPath,
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: CurrentPrincipal,
    reads: Reads,
    after_user_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UnreadMembersOut:
    """Who has not read this message yet, paged by user id."""
    ids = await reads.unread_members(
        principal, RoomId(room_id), MessageId(message_id), after_user_id=after_user_id, limit=limit
    )
    return UnreadMembersOut(user_ids=ids, next_after_user_id=ids[-1] if len(ids) == limit else None)
