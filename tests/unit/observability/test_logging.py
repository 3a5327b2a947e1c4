"""redact() and the JSON formatter: the second line of defence against secrets in logs."""

from __future__ import annotations

import logging
import sys

import orjson
import pytest

from sodam.observability.context import request_id_var, user_id_var
from sodam.observability.logging import JsonFormatter, redact

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiI3Iiwic2lkIjoiYWJjIn0"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ("authorization: bearer opaque-token-value_123", "opaque-token-value_123"),
        (f"decoded {JWT} for user 7", JWT),
        ("password=hunter2-hunter2", "hunter2-hunter2"),
        ('{"password": "hunter2-hunter2"}', "hunter2-hunter2"),
        ("refresh_token: 'abcDEF123456'", "abcDEF123456"),
        ("secret=s3cr3t-value", "s3cr3t-value"),
        ("TOKEN=abc.def", "abc.def"),
    ],
)
def test_redact_removes_tokens_and_passwords(text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert "[REDACTED]" in redacted


def test_redact_keeps_the_label_so_the_line_still_makes_sense() -> None:
    assert redact("Authorization: Bearer abc.def.ghi") == "Authorization: Bearer [REDACTED]"
    assert redact("password=hunter2") == "password=[REDACTED]"


@pytest.mark.parametrize(
    "text",
    [
        "POST /api/auth/login 200",
        "user 7 logged in from 203.0.113.7",
        "김민수 님이 입장했습니다",
        "database unavailable: OperationalError",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("sodam.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_formatter_writes_one_json_object_with_the_bound_context() -> None:
    rid, uid = request_id_var.set("req-12345678"), user_id_var.set(7)
    try:
        line = JsonFormatter().format(_record("GET %s %s", "/api/me", 200, status=200))
    finally:
        request_id_var.reset(rid)
        user_id_var.reset(uid)
    entry = orjson.loads(line)
    assert entry["msg"] == "GET /api/me 200"
    assert (entry["level"], entry["logger"]) == ("INFO", "sodam.test")
    assert (entry["request_id"], entry["user_id"], entry["status"]) == ("req-12345678", 7, 200)
    assert entry["ts"].endswith("+00:00")


def test_formatter_redacts_secret_fields_passed_as_extra() -> None:
    record = _record(
        "login",
        password="hunter2-hunter2",
        access_token=JWT,
        Authorization="Bearer x",
        body="메시지 본문",
        device="회사 PC",
    )
    entry = orjson.loads(JsonFormatter().format(record))
    assert entry["password"] == entry["access_token"] == "[REDACTED]"
    assert entry["Authorization"] == entry["body"] == "[REDACTED]"
    assert entry["device"] == "회사 PC"


def test_formatter_redacts_the_message_arguments() -> None:
    entry = orjson.loads(JsonFormatter().format(_record("token check failed for %s", JWT)))
    assert JWT not in entry["msg"]


def test_formatter_redacts_tracebacks() -> None:
    try:
        raise ValueError(f"bad header Bearer {JWT}")
    except ValueError:
        record = logging.LogRecord(
            "sodam.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    entry = orjson.loads(JsonFormatter().format(record))
    assert "ValueError" in entry["exc"]
    assert JWT not in entry["exc"]
