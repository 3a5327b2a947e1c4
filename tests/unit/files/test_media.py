"""probe_image() and make_thumbnails(): real images made with Pillow, hostile ones made by hand."""

from __future__ import annotations

import io
import random
import struct
import time
import tracemalloc
import warnings
import zlib
from collections.abc import Iterator

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms

from sodam.files.media import (
    ImageInfo,
    MediaRefused,
    Thumbnail,
    make_thumbnails,
    probe_image,
)

MAX_PIXELS = 50_000_000
RED = (230, 20, 20)
BLUE = (20, 20, 230)


def _encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    if fmt == "HEIF":
        pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _two_colour(size: tuple[int, int] = (400, 200), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue."""
    im = Image.new("RGB", size, RED)
    im.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return im.convert(mode) if mode != "RGB" else im


def _noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _frames(count: int, size: tuple[int, int] = (60, 40)) -> list[Image.Image]:
    colours = [RED, BLUE, (20, 200, 20)]
    return [Image.new("RGB", size, colours[i % 3]) for i in range(count)]


def _riff_chunks(webp: bytes) -> Iterator[bytes]:
    assert webp[:4] == b"RIFF"
    assert webp[8:12] == b"WEBP"
    pos = 12
    while pos + 8 <= len(webp):
        fourcc = webp[pos : pos + 4]
        size = int.from_bytes(webp[pos + 4 : pos + 8], "little")
        yield fourcc
        pos += 8 + size + (size & 1)


def _decoded(thumb: Thumbnail) -> Image.Image:
    assert thumb.content_type == "image/webp"
    im = Image.open(io.BytesIO(thumb.data), formats=["WEBP"])
    assert im.size == (thumb.width, thumb.height)
    im.load()
    return im


def _assert_no_metadata(thumb: Thumbnail) -> None:
    chunks = set(_riff_chunks(thumb.data))
    assert chunks <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}, chunks
    im = _decoded(thumb)
    assert not im.getexif()
    assert not {"exif", "xmp", "icc_profile"} & set(im.info)


def _close_to(pixel: object, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _declared_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width × height RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


# --- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("JPEG", "jpeg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp"), ("HEIF", "heic")],
)
def test_each_supported_format_is_probed_and_thumbnailed(fmt: str, name: str) -> None:
    data = _encode(_two_colour((2000, 1000)), fmt)
    info = probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert info == ImageInfo(format=name, width=2000, height=1000, frames=1, orientation=None)

    small, large = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (small.width, small.height) == (320, 160)
    assert (large.width, large.height) == (1280, 640)
    for thumb in (small, large):
        im = _decoded(thumb)
        assert _close_to(im.getpixel((10, im.height // 2)), RED, tolerance=60)
        assert _close_to(im.getpixel((im.width - 10, im.height // 2)), BLUE, tolerance=60)
        _assert_no_metadata(thumb)


def test_sizes_are_honoured_in_order() -> None:
    data = _encode(_two_colour((1000, 500)), "PNG")
    thumbs = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(600, 100))
    assert [(t.width, t.height) for t in thumbs] == [(600, 300), (100, 50)]


def test_small_images_are_never_upscaled() -> None:
    data = _encode(_two_colour((100, 50)), "PNG")
    small, large = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (small.width, small.height) == (100, 50)
    assert (large.width, large.height) == (100, 50)


def test_portrait_images_fit_their_long_side() -> None:
    data = _encode(_two_colour((600, 3000)), "JPEG")
    small, large = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (small.width, small.height) == (64, 320)
    assert (large.width, large.height) == (256, 1280)


def test_a_large_jpeg_is_decoded_at_reduced_scale_with_the_right_result() -> None:
    data = _encode(_two_colour((6000, 4000)), "JPEG", quality=70)
    small, large = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (large.width, large.height) == (1280, 853)
    assert (small.width, small.height) == (320, 213)


def test_animated_gif_gives_its_first_frame() -> None:
    frames = _frames(5)
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    info = probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (info.format, info.frames) == ("gif", 5)
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _close_to(_decoded(thumb).getpixel((30, 20)), RED)


def test_animated_webp_gives_its_first_frame() -> None:
    frames = _frames(4)
    frames = [frames[1], *frames]  # blue first
    data = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50)
    info = probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (info.format, info.frames) == ("webp", 5)
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _close_to(_decoded(thumb).getpixel((30, 20)), BLUE)


def test_animated_png_counts_frames_and_gives_the_first() -> None:
    frames = _frames(3)
    data = _encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    assert probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS).frames == 3
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _close_to(_decoded(thumb).getpixel((30, 20)), RED)


def test_multi_picture_jpeg_is_a_jpeg() -> None:
    left, right = _frames(2)
    data = _encode(left, "MPO", save_all=True, append_images=[right])
    info = probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert (info.format, info.frames) == ("jpeg", 2)
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _close_to(_decoded(thumb).getpixel((30, 20)), RED)


def test_the_callers_file_stays_open() -> None:
    fp = io.BytesIO(_encode(_two_colour(), "PNG"))
    make_thumbnails(fp, max_pixels=MAX_PIXELS)
    assert not fp.closed


# --- orientation and metadata ------------------------------------------------------------------


def _exif(orientation: int, *, gps: bool = False) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Samsung"
    exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (37.0, 33.0, 58.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (126.0, 58.0, 40.0),
        }
    return exif


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG", "HEIF"])
def test_exif_orientation_6_comes_out_rotated(fmt: str) -> None:
    # Stored 400×200, left red / right blue; orientation 6 = turn 90° clockwise to display,
    # so the displayed image is 200×400 with red on top.
    data = _encode(_two_colour(), fmt, exif=_exif(6).tobytes())
    info = probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    if fmt != "HEIF":  # pillow-heif applies the rotation itself and reports none
        assert info.orientation == 6
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert (thumb.width, thumb.height) == (160, 320)
    im = _decoded(thumb)
    assert _close_to(im.getpixel((80, 20)), RED)
    assert _close_to(im.getpixel((80, 300)), BLUE)
    _assert_no_metadata(thumb)


def test_gps_exif_xmp_and_icc_never_reach_a_thumbnail() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(
        _two_colour(),
        "JPEG",
        exif=_exif(1, gps=True),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPS 37.5</x:xmpmeta>',
        icc_profile=icc,
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the source really has a position
    for thumb in make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS):
        _assert_no_metadata(thumb)
        assert b"Samsung" not in thumb.data
        assert b"GPS" not in thumb.data


def test_a_colour_profile_is_applied_then_dropped() -> None:
    # A greyscale image with a greyscale-appropriate profile would be unusual; use sRGB on RGB
    # and check the colours survive the conversion.
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_two_colour(), "PNG", icc_profile=icc)
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _close_to(_decoded(thumb).getpixel((10, 10)), RED)
    _assert_no_metadata(thumb)


def test_a_broken_colour_profile_is_ignored() -> None:
    data = _encode(_two_colour(), "PNG", icc_profile=b"not a profile at all" * 10)
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _close_to(_decoded(thumb).getpixel((10, 10)), RED)


# --- modes -------------------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = _encode(_two_colour(mode="CMYK"), "JPEG")
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    im = _decoded(thumb)
    assert im.mode == "RGB"
    assert _close_to(im.getpixel((10, 10)), RED, tolerance=60)


def test_palette_with_transparency_keeps_its_alpha() -> None:
    im = Image.new("P", (100, 50), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.paste(1, (50, 0, 100, 50))
    data = _encode(im, "PNG", transparency=1)
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    out = _decoded(thumb)
    assert out.mode == "RGBA"
    assert b"ALPH" in set(_riff_chunks(thumb.data)) or b"VP8L" in set(_riff_chunks(thumb.data))
    assert out.getpixel((10, 10))[3] == 255  # type: ignore[index]
    assert out.getpixel((90, 10))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize("mode", ["LA", "RGBA", "L", "1", "P"])
def test_other_modes_become_rgb_or_rgba(mode: str) -> None:
    im = _two_colour(mode="RGB").convert(mode)
    if "A" in mode:
        im.putpixel((0, 0), (0, 0) if mode == "LA" else (0, 0, 0, 0))  # one transparent pixel
    data = _encode(im, "PNG")
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    assert _decoded(thumb).mode == ("RGBA" if mode in ("LA", "RGBA") else "RGB")


def test_16_bit_greyscale_is_scaled_not_clipped_to_white() -> None:
    im = Image.new("I;16", (64, 64), 0x8000)
    data = _encode(im, "PNG")
    (thumb,) = make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS, sizes=(320,))
    value = _decoded(thumb).getpixel((32, 32))
    assert isinstance(value, tuple)
    assert 110 <= value[0] <= 145  # mid-grey


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),  # beyond Pillow's own error threshold
        (10_000, 10_000),  # between Pillow's warning and error thresholds
        (9_000, 9_000),  # over our limit, under Pillow's
        (50_000_001, 1),
    ],
)
def test_declared_pixel_count_is_refused_before_decoding(width: int, height: int) -> None:
    data = _declared_png(width, height)
    assert len(data) < 200
    tracemalloc.start()
    try:
        for call in (probe_image, make_thumbnails):
            with pytest.raises(MediaRefused) as refused:
                call(io.BytesIO(data), max_pixels=MAX_PIXELS)
            assert refused.value.reason == "too_many_pixels"
            assert refused.value.code == "media_refused"
            assert refused.value.data == {"reason": "too_many_pixels"}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024  # nothing near width × height bytes was allocated


def test_exactly_max_pixels_is_allowed() -> None:
    data = _encode(_two_colour((100, 50)), "PNG")
    assert probe_image(io.BytesIO(data), max_pixels=5000).width == 100
    with pytest.raises(MediaRefused, match="media_refused"):
        probe_image(io.BytesIO(data), max_pixels=4999)


def test_a_gif_of_ten_thousand_frames_is_refused_quickly() -> None:
    frame = _encode(Image.new("P", (4, 4), 1), "GIF")
    # Repeat the image block (descriptor + data) 10 000 times between header and trailer.
    header_end = frame.index(b"\x2c")  # the first image descriptor (no extensions written)
    header, block = frame[:header_end], frame[header_end:-1]
    data = header + block * 10_000 + b"\x3b"
    started = time.monotonic()
    with pytest.raises(MediaRefused) as refused:
        make_thumbnails(io.BytesIO(data), max_pixels=MAX_PIXELS)
    assert refused.value.reason == "too_many_frames"
    assert time.monotonic() - started < 10  # counting is header work: well under a second
    info = probe_image(io.BytesIO(data), max_pixels=MAX_PIXELS, max_frames=20_000)
    assert info.frames == 10_000


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "HEIF"])
def test_truncated_images_are_corrupt(fmt: str) -> None:
    data = _encode(_noise((300, 200)), fmt)
    for cut in (len(data) // 2, 40, 20):
        with pytest.raises(MediaRefused) as refused:
            make_thumbnails(io.BytesIO(data[:cut]), max_pixels=MAX_PIXELS)
        assert refused.value.reason == "corrupt", (fmt, cut)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        _encode(_two_colour(), "BMP"),
        _encode(_two_colour(), "TIFF"),
        _encode(_two_colour(), "ICO"),
        _encode(_two_colour(), "PPM"),
        _encode(_two_colour(), "TGA"),
        b"%PDF-1.4\n",
        b"",
    ],
    ids=["svg", "html", "bmp", "tiff", "ico", "ppm", "tga", "pdf", "empty"],
)
def test_formats_outside_the_allowlist_are_unsupported(data: bytes) -> None:
    for call in (probe_image, make_thumbnails):
        with pytest.raises(MediaRefused) as refused:
            call(io.BytesIO(data), max_pixels=MAX_PIXELS)
        assert refused.value.reason == "unsupported_format"


def test_bad_sizes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="positive"):
        make_thumbnails(io.BytesIO(b""), max_pixels=MAX_PIXELS, sizes=())


# --- fuzz --------------------------------------------------------------------------------------


def _fuzz_seeds() -> list[bytes]:
    frames = _frames(3, (24, 16))
    return [
        _encode(_noise((40, 30)), "JPEG", exif=_exif(6)),
        _encode(_noise((40, 30)), "PNG"),
        _encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
        _encode(_noise((40, 30)), "WEBP", lossless=True),
        _encode(_noise((40, 30)), "HEIF"),
    ]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        pos = rng.randrange(len(buf))
        if choice < 0.6:
            buf[pos] ^= 1 << rng.randrange(8)
        elif choice < 0.8:
            buf[pos] = rng.choice((0x00, 0xFF, 0x7F, 0x80))
        elif choice < 0.9:
            del buf[pos : pos + rng.randint(1, 64)]
        else:
            buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
    return bytes(buf)


@pytest.mark.parametrize("warnings_are", ["errors", "ignored"])
def test_mutated_and_random_inputs_only_ever_raise_media_refused(warnings_are: str) -> None:
    """Seeded mutations of real images plus random bytes; both with Pillow's warnings turned
    into errors (as in this suite) and ignored (as in production)."""
    with warnings.catch_warnings():
        if warnings_are == "ignored":
            warnings.simplefilter("ignore")
        outcomes = _fuzz_outcomes()
    assert set(outcomes) <= {
        "ok",
        "corrupt",
        "unsupported_format",
        "too_many_pixels",
        "too_many_frames",
    }
    assert outcomes.get("corrupt", 0) > 0
    assert outcomes.get("ok", 0) > 0


def _fuzz_outcomes() -> dict[str, int]:
    rng = random.Random(20260601)
    seeds = _fuzz_seeds()
    inputs = [_mutate(rng.choice(seeds), rng) for _ in range(800)]
    inputs += [rng.randbytes(rng.randint(0, 2000)) for _ in range(40)]
    inputs += [seed[:4] + rng.randbytes(200) for seed in seeds]  # right magic, garbage after
    outcomes: dict[str, int] = {}
    for data in inputs:
        try:
            make_thumbnails(io.BytesIO(data), max_pixels=1_000_000, sizes=(32, 64))
            probe_image(io.BytesIO(data), max_pixels=1_000_000)
            outcome = "ok"
        except MediaRefused as exc:
            outcome = exc.reason
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
