"""Pure rules about files: safe display names and the Content-Disposition header value.

Used by the S3 store (presigned downloads carry the header in the URL) and by the HTTP download
code, so both answer exactly the same header for the same file.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

FILE_NAME_MAX_CHARS = 200
DEFAULT_FILE_NAME = "download"
_EXTENSION_MAX_CHARS = 16

# RFC 5987 attr-char (besides ALPHA / DIGIT, which quote() always keeps): what may appear
# unencoded in filename*=UTF-8''...
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
_WHITESPACE_RE = re.compile(r"\s+")
_FALLBACK_RUN_RE = re.compile(r"_{2,}")


def clean_file_name(name: str) -> str:
    """A file name that is safe to show and to put in a header, close to what the user chose.

    NFC-normalised (macOS sends Hangul decomposed), without control and format characters
    (CR/LF, NUL, U+202E and the other bidi overrides that disguise ``exe`` as ``pdf``, zero-width
    characters, lone surrogates), path separators replaced by ``_``, whitespace collapsed, no
    leading or trailing dots or spaces, at most ``FILE_NAME_MAX_CHARS`` characters keeping the
    extension; ``"download"`` when nothing is left.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", name):
        category = unicodedata.category(ch)
        if ch in "/\\":
            out.append("_")
        elif ch.isspace():  # includes CR, LF, TAB and U+2028/U+2029
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs"):
            continue
        else:
            out.append(ch)
    cleaned = _WHITESPACE_RE.sub(" ", "".join(out)).strip(" .")
    if len(cleaned) > FILE_NAME_MAX_CHARS:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and stem and 0 < len(ext) <= _EXTENSION_MAX_CHARS and " " not in ext:
            keep = FILE_NAME_MAX_CHARS - len(ext) - 1
            cleaned = f"{stem[:keep].rstrip(' .')}.{ext}"
        else:
            cleaned = cleaned[:FILE_NAME_MAX_CHARS].rstrip(" .")
    return cleaned or DEFAULT_FILE_NAME


def ascii_file_name(name: str) -> str:
    """The ASCII fallback for ``filename=``: printable ASCII except ``"``, ``\\``, ``%`` and
    ``;`` (RFC 6266 appendix D: some agents percent-decode it); anything else becomes ``_``."""
    chars = [ch if " " <= ch <= "~" and ch not in '"\\%;' else "_" for ch in clean_file_name(name)]
    return _FALLBACK_RUN_RE.sub("_", "".join(chars))


def content_disposition(file_name: str, inline: bool) -> str:
    """The Content-Disposition value for a download (RFC 6266 with RFC 8187 ``filename*``):
    ``attachment; filename="ascii-fallback"; filename*=UTF-8''percent-encoded``."""
    cleaned = clean_file_name(file_name)
    encoded = quote(cleaned, safe=_ATTR_CHAR_SAFE, encoding="utf-8", errors="strict")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_file_name(cleaned)}\"; filename*=UTF-8''{encoded}"
