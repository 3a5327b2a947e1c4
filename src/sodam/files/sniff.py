"""The content type of an upload, decided from its first bytes (never from what the client said).

``sniff(head, file_name)`` looks at the first ``SNIFF_BYTES`` of a file. ``puremagic`` proposes
candidates from its signature table; the decisions that matter for safety are made here, from the
bytes, and only a short list of types is ever reported:

- images: ``image/jpeg``, ``image/png``, ``image/gif``, ``image/webp``, ``image/heic`` (the only
  types the thumbnailer decodes, ``sodam.files.media``);
- video: ``video/mp4``, ``video/quicktime``, ``video/webm``; audio: ``audio/mpeg``, ``audio/mp4``,
  ``audio/aac``, ``audio/ogg``, ``audio/wav``, ``audio/flac``, ``audio/amr``;
- documents: ``application/pdf``, the zip-based office formats (docx, xlsx, pptx, hwpx, odt, ...),
  the OLE-based ones (hwp, doc, xls, ppt);
- markup, reported as what it really is so the download code can refuse to show it inline:
  ``text/html``, ``image/svg+xml`` (kind "file", never "image"), ``application/xml``;
- ``text/plain`` for valid UTF-8 without NUL bytes named .txt/.md/.csv/.log;
- everything else ``application/octet-stream``.

The file name only ever chooses *among* the types the bytes allow: a zip named ``보고서.docx`` is
a docx, an OLE compound file named ``한글.hwp`` is an HWP document, a weak audio signature must
agree with the extension; a name alone never makes bytes an image or a document.
"""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass
from typing import Literal

import puremagic

SNIFF_BYTES = 8192
"""How many leading bytes of a file ``sniff`` needs (callers pass at most this many)."""

Kind = Literal["image", "video", "audio", "file"]

OCTET_STREAM = "application/octet-stream"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic"})


@dataclass(frozen=True, slots=True)
class Sniffed:
    content_type: str
    kind: Kind


def sniff(head: bytes, file_name: str) -> Sniffed:
    """The content type and kind of a file from its first bytes and (only to choose between
    types the bytes allow) its name."""
    head = head[:SNIFF_BYTES]
    ext = file_extension(file_name)
    content_type = (
        image_type(head)
        or _container_type(head)
        or _document_type(head, ext)
        or _markup_type(head)
        or _audio_type(head, ext)
        or _text_type(head, ext)
        or OCTET_STREAM
    )
    return Sniffed(content_type, _kind(content_type))


def file_extension(file_name: str) -> str:
    """The lower-case extension without the dot ("" when there is none): ``회의록.HWP`` → hwp."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        return ""
    return ext.strip().lower()


def _kind(content_type: str) -> Kind:
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type.startswith("video/"):
        return "video"
    if content_type.startswith("audio/"):
        return "audio"
    return "file"


# --- images ------------------------------------------------------------------------------------

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})


def image_type(head: bytes) -> str | None:
    """The image type the signature at the start of ``head`` announces, among the five the
    thumbnailer supports; None for anything else (BMP, TIFF, SVG, AVIF ... included)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    brands = _ftyp_brands(head)
    if brands and not brands.isdisjoint(_HEIC_BRANDS):
        return "image/heic"
    return None


