"""File names and the Content-Disposition header (RFC 6266 / RFC 8187)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import pytest

from sodam.domain.files import (
    DEFAULT_FILE_NAME,
    FILE_NAME_MAX_CHARS,
    ascii_file_name,
    clean_file_name,
    content_disposition,
)

# The whole header value: a disposition type, a quoted ASCII fallback, the RFC 8187 parameter.
HEADER_RE = re.compile(
    r"^(attachment|inline); filename=\"([ !#-\[\]-~]*)\"; "
    r"filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)$"
)


def _parse(header: str) -> tuple[str, str, str]:
    match = HEADER_RE.match(header)
    assert match, header
    kind, fallback, encoded = match.groups()
    return kind, fallback, unquote(encoded, encoding="utf-8", errors="strict")


def test_a_korean_name_is_sent_in_utf8_with_an_ascii_fallback() -> None:
    header = content_disposition("회의록 2026.pdf", inline=False)

    assert header == (
        'attachment; filename="_ 2026.pdf"; '
        "filename*=UTF-8''%ED%9A%8C%EC%9D%98%EB%A1%9D%202026.pdf"
    )


def test_inline() -> None:
    assert content_disposition("photo.jpg", inline=True) == (
        "inline; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"
    )


def test_decomposed_hangul_from_macos_is_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "사진.png")
    assert nfd != "사진.png"

    assert _parse(content_disposition(nfd, inline=False))[2] == "사진.png"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ('say "hi".txt', 'say "hi".txt'),
        ("back\\slash.txt", "back_slash.txt"),
        ("dir/evil.txt", "dir_evil.txt"),
        ("a\r\nSet-Cookie: x=1.txt", "a Set-Cookie: x=1.txt"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # RLO would show "invoiceexe.jpg"
        ("zero\u200bwidth\ufeff.txt", "zerowidth.txt"),
        ("lone\ud800surrogate.txt", "lonesurrogate.txt"),
        ("line\u2028sep.txt", "line sep.txt"),
        ("  spaced   out  .txt  ", "spaced out .txt"),
        ("50% off; really.txt", "50% off; really.txt"),
        ("...", DEFAULT_FILE_NAME),
        ("", DEFAULT_FILE_NAME),
        ("\x00\r\n\u202e", DEFAULT_FILE_NAME),
    ],
)
def test_names_are_cleaned(name: str, shown: str) -> None:
    assert clean_file_name(name) == shown
    kind, fallback, decoded = _parse(content_disposition(name, inline=False))
    assert kind == "attachment"
    assert decoded == shown
    assert all(" " <= ch <= "~" and ch not in '"\\%;' for ch in fallback)


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ('say "hi".txt', "say _hi_.txt"),
        ("50% off; really.txt", "50_ off_ really.txt"),
        ("보고서_최종_v2.xlsx", "_v2.xlsx"),
        ("résumé.doc", "r_sum_.doc"),
    ],
)
def test_the_ascii_fallback(name: str, fallback: str) -> None:
    assert ascii_file_name(name) == fallback
    assert _parse(content_disposition(name, inline=False))[1] == fallback


def test_a_very_long_name_is_cut_keeping_its_extension() -> None:
    name = "가" * 1000 + ".pdf"

    cleaned = clean_file_name(name)

    assert len(cleaned) == FILE_NAME_MAX_CHARS
    assert cleaned.endswith("가.pdf")
    header = content_disposition(name, inline=False)
    assert _parse(header)[2] == cleaned
    assert len(header) < 2000


def test_a_very_long_name_without_extension_is_cut() -> None:
    assert clean_file_name("x" * 5000) == "x" * FILE_NAME_MAX_CHARS
    assert clean_file_name("a." + "b" * 300) == ("a." + "b" * 300)[:FILE_NAME_MAX_CHARS]


def test_emoji_and_other_scripts_survive() -> None:
    name = "🎉 パーティー 派对.mp4"
    assert _parse(content_disposition(name, inline=True))[2] == name
