"""Wire frames of the WebSocket protocol (docs/protocol.md): close codes, strict decoding of
client frames, their schemas, and the encoding of server frames.

Decoding is strict on purpose: a frame over the size limit closes with 1009; bytes that are not
UTF-8, text that is not JSON, duplicate keys, NaN/Infinity, integers beyond 18 digits and nesting
deeper than ``MAX_DEPTH`` close with 1007. A frame that is valid JSON but not a valid request gets
an ``error`` frame and the connection stays open.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sodam.errors import AppError, InvalidInput

MAX_INT_DIGITS = 18
MAX_DEPTH = 16
MAX_ID = 2**53 - 1  # exact in every client language, JavaScript included


class CloseCode(IntEnum):
    NORMAL = 1000
    INVALID_PAYLOAD = 1007  # not UTF-8, not JSON, too deeply nested
    POLICY = 1008  # no/late/bad auth, cross-origin
    TOO_BIG = 1009
    INTERNAL = 1011
    SERVICE_RESTART = 1012  # reconnect with backoff and resume
    RESYNC = 4000  # the client fell behind: reconnect at once and resume
    SESSION_ENDED = 4001  # logout, revoked, deactivated: do not reconnect with this session
    HEARTBEAT_TIMEOUT = 4002
    TOKEN_EXPIRED = 4003  # refresh the access token, then reconnect and resume
    TOO_MANY_CONNECTIONS = 4029


class ProtocolViolation(Exception):
    """The client broke the framing rules: the connection closes with ``code``."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- decoding --------------------------------------------------------------------------------


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + (text[0] == "-"):
        raise ValueError("integer too large")
    return int(text)


def _too_deep(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, depth + 1) for v in value)
    return False


def decode_frame(data: str | bytes, max_bytes: int) -> dict[str, Any]:
    """A client frame as a JSON object, or ``ProtocolViolation``."""
    if isinstance(data, bytes):
        if len(data) > max_bytes:
            raise ProtocolViolation(CloseCode.TOO_BIG, "frame too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolViolation(CloseCode.INVALID_PAYLOAD, "invalid UTF-8") from None
    else:
        text = data
        if len(text) * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise ProtocolViolation(CloseCode.TOO_BIG, "frame too large")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constants,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise ProtocolViolation(CloseCode.INVALID_PAYLOAD, "nesting too deep") from None
    except ValueError:
        raise ProtocolViolation(CloseCode.INVALID_PAYLOAD, "invalid JSON") from None
    if _too_deep(value):
        raise ProtocolViolation(CloseCode.INVALID_PAYLOAD, "nesting too deep")
    if not isinstance(value, dict):
        raise ProtocolViolation(CloseCode.INVALID_PAYLOAD, "a frame is a JSON object")
    return value


# --- client frames ---------------------------------------------------------------------------

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Seq = Annotated[int, Field(ge=0, le=MAX_ID)]
Ref = Annotated[str, Field(min_length=1, max_length=64)]


class _ClientFrame(BaseModel):
    # Unknown fields are ignored so newer clients work with older servers.
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")
    ref: Ref | None = None


class AuthFrame(_ClientFrame):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class ResumeFrame(_ClientFrame):
    type: Literal["resume"]
    cursors: dict[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,15}$")], Seq] = Field(
        max_length=20_000
    )


class SendFrame(_ClientFrame):
    type: Literal["send"]
    room_id: Id
    client_msg_id: str = Field(min_length=1, max_length=64)
    body: str = ""
    reply_to_id: Id | None = None
    forward_of_id: Id | None = None
    upload_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=10
    )


class ReadFrame(_ClientFrame):
    type: Literal["read"]
    room_id: Id
    seq: Seq


class TypingFrame(_ClientFrame):
    type: Literal["typing"]
    room_id: Id


class PresenceFrame(_ClientFrame):
    type: Literal["presence"]
    status: Literal["online", "away"]


class PresenceWatchFrame(_ClientFrame):
    type: Literal["presence.watch"]
    user_ids: list[Id] = Field(max_length=5000)


class PingFrame(_ClientFrame):
    type: Literal["ping"]


ClientFrame = Annotated[
    AuthFrame
    | ResumeFrame
    | SendFrame
    | ReadFrame
    | TypingFrame
    | PresenceFrame
    | PresenceWatchFrame
    | PingFrame,
    Field(discriminator="type"),
]
_client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


def parse_client_frame(obj: dict[str, Any]) -> ClientFrame:
    """A validated request, or ``InvalidInput`` (answered with an error frame)."""
    try:
        return _client_frame.validate_python(obj)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if any(e["type"] in ("union_tag_invalid", "union_tag_not_found") for e in errors):
            raise InvalidInput(
                "unknown_frame", "Unknown frame type.", {"type": str(obj.get("type"))[:40]}
            ) from None
        fields = [
            {"loc": [str(p) for p in e["loc"][1:]], "type": e["type"], "msg": e["msg"]}
            for e in errors[:10]
        ]
        raise InvalidInput("invalid_frame", "The frame is not valid.", {"errors": fields}) from None


def frame_ref(obj: dict[str, Any]) -> str | None:
    ref = obj.get("ref")
    return ref if isinstance(ref, str) and 0 < len(ref) <= 64 else None


# --- server frames ---------------------------------------------------------------------------


def encode(frame: dict[str, Any]) -> str:
    """Serialises a server frame (once per broadcast: every receiver gets the same string)."""
    return orjson.dumps(frame).decode()


def error_frame(error: AppError, ref: str | None = None) -> str:
    return encode({"type": "error", "ref": ref, **error.to_dict()})


PONG = encode({"type": "pong"})
