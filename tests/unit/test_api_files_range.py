"""Range header parsing for downloads (RFC 9110 14.1.2): one range or the whole file."""

from __future__ import annotations

import pytest

from sodam.api.files import parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-4", 10, (0, 5)),
        ("bytes=5-", 10, (5, 10)),
        ("bytes=-3", 10, (7, 10)),
        ("bytes=-30", 10, (0, 10)),
        ("bytes=8-100", 10, (8, 10)),
        ("bytes=9-9", 10, (9, 10)),
        ("bytes=10-", 10, False),
        ("bytes=-0", 10, False),
        ("bytes=5-3", 10, None),  # invalid: ignored
        ("bytes=0-1,4-5", 10, None),  # several ranges: the whole file
        ("bytes=-5", 0, None),  # an empty file has no range to cut
        ("bytes=0-", 0, False),
        ("items=0-4", 10, None),
        ("bytes=" + "9" * 5000 + "-", 10, None),  # never a huge int conversion
    ],
)
def test_parse_range(header: str | None, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected
