"""Message rules without I/O: mention parsing, body normalisation, the wire shape of tombstones."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.messages import (
    CLIENT_MSG_ID_RE,
    REACTIONS,
    REPLY_PREVIEW_CHARS,
    Message,
    MessageView,
    ReactionSummary,
    ReplyPreview,
    normalise_body,
    parse_mentions,
    reply_preview_text,
)

T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


def make_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "id": MessageId(10),
        "room_id": RoomId(1),
        "seq": 3,
        "event_seq": 7,
        "sender_id": UserId(2),
        "client_msg_id": "cmid-0001",
        "kind": "text",
        "body": "<@5> 회의 10시",
        "meta": None,
        "reply_to_id": MessageId(9),
        "forwarded_from_id": MessageId(4),
        "mentions_all": True,
        "created_at": T0,
        "edited_at": T0 + dt.timedelta(minutes=1),
        "deleted_at": None,
        "hidden_at": None,
    }
    fields.update(overrides)
    return Message(**fields)


def make_view(message: Message | None = None, **overrides: Any) -> MessageView:
    fields: dict[str, Any] = {
        "message": message or make_message(),
        "mentions": (5,),
        "reactions": (ReactionSummary("heart", 2, (3, 4)),),
        "reply_to": ReplyPreview(MessageId(9), 2, UserId(3), "원문", "text"),
        "unread_count": 1,
    }
    fields.update(overrides)
    return MessageView(**fields)


# --- mentions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ids", "everyone"),
    [
        ("", set(), False),
        ("<@12> 확인 부탁드려요", {12}, False),
        ("<@12><@13> <@12>", {12, 13}, False),
        ("<@all> 공지입니다", set(), True),
        ("<@all> <@7>", {7}, True),
        ("@12 <12> <@ 12> <@-1> <@abc> <@ALL> <@1e3>", set(), False),
        ("<@1234567890123456789>", set(), False),  # more than 18 digits is not a user id
        ("<@123456789012345678>", {123456789012345678}, False),
        ("이메일 a<@3>b", {3}, False),
    ],
)
def test_parse_mentions_reads_user_and_everyone_tokens(
    body: str, ids: set[int], everyone: bool
) -> None:
    assert parse_mentions(body) == (ids, everyone)


# --- body normalisation ------------------------------------------------------------------------


def test_normalise_body_removes_nul_and_control_characters() -> None:
    assert normalise_body("a\x00b\x01c\x07d\x1be\x1f") == "abcde"


def test_normalise_body_keeps_tabs_and_newlines_and_korean() -> None:
    assert normalise_body("첫 줄\n\t둘째 줄") == "첫 줄\n\t둘째 줄"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("a\r\nb", "a\nb"), ("a\rb", "a\nb"), ("a\r\n\r\nb", "a\n\nb"), ("a\n\rb", "a\n\nb")],
)
def test_normalise_body_turns_crlf_and_cr_into_newlines(raw: str, clean: str) -> None:
    assert normalise_body(raw) == clean


def test_normalise_body_trims_trailing_but_not_leading_whitespace() -> None:
    assert normalise_body("  들여쓰기 \n \t\r\n") == "  들여쓰기"


def test_normalise_body_of_only_controls_and_spaces_is_empty() -> None:
    assert normalise_body("\x00 \x01\r\n\t ") == ""


def test_normalise_body_leaves_markup_alone() -> None:
    text = '<script>alert(1)</script> <a href="javascript:x">y</a>'
    assert normalise_body(text) == text


# --- reply previews and client ids -------------------------------------------------------------


def test_reply_preview_is_cut_with_an_ellipsis() -> None:
    exact = "가" * REPLY_PREVIEW_CHARS
    assert reply_preview_text(exact) == exact
    assert reply_preview_text(exact + "나") == exact + "…"
    assert reply_preview_text(None) is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abcdefgh", True),
        ("550e8400-e29b-41d4-a716-446655440000", True),
        ("a" * 64, True),
        ("web:1.2_3-x", True),
        ("abcdefg", False),
        ("a" * 65, False),
        ("abc defgh", False),
        ("abcdefgh\n", False),
        ("한글아이디입니다요", False),
    ],
)
def test_client_msg_id_format(value: str, ok: bool) -> None:
    assert bool(CLIENT_MSG_ID_RE.fullmatch(value)) is ok


def test_there_are_six_reactions() -> None:
    assert REACTIONS == ("heart", "like", "check", "laugh", "surprise", "sad")


# --- the wire shape ----------------------------------------------------------------------------


def test_wire_shape_of_a_plain_message() -> None:
    wire = make_view().to_wire()
    assert wire == {
        "id": 10,
        "room_id": 1,
        "seq": 3,
        "event_seq": 7,
        "sender_id": 2,
        "client_msg_id": "cmid-0001",
        "kind": "text",
        "body": "<@5> 회의 10시",
        "system": None,
        "reply_to": {
            "id": 9,
            "seq": 2,
            "sender_id": 3,
            "body": "원문",
            "kind": "text",
            "attachments": [],
        },
        "forwarded": True,
        "mentions": [5],
        "mentions_all": True,
        "created_at": T0.isoformat(),
        "edited_at": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "deleted_at": None,
        "hidden": False,
        "reactions": [{"reaction": "heart", "count": 2, "user_ids": [3, 4]}],
        "unread_count": 1,
        "attachments": [],
    }


def test_an_unsent_message_is_an_anonymous_tombstone() -> None:
    gone = make_message(deleted_at=T0 + dt.timedelta(hours=1))
    wire = make_view(gone).to_wire()
    assert wire["sender_id"] is None
    assert wire["client_msg_id"] is None
    assert wire["body"] is None
    assert wire["mentions"] == []
    assert wire["mentions_all"] is False
    assert wire["reactions"] == []
    assert wire["reply_to"] is None
    assert wire["forwarded"] is False
    assert wire["edited_at"] is None
    assert wire["hidden"] is False
    assert wire["deleted_at"] == (T0 + dt.timedelta(hours=1)).isoformat()
    assert (wire["id"], wire["seq"]) == (10, 3)  # it keeps its place in the room


def test_a_hidden_message_shows_no_body_but_keeps_its_sender() -> None:
    wire = make_view(make_message(hidden_at=T0)).to_wire()
    assert wire["body"] is None
    assert wire["hidden"] is True
    assert wire["sender_id"] == 2


def test_a_system_message_carries_its_meta() -> None:
    meta = {"event": "left", "actor_id": 2, "user_id": 2}
    system = make_message(
        kind="system",
        sender_id=None,
        client_msg_id=None,
        body=None,
        meta=meta,
        reply_to_id=None,
        forwarded_from_id=None,
        mentions_all=False,
        edited_at=None,
    )
    wire = MessageView(message=system).to_wire()
    assert (wire["kind"], wire["system"], wire["sender_id"], wire["body"]) == (
        "system",
        meta,
        None,
        None,
    )


def test_meta_of_a_text_message_is_never_on_the_wire() -> None:
    wire = make_view(make_message(meta={"secret": 1})).to_wire()
    assert wire["system"] is None


def test_messages_are_immutable_values() -> None:
    message = make_message()
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.body = "changed"  # type: ignore[misc]