def _ftyp_brands(head: bytes) -> set[bytes] | None:
    """The major and compatible brands of an ISO-BMFF ``ftyp`` box at offset 0 (MP4, MOV, HEIF)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    (box_size,) = struct.unpack(">I", head[:4])
    end = min(box_size, len(head)) if box_size >= 16 else 16
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


# --- audio and video containers ----------------------------------------------------------------

_QUICKTIME_BRANDS = frozenset({b"qt  "})
_MP4_VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V "}
    | {b"M4VP", b"M4VH", b"mmp4", b"MSNV", b"f4v "}
)
_MP4_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"F4A "})


def _container_type(head: bytes) -> str | None:
    brands = _ftyp_brands(head)
    if brands is not None:
        major = head[8:12]
        if major in _QUICKTIME_BRANDS:
            return "video/quicktime"
        if major in _MP4_AUDIO_BRANDS:
            return "audio/mp4"
        if major in _MP4_VIDEO_BRANDS or not brands.isdisjoint(_MP4_VIDEO_BRANDS):
            return "video/mp4"
        return None  # AVIF, 3GPP, camera raw ...: not a type we report
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if _ebml_doctype(head) == b"webm" else None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        # The first page holds the codec's identification header.
        first_page = head[:512]
        if any(codec in first_page for codec in (b"OpusHead", b"\x01vorbis", b"\x7fFLAC")):
            return "audio/ogg"
        return None
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    return None


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType string of a Matroska/WebM EBML header ("webm" or "matroska")."""
    at = head.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(head):
        return None
    size_byte = head[at + 2]
    if not size_byte & 0x80:  # only the one-byte length form occurs in practice
        return None
    size = size_byte & 0x7F
    return head[at + 3 : at + 3 + size].rstrip(b"\0")


# --- documents ---------------------------------------------------------------------------------

_ZIP_FAMILY = {
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "hwpx": "application/hwp+zip",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "epub": "application/epub+zip",
}
_OLE_FAMILY = {
    "hwp": "application/x-hwp",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _document_type(head: bytes, ext: str) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        # The bytes say "zip"; only the extension can tell a docx from an hwpx or a plain zip,
        # and it may only pick another zip-based type.
        return _ZIP_FAMILY.get(ext, "application/zip")
    if head.startswith(_OLE_MAGIC):
        return _OLE_FAMILY.get(ext, OCTET_STREAM)
    if head.startswith(b"HWP Document File"):  # HWP 3.0, before the OLE-based HWP 5
        return "application/x-hwp"
    return None


# --- markup ------------------------------------------------------------------------------------

# The WHATWG MIME sniffing standard's HTML patterns: a tag name followed by a space or ">".
_HTML_START = re.compile(
    rb"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p"
    rb"|!--)[\s>]",
)
_WHITESPACE = b" \t\n\r\x0c"


def _markup_type(head: bytes) -> str | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(_WHITESPACE).lower()
    if not text.startswith(b"<"):
        return None
    if text.startswith(b"<svg"):
        return "image/svg+xml"
    if text.startswith((b"<?xml", b"<!doctype", b"<!--")):
        # A prologue, a doctype or a comment first: what follows decides.
        if b"<svg" in text:
            return "image/svg+xml"
        if b"<html" in text or b"<!doctype html" in text:
            return "text/html"
        if text.startswith(b"<?xml"):
            return "application/xml"
    if _HTML_START.match(text):
        return "text/html"
    return None


# --- audio with weak signatures ----------------------------------------------------------------

# puremagic extension → reported type, and whether the signature is strong enough to be
# believed without the file name agreeing (an MP3 frame sync or an ADTS header is only 12 bits).
_PUREMAGIC_AUDIO = {".mp3": "audio/mpeg", ".mpga": "audio/mpeg", ".aac": "audio/aac"}
_AUDIO_EXTENSIONS = {"audio/mpeg": {"mp3"}, "audio/aac": {"aac"}}
_STRONG_CONFIDENCE = 0.8


def _audio_type(head: bytes, ext: str) -> str | None:
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None  # neither an MPEG audio frame nor an ADTS header
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    for match in matches:
        content_type = _PUREMAGIC_AUDIO.get(match.extension)
        if content_type is None:
            continue
        if match.confidence >= _STRONG_CONFIDENCE or ext in _AUDIO_EXTENSIONS[content_type]:
            return content_type
    return None


# --- text --------------------------------------------------------------------------------------

_TEXT_EXTENSIONS = frozenset({"txt", "md", "csv", "log"})


def _text_type(head: bytes, ext: str) -> str | None:
    if ext not in _TEXT_EXTENSIONS or b"\0" in head:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # final=False: a character cut by the end of the head is not an error.
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return "text/plain"
