"""Image probing, thumbnails and video poster frames (blocking: callers run these in a thread).

Defences, in the order they apply:

1. Only allowlisted decoders: Pillow opens a file only with the JPEG (and its multi-picture
   variant MPO), PNG, GIF and WebP plugins and pillow-heif's HEIF plugin. BMP, TIFF, SVG, PSD,
   ICO ... are refused as ``unsupported_format`` without any decoder looking at them.
2. Header first: opening reads only the header. The declared ``width × height`` is checked
   against ``max_pixels`` and the frame count against ``max_frames`` before a single pixel is
   decoded, so a 100000×100000 PNG of a few hundred bytes costs nothing. Pillow's own guard
   (``Image.MAX_IMAGE_PIXELS``, a warning above ~89 M pixels and an error above twice that) is
   left as it is: this module never changes Pillow's global state, and treats that warning or
   error as ``too_many_pixels`` too (``FileSettings.image_max_pixels`` stays below Pillow's
   limit, so the two never disagree).
3. Only the first frame of an animation is decoded; JPEGs are decoded at a reduced scale
   (DCT scaling) when the thumbnail is much smaller than the photo.
4. Every failure inside Pillow (OSError, SyntaxError, ValueError, EOFError, struct.error ...) is
   ``MediaRefused("corrupt")``: a truncated or hostile file never escapes as another exception.

Pillow's WebP and pillow-heif's HEIF plugins read the whole file into memory when they open it
(before any pixel is decoded): memory for those is bounded by the attachment size limit.

Thumbnails are WebP with no metadata at all (no EXIF, so no GPS position; no XMP; no ICC
profile): the EXIF orientation is applied to the pixels and an embedded colour profile is
converted to sRGB before it is dropped.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from sodam.errors import InvalidInput
from sodam.files.sniff import image_type

logger = logging.getLogger(__name__)

# Pillow plugin ids tried by Image.open (MPO files are opened through the JPEG plugin).
_PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "HEIF")
_FORMAT_NAMES = {
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "HEIF": "heic",
}
# What Pillow and its C decoders raise on truncated or malformed input. Pillow also *warns* about
# some malformed data (a truncated EXIF block, an invalid APNG); where warnings are errors (the
# test suite) those arrive as exceptions and mean the same thing.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    Warning,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    ImageCms.PyCMSError,
)
THUMBNAIL_CONTENT_TYPE = "image/webp"
THUMBNAIL_QUALITY = 80
POSTER_MAX_SIDE = 1280
_EXIF_ORIENTATION = 0x0112


class MediaRefused(InvalidInput):
    """The file is not an image this module will decode. ``reason`` is stable:
    ``unsupported_format``, ``too_many_pixels``, ``too_many_frames`` or ``corrupt``."""

    default_code = "media_refused"
    default_message = "The image cannot be processed."

    def __init__(self, reason: str) -> None:
        super().__init__(data={"reason": reason})
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str  # jpeg | png | gif | webp | heic
    width: int
    height: int
    frames: int
    orientation: int | None  # the EXIF orientation (1-8) when the file has one


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    width: int
    height: int
    content_type: str


_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Registers pillow-heif's Pillow plugin once (lazily: importing it loads libheif)."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif  # here: importing it loads libheif

            pillow_heif.register_heif_opener()
            _heif_registered = True


def probe_image(fp: BinaryIO, *, max_pixels: int, max_frames: int = 1000) -> ImageInfo:
    """Reads only the header of the image in ``fp`` and checks it against the limits; raises
    ``MediaRefused`` for anything that is not an acceptable jpeg/png/gif/webp/heic image."""
    with _open_image(fp) as im:
        return _checked_info(im, max_pixels=max_pixels, max_frames=max_frames)


def make_thumbnails(
    fp: BinaryIO, *, max_pixels: int, sizes: Sequence[int] = (320, 1280)
) -> list[Thumbnail]:
    """WebP thumbnails of the image in ``fp``, one per size (the longest side at most that
    many pixels, never upscaled), in the order of ``sizes``; raises ``MediaRefused``."""
    if not sizes or min(sizes) < 1:
        raise ValueError("thumbnail sizes must be positive")
    with _open_image(fp) as im:
        _checked_info(im, max_pixels=max_pixels, max_frames=1000)
        try:
            frame = _first_frame_upright(im, max(sizes))
            return [_encode_webp(_fit(frame, size)) for size in sizes]
        except _DECODE_ERRORS as exc:
            logger.info("image refused while decoding: %s", type(exc).__name__)
            raise MediaRefused("corrupt") from exc


@contextmanager
def _open_image(fp: BinaryIO) -> Iterator[ImageFile.ImageFile]:
    _register_heif()
    start = fp.tell()
    try:
        im = Image.open(fp, formats=_PILLOW_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning is only raised when warnings are errors (the test suite).
        raise MediaRefused("too_many_pixels") from exc
    except UnidentifiedImageError as exc:
        fp.seek(start)
        reason = "corrupt" if image_type(fp.read(64)) else "unsupported_format"
        raise MediaRefused(reason) from exc
    except _DECODE_ERRORS as exc:
        raise MediaRefused("corrupt") from exc
    # The context manager, not close(): close() would also close ``fp``, which the caller owns.
    with im:
        if not isinstance(im, ImageFile.ImageFile) or im.format not in _FORMAT_NAMES:
            raise MediaRefused("unsupported_format")
        yield im


def _checked_info(im: ImageFile.ImageFile, *, max_pixels: int, max_frames: int) -> ImageInfo:
    width, height = im.size
    if width < 1 or height < 1:
        raise MediaRefused("corrupt")
    if width * height > max_pixels:
        raise MediaRefused("too_many_pixels")
    try:
        # Header-derived for PNG (acTL), WebP and HEIF; GIF walks the blocks without decoding.
        frames = int(getattr(im, "n_frames", 1))
        orientation = _orientation(im)
    except _DECODE_ERRORS as exc:
        raise MediaRefused("corrupt") from exc
    if frames > max_frames:
        raise MediaRefused("too_many_frames")
    return ImageInfo(
        format=_FORMAT_NAMES[str(im.format)],
        width=width,
        height=height,
        frames=frames,
        orientation=orientation,
    )


def _orientation(im: ImageFile.ImageFile) -> int | None:
    if im.format == "PNG" and "exif" not in im.info:
        # PngImageFile.getexif() decodes the whole image to look for an eXIf chunk after the
        # pixels; only one before them (already parsed by open) is read here.
        return None
    value = im.getexif().get(_EXIF_ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _first_frame_upright(im: ImageFile.ImageFile, largest: int) -> Image.Image:
    """The first frame decoded, turned per its EXIF orientation, in RGB or RGBA (sRGB)."""
    im.seek(0)  # already there after open; a no-op that keeps the draft below intact
    if im.format in ("JPEG", "MPO"):
        # Decode at 1/2, 1/4 or 1/8 scale when that still leaves at least ``largest`` pixels
        # on each side: a 50-megapixel photo never needs to be decoded in full for 1280 px.
        im.draft(None, (largest, largest))
    im.load()
    frame = ImageOps.exif_transpose(im)
    return _to_srgb(frame)


def _to_srgb(im: Image.Image) -> Image.Image:
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
    if im.mode.startswith("I;16") or im.mode == "I":
        # 16-bit greyscale: scale to 8 bits (a plain convert("L") would clip everything to white).
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    icc = im.info.get("icc_profile")
    if icc and not has_alpha and im.mode in ("RGB", "CMYK", "L"):
        try:
            converted = ImageCms.profileToProfile(
                im,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken profile: fall back to the plain conversion below
        if converted is not None:
            return converted
    return im.convert("RGBA" if has_alpha else "RGB")


def _fit(im: Image.Image, size: int) -> Image.Image:
    width, height = im.size
    scale = size / max(width, height)
    if scale >= 1:
        return im  # never upscale: a small image is re-encoded at its own size
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode_webp(im: Image.Image) -> Thumbnail:
    clean = im.copy()
    clean.info = {}  # nothing of the source's metadata may reach the encoder
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4, exif=b"", xmp=b"")
    return Thumbnail(
        data=out.getvalue(),
        width=clean.width,
        height=clean.height,
        content_type=THUMBNAIL_CONTENT_TYPE,
    )


# --- video -------------------------------------------------------------------------------------

# Demuxers ffmpeg may use: the containers sniff() reports as video. Without this list ffmpeg
# would probe any format, including playlists (HLS, concat) that make it read other files.
_FFMPEG_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"


def video_poster(path: Path, *, ffmpeg: str | None, timeout_s: float = 20) -> bytes | None:
    """The first video frame of ``path`` as PNG bytes (longest side at most 1280 px), or None
    when ffmpeg is not installed, times out or cannot read the file. Run ``make_thumbnails``
    on the result."""
    binary = ffmpeg or shutil.which("ffmpeg")
    if binary is None:
        return None
    scale = (
        f"scale=w='min({POSTER_MAX_SIDE},iw)':h='min({POSTER_MAX_SIDE},ih)'"
        ":force_original_aspect_ratio=decrease"
    )
    args = [
        binary,
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        _FFMPEG_DEMUXERS,
        "-i",
        # "file:" keeps a name like "concat:a|b" or "http://..." from naming a protocol.
        "file:" + os.fspath(path.absolute()),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        scale,
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ]
    try:
        result = subprocess.run(  # noqa: S603 -- fixed arguments, the input is a path after -i
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning("ffmpeg poster frame timed out after %.0f s", timeout_s)
        return None
    except OSError as exc:
        logger.warning("ffmpeg could not run: %s", exc)
        return None
    if result.returncode != 0 or not result.stdout.startswith(b"\x89PNG"):
        logger.info(
            "ffmpeg found no poster frame (exit %s): %s",
            result.returncode,
            result.stderr[:300].decode("utf-8", "replace").strip(),
        )
        return None
    return result.stdout
