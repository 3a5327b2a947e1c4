"""Blob keys are checked before they become paths or object names."""

from __future__ import annotations

import pytest

from sodam.files.keys import check_key


@pytest.mark.parametrize(
    "key", ["2026/11/Xq3hV9aLmT0", "thumbnails/2026/11/abc-small", "a", "한글/키", "a.b/c-d_e"]
)
def test_good_keys(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a/./b",
        "a//b",
        "a/",
        "..",
        "a\x00b",
        "a\nb",
        "a\\..\\b",
        "_uploads/2026/11/x",
        "x" * 1000,
        "a/" + "b" * 300,
        "bad\ud800surrogate",
    ],
)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        check_key(key)
