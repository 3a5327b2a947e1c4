"""Messages of a room: history, send, edit, unsend, hide, reactions, notice, pins, events."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sodam.api.deps import CurrentPrincipal, get_services
from sodam.api.schemas import MessageOut
from sodam.api.strictjson import StrictJSONRoute
from sodam.api.wire import WireJSON
from sodam.domain.ids import MessageId, RoomId
from sodam.errors import InvalidInput
from sodam.services.messages import MessageService
from sodam.services.pins import PinService
from sodam.services.sync import SyncService

router = APIRouter(prefix="/api/rooms/{room_id}", tags=["messages"], route_class=StrictJSONRoute)

MAX_ID = 2**53
RoomIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
MessageIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
SeqQuery = Annotated[int | None, Query(ge=0, le=MAX_ID)]


async def _messages(request: Request) -> MessageService:
    return get_services(request).messages


async def _pins(request: Request) -> PinService:
    return get_services(request).pins


async def _sync(request: Request) -> SyncService:
    return get_services(request).sync


Messages = Annotated[MessageService, Depends(_messages)]
Pins = Annotated[PinService, Depends(_pins)]
Sync = Annotated[SyncService, Depends(_sync)]


class HistoryOut(BaseModel):
    messages: list[MessageOut] = Field(description="Ascending seq")
    has_more_before: bool
    has_more_after: bool


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_msg_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Chosen by the client (e.g. a UUID); retries reuse it",
    )
    body: str | None = Field(
        default=None,
        description="Plain text; mentions as <@user_id> and <@all>",
    )
    reply_to_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    forward_of_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Forward (전달) a message the caller can read"
    )
    upload_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        max_length=10,
        description="Finished uploads (/api/uploads) to send as this message's files; "
        "body is then an optional caption",
    )


class SendOut(BaseModel):
    message: MessageOut
    duplicate: bool = Field(description="True when this client_msg_id was already stored")


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, description="Over the configured limit: 413 message_too_long")


class ReactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reaction: Literal["heart", "like", "check", "laugh", "surprise", "sad"]


class HiddenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hidden: bool


class EditOut(BaseModel):
    previous_body: str
    edited_at: dt.datetime


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: int = Field(ge=1, le=MAX_ID)


class NoticeOut(BaseModel):
    notice: MessageOut | None


class EventsOut(BaseModel):
    events: list[dict[str, Any]] = Field(
        description='Frames {"type": "event", "room_id", "event_seq", "event": {"kind", ...}} '
        "exactly as on the WebSocket (docs/protocol.md)"
    )
    next_event_seq: int
    has_more: bool
    too_far_behind: bool = Field(description="Refetch the room over REST instead of replaying")


def _out(view: Any) -> MessageOut:
    return MessageOut.model_validate(view.to_wire())


@router.get("/messages", operation_id="messages_history", response_model=HistoryOut)
async def history(
    room_id: RoomIdPath,
    principal: CurrentPrincipal,
    messages: Messages,
    before: SeqQuery = None,
    after: SeqQuery = None,
    around: SeqQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """A page of history: the newest (no bound), ``before`` a seq, ``after`` a seq, or
    ``around`` a seq (jump to a message, e.g. the first unread)."""
    if sum(x is not None for x in (before, after, around)) > 1:
        raise InvalidInput("paging_conflict", "Give at most one of before, after, around.")
    page = await messages.history(
        principal, RoomId(room_id), before=before, after=after, around=around, limit=limit
    )
    return WireJSON(
        {
            "messages": [v.to_wire() for v in page.messages],
            "has_more_before": page.has_more_before,
            "has_more_after": page.has_more_after,
        }
    )


@router.post(
    "/messages",
    operation_id="messages_send",
    response_model=SendOut,
    responses={413: {"description": "message_too_long"}},
)
async def send(
    room_id: RoomIdPath, body: SendIn, principal: CurrentPrincipal, messages: Messages
) -> SendOut:
    """Send a message. Answered only after it is stored; retrying with the same
    client_msg_id returns the original message and seq (``duplicate: true``)."""
    result = await messages.send_message(
        principal,
        RoomId(room_id),
        client_msg_id=body.client_msg_id,
        body=body.body,
        reply_to_id=MessageId(body.reply_to_id) if body.reply_to_id else None,
        forward_of_id=MessageId(body.forward_of_id) if body.forward_of_id else None,
        upload_ids=body.upload_ids,
    )
    return SendOut(message=_out(result.message), duplicate=result.duplicate)


@router.get("/messages/{message_id}", operation_id="messages_get", response_model=MessageOut)
async def get_message(
    room_id: RoomIdPath, message_id: MessageIdPath, principal: CurrentPrincipal, messages: Messages
) -> MessageOut:
    return _out(await messages.get_message(principal, RoomId(room_id), MessageId(message_id)))


@router.patch("/messages/{message_id}", operation_id="messages_edit", response_model=MessageOut)
async def edit(
    room_id: RoomIdPath,
    message_id: MessageIdPath,
    body: EditIn,
    principal: CurrentPrincipal,
    messages: Messages,
) -> MessageOut:
    """Edit one's own message within the edit window; the previous text is kept."""
    return _out(
        await messages.edit_message(principal, RoomId(room_id), MessageId(message_id), body.body)
    )


@router.delete("/messages/{message_id}", operation_id="messages_unsend", response_model=MessageOut)
async def unsend(
    room_id: RoomIdPath, message_id: MessageIdPath, principal: CurrentPrincipal, messages: Messages
) -> MessageOut:
    """Unsend one's own message for everyone within the window (an anonymous tombstone)."""
    return _out(await messages.unsend_message(principal, RoomId(room_id), MessageId(message_id)))


@router.put(
    "/messages/{message_id}/hidden", operation_id="messages_set_hidden", response_model=MessageOut
)
async def set_hidden(
    room_id: RoomIdPath,
    message_id: MessageIdPath,
    body: HiddenIn,
    principal: CurrentPrincipal,
    messages: Messages,
) -> MessageOut:
    """가리기: the owner or an admin hides a message for everyone (or shows it again)."""
    return _out(
        await messages.set_hidden(principal, RoomId(room_id), MessageId(message_id), body.hidden)
    )


@router.get(
    "/messages/{message_id}/edits",
    operation_id="messages_edit_history",
    response_model=list[EditOut],
)
async def edit_history(
    room_id: RoomIdPath, message_id: MessageIdPath, principal: CurrentPrincipal, messages: Messages
) -> list[EditOut]:
    edits = await messages.list_edits(principal, RoomId(room_id), MessageId(message_id))
    return [EditOut(previous_body=b, edited_at=t) for b, t in edits]


@router.put(
    "/messages/{message_id}/reaction", operation_id="messages_react", response_model=MessageOut
)
async def react(
    room_id: RoomIdPath,
    message_id: MessageIdPath,
    body: ReactionIn,
    principal: CurrentPrincipal,
    messages: Messages,
) -> MessageOut:
    """Set the caller's reaction (one per person per message; a new one replaces it)."""
    return _out(
        await messages.react(principal, RoomId(room_id), MessageId(message_id), body.reaction)
    )


@router.delete(
    "/messages/{message_id}/reaction", operation_id="messages_unreact", response_model=MessageOut
)
async def unreact(
    room_id: RoomIdPath, message_id: MessageIdPath, principal: CurrentPrincipal, messages: Messages
) -> MessageOut:
    return _out(await messages.react(principal, RoomId(room_id), MessageId(message_id), None))


@router.get("/notice", operation_id="rooms_get_notice", response_model=NoticeOut, tags=["rooms"])
async def get_notice(room_id: RoomIdPath, principal: CurrentPrincipal, pins: Pins) -> NoticeOut:
    view = await pins.get_notice(principal, RoomId(room_id))
    return NoticeOut(notice=_out(view) if view else None)


@router.put(
    "/notice",
    operation_id="rooms_set_notice",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["rooms"],
)
async def set_notice(
    room_id: RoomIdPath, body: NoticeIn, principal: CurrentPrincipal, pins: Pins
) -> None:
    """Make a message the room's notice (공지)."""
    await pins.set_notice(principal, RoomId(room_id), MessageId(body.message_id))


@router.delete(
    "/notice",
    operation_id="rooms_clear_notice",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["rooms"],
)
async def clear_notice(room_id: RoomIdPath, principal: CurrentPrincipal, pins: Pins) -> None:
    await pins.set_notice(principal, RoomId(room_id), None)


@router.get(
    "/pins", operation_id="rooms_list_pins", response_model=list[MessageOut], tags=["rooms"]
)
async def list_pins(
    room_id: RoomIdPath, principal: CurrentPrincipal, pins: Pins
) -> list[MessageOut]:
    return [_out(v) for v in await pins.list_pins(principal, RoomId(room_id))]


@router.put(
    "/pins/{message_id}",
    operation_id="rooms_pin",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["rooms"],
)
async def pin(
    room_id: RoomIdPath, message_id: MessageIdPath, principal: CurrentPrincipal, pins: Pins
) -> None:
    await pins.pin(principal, RoomId(room_id), MessageId(message_id), True)


@router.delete(
    "/pins/{message_id}",
    operation_id="rooms_unpin",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["rooms"],
)
async def unpin(
    room_id: RoomIdPath, message_id: MessageIdPath, principal: CurrentPrincipal, pins: Pins
) -> None:
    await pins.pin(principal, RoomId(room_id), MessageId(message_id), False)


@router.get("/events", operation_id="rooms_events", response_model=EventsOut, tags=["rooms"])
async def events(
    room_id: RoomIdPath,
    principal: CurrentPrincipal,
    sync: Sync,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> EventsOut:
    """The room's durable events after a cursor (the REST form of WebSocket resume)."""
    page = await sync.events_since(principal, RoomId(room_id), after, limit)
    return EventsOut(
        events=page.frames,
        next_event_seq=page.next_event_seq,
        has_more=page.has_more,
        too_far_behind=page.too_far_behind,
    )
