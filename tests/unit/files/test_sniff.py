"""sniff(): the content type from the bytes, the file name only choosing among what they allow."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from sodam.files.sniff import SNIFF_BYTES, Sniffed, file_extension, sniff

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def _image(fmt: str, **params: object) -> bytes:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(buf, fmt, **params)
    return buf.getvalue()


def _zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08free"


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("HEIF", "image/heic"),
    ],
)
def test_supported_images_are_images_whatever_their_name(fmt: str, content_type: str) -> None:
    data = _image(fmt)
    for name in ("photo.jpg", "사진.png", "noextension", "x.exe"):
        assert sniff(data[:SNIFF_BYTES], name) == Sniffed(content_type, "image")


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM", "TGA"])
def test_other_image_formats_are_plain_files(fmt: str) -> None:
    assert sniff(_image(fmt), f"picture.{fmt.lower()}") == Sniffed(
        "application/octet-stream", "file"
    )


def test_html_named_png_is_html_not_an_image() -> None:
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    assert sniff(html, "cat.png") == Sniffed("text/html", "file")


@pytest.mark.parametrize(
    "html",
    [
        b"  \n<html><body>x</body></html>",
        b"\xef\xbb\xbf<HTML>",
        b"<script>alert(1)</script>",
        b"<iframe src=x>",
        b"<!-- a comment --><p>hello",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        b"<!doctype HTML>",
    ],
)
def test_html_in_its_many_forms_is_html(html: bytes) -> None:
    assert sniff(html, "notes.txt").content_type == "text/html"


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>',
    ],
)
def test_svg_is_svg_and_never_an_image_kind(svg: bytes) -> None:
    for name in ("logo.svg", "logo.png"):
        assert sniff(svg, name) == Sniffed("image/svg+xml", "file")


def test_other_xml_is_xml() -> None:
    assert sniff(b'<?xml version="1.0"?><note/>', "a.xml") == Sniffed("application/xml", "file")


def test_png_magic_followed_by_html_is_a_png() -> None:
    """A polyglot is what its signature says; served as image/png with nosniff, no browser
    runs the HTML, and the thumbnailer decides whether it is a decodable PNG."""
    polyglot = b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>"
    assert sniff(polyglot, "x.html") == Sniffed("image/png", "image")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("보고서.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("매출.XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("발표.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("한글문서.hwpx", "application/hwp+zip"),
        ("문서.odt", "application/vnd.oasis.opendocument.text"),
        ("묶음.zip", "application/zip"),
        ("program.exe", "application/zip"),
        ("image.png", "application/zip"),
        ("noext", "application/zip"),
    ],
)
def test_zips_take_their_type_from_the_name_only_among_zip_types(
    name: str, content_type: str
) -> None:
    assert sniff(_zip("[Content_Types].xml", "word/document.xml"), name) == Sniffed(
        content_type, "file"
    )


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("한글.hwp", "application/x-hwp"),
        ("계약서.HWP", "application/x-hwp"),
        ("old.doc", "application/msword"),
        ("old.xls", "application/vnd.ms-excel"),
        ("old.ppt", "application/vnd.ms-powerpoint"),
        ("virus.exe", "application/octet-stream"),
        ("fake.png", "application/octet-stream"),
    ],
)
def test_ole_compound_files_take_their_type_from_the_name_only_among_ole_types(
    name: str, content_type: str
) -> None:
    ole = OLE_MAGIC + b"\0" * 504
    assert sniff(ole, name) == Sniffed(content_type, "file")


def test_hwp_named_file_without_ole_bytes_is_not_hwp() -> None:
    assert sniff(b"just some bytes \x00\x01", "한글.hwp").content_type == "application/octet-stream"


def test_pdf() -> None:
    assert sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "계약서.pdf") == Sniffed(
        "application/pdf", "file"
    )
    assert sniff(b"%PDF-1.4\n", "notes.txt").content_type == "application/pdf"


@pytest.mark.parametrize("name", ["회의록.txt", "README.md", "data.csv", "server.LOG"])
def test_utf8_text_with_a_text_name_is_text(name: str) -> None:
    text = "안녕하세요, 소담입니다.\nline 2, 3\n".encode()
    assert sniff(text, name) == Sniffed("text/plain", "file")


def test_text_cut_inside_a_character_is_still_text() -> None:
    text = ("가" * SNIFF_BYTES).encode()  # 3 bytes each: the head ends mid-character
    assert sniff(text[:SNIFF_BYTES], "long.txt").content_type == "text/plain"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("안녕하세요".encode("cp949"), "euc-kr.txt"),  # not UTF-8
        (b"text with a \x00 NUL", "binary.txt"),
        (b"plain text", "script.sh"),  # not a text name we serve as text
        (b"plain text", "noext"),
    ],
)
def test_other_text_is_octet_stream(data: bytes, name: str) -> None:
    assert sniff(data, name) == Sniffed("application/octet-stream", "file")


@pytest.mark.parametrize(
    ("head", "content_type", "kind"),
    [
        (_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4", "video"),
        (_ftyp(b"mp42", b"mp42", b"isom"), "video/mp4", "video"),
        (_ftyp(b"qt  ", b"qt  "), "video/quicktime", "video"),
        (_ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4", "audio"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "image/heic", "image"),
        (_ftyp(b"avif", b"avif", b"mif1", b"miaf"), "application/octet-stream", "file"),
        (_ftyp(b"crx ", b"crx "), "application/octet-stream", "file"),
        (
            b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3"
            b"\x81\x08\x42\x82\x84webm\x42\x87\x81\x04",
            "video/webm",
            "video",
        ),
        (
            b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3"
            b"\x81\x08\x42\x82\x88matroska\x42\x87\x81\x04",
            "application/octet-stream",
            "file",
        ),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav", "audio"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "application/octet-stream", "file"),
        (b"OggS\x00\x02" + b"\0" * 22 + b"\x13OpusHead\x01\x01", "audio/ogg", "audio"),
        (b"OggS\x00\x02" + b"\0" * 22 + b"\x80theora", "application/octet-stream", "file"),
        (b"fLaC\x00\x00\x00\x22", "audio/flac", "audio"),
        (b"#!AMR\n\x3c", "audio/amr", "audio"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23TSSE", "audio/mpeg", "audio"),
    ],
)
def test_audio_and_video_containers(head: bytes, content_type: str, kind: str) -> None:
    assert sniff(head, "whatever.bin") == Sniffed(content_type, kind)  # type: ignore[arg-type]


def test_weak_audio_signatures_need_the_name_to_agree() -> None:
    # An MPEG-1 layer III frame header without ID3: 12 bits of signature, common in binaries.
    frame = b"\xff\xfb\x50\xc4" + b"\x00" * 400
    assert sniff(frame, "노래.mp3") == Sniffed("audio/mpeg", "audio")
    assert sniff(frame, "data.bin").content_type == "application/octet-stream"
    adts = b"\xff\xf1\x50\x40\x21\x3f\xfc" + b"\x00" * 400
    assert sniff(adts, "voice.aac") == Sniffed("audio/aac", "audio")
    assert sniff(adts, "data.bin").content_type == "application/octet-stream"


def test_only_the_head_is_looked_at() -> None:
    head = b"%PDF-1.4\n" + b"a" * (SNIFF_BYTES * 2)
    assert sniff(head, "a.pdf").content_type == "application/pdf"


def test_empty_and_random_bytes() -> None:
    assert sniff(b"", "empty.bin") == Sniffed("application/octet-stream", "file")
    assert sniff(bytes(range(256)) * 4, "random.jpg") == Sniffed("application/octet-stream", "file")


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("회의록.HWP", "hwp"),
        ("archive.tar.gz", "gz"),
        (".bashrc", ""),
        ("noext", ""),
        ("dir/sub.d/file", ""),
        ("C:\\Users\\김철수\\문서.Docx", "docx"),
        ("trailing.", ""),
    ],
)
def test_file_extension(name: str, ext: str) -> None:
    assert file_extension(name) == ext
