"""Strict decoding of client frames and their schemas."""

from __future__ import annotations

import json

import pytest

from sodam.errors import InvalidInput
from sodam.realtime.frames import (
    MAX_DEPTH,
    CloseCode,
    ProtocolViolation,
    ResumeFrame,
    SendFrame,
    decode_frame,
    error_frame,
    parse_client_frame,
)

LIMIT = 1024


def violation(data: str | bytes) -> ProtocolViolation:
    with pytest.raises(ProtocolViolation) as info:
        decode_frame(data, LIMIT)
    return info.value


def test_a_valid_frame_decodes() -> None:
    assert decode_frame('{"type":"ping"}', LIMIT) == {"type": "ping"}
    assert decode_frame(b'{"type":"ping"}', LIMIT) == {"type": "ping"}


@pytest.mark.parametrize("data", ["x" * (LIMIT + 1), "가" * (LIMIT // 3 + 1)])
def test_oversized_frame_closes_with_1009(data: str) -> None:
    assert violation(data).code == CloseCode.TOO_BIG
    assert violation(data.encode()).code == CloseCode.TOO_BIG


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"ping","x":"\xff"}',  # not UTF-8
        "not json",
        '{"type":"ping","type":"auth"}',  # duplicate key
        '{"n": NaN}',
        '{"n": Infinity}',
        '{"n": 1234567890123456789}',  # beyond 18 digits
        "[1, 2]",  # not an object
        "[" * 5000 + "]" * 5000,  # recursion
        '{"a":' * (MAX_DEPTH + 2) + "1" + "}" * (MAX_DEPTH + 2),
    ],
)
def test_malformed_frame_closes_with_1007(data: str | bytes) -> None:
    big = LIMIT * 20
    with pytest.raises(ProtocolViolation) as info:
        decode_frame(data, big)
    assert info.value.code == CloseCode.INVALID_PAYLOAD


def test_send_frame_is_validated_strictly() -> None:
    frame = parse_client_frame(
        {"type": "send", "ref": "c1", "room_id": 3, "client_msg_id": "abcdefgh", "body": "hi"}
    )
    assert isinstance(frame, SendFrame) and frame.room_id == 3
    with pytest.raises(InvalidInput) as info:
        parse_client_frame({"type": "send", "room_id": "3", "client_msg_id": "x", "body": "b"})
    assert info.value.code == "invalid_frame"
    with pytest.raises(InvalidInput):
        parse_client_frame({"type": "send", "room_id": True, "client_msg_id": "x", "body": "b"})


def test_unknown_fields_are_ignored_for_newer_clients() -> None:
    frame = parse_client_frame({"type": "ping", "future_field": 1})
    assert frame.type == "ping"


def test_unknown_frame_type_has_its_own_code() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_client_frame({"type": "teleport"})
    assert info.value.code == "unknown_frame"
    with pytest.raises(InvalidInput) as info:
        parse_client_frame({"no": "type"})
    assert info.value.code == "unknown_frame"


def test_resume_cursors_are_room_ids_with_seqs() -> None:
    frame = parse_client_frame({"type": "resume", "cursors": {"12": 40, "7": 0}})
    assert isinstance(frame, ResumeFrame) and frame.cursors == {"12": 40, "7": 0}
    for bad in ({"x": 1}, {"0": 1}, {"12": -1}, {"12": "40"}):
        with pytest.raises(InvalidInput):
            parse_client_frame({"type": "resume", "cursors": bad})


def test_error_frame_has_the_rest_error_shape_and_the_ref() -> None:
    frame = json.loads(error_frame(InvalidInput("bad", "Bad.", {"k": 1}), "c9"))
    assert frame == {
        "type": "error",
        "ref": "c9",
        "code": "bad",
        "message": "Bad.",
        "data": {"k": 1},
    }
