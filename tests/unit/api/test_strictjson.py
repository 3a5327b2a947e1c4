"""strict_loads: what plain json.loads lets through and Sodam refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sodam.api.strictjson import MAX_DEPTH, MAX_INT_DIGITS, StrictJSONError, strict_loads


def _nested(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": 1, "b": [true, null, "x"]}', {"a": 1, "b": [True, None, "x"]}),
        ('{"name": "김민수"}', {"name": "김민수"}),
        ('"\\uc18c\\ub2f4"', "소담"),
        ("1.5e3", 1500.0),
        ("-0.25", -0.25),
        ("9" * MAX_INT_DIGITS, int("9" * MAX_INT_DIGITS)),
        ("-" + "9" * MAX_INT_DIGITS, -int("9" * MAX_INT_DIGITS)),
        ('{"a": {"a": 1}, "b": {"a": 2}}', {"a": {"a": 1}, "b": {"a": 2}}),
    ],
)
def test_ordinary_json_is_parsed_as_usual(raw: str, expected: Any) -> None:
    assert strict_loads(raw) == expected
    assert strict_loads(raw.encode()) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"x": {"a": 1, "a": 1}}', "duplicate key"),
        ("NaN", "NaN is not allowed"),
        ('{"a": Infinity}', "Infinity is not allowed"),
        ("[-Infinity]", "-Infinity is not allowed"),
        ("1e999", "out of range"),
        ("-1e400", "out of range"),
        ("1" + "0" * MAX_INT_DIGITS, "integer too large"),
        ("-1" + "0" * MAX_INT_DIGITS, "integer too large"),
        (_nested(MAX_DEPTH + 1), "nesting too deep"),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nesting too deep"),
        ("[" * 200_000 + "]" * 200_000, "nesting too deep"),
    ],
)
def test_hostile_json_is_refused(raw: str, reason: str) -> None:
    with pytest.raises(StrictJSONError, match=reason):
        strict_loads(raw)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert strict_loads(_nested(MAX_DEPTH)) is not None


def test_plain_json_loads_would_have_accepted_all_of_it() -> None:
    # Why this module exists: the standard parser silently keeps the last duplicate and
    # turns overflowing numbers into infinity.
    assert json.loads('{"a": 1, "a": 2}') == {"a": 2}
    assert json.loads("1e999") == float("inf")


@pytest.mark.parametrize("raw", [b"\xff\xfe", b'{"a": "\xc3"}', b'"\xed\xa0\x80"'])
def test_invalid_utf8_is_refused(raw: bytes) -> None:
    with pytest.raises(StrictJSONError, match="invalid UTF-8"):
        strict_loads(raw)


@pytest.mark.parametrize("raw", ["", "{", "[1,]", "{'a': 1}", '{"a" 1}', "tru"])
def test_malformed_json_raises_a_json_decode_error(raw: str) -> None:
    # FastAPI turns any JSONDecodeError into the invalid_json answer.
    with pytest.raises(json.JSONDecodeError):
        strict_loads(raw)


def test_strict_errors_are_json_decode_errors() -> None:
    assert issubclass(StrictJSONError, json.JSONDecodeError)
