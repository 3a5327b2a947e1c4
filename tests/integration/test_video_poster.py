"""video_poster() with the real ffmpeg: videos it makes itself, and files that are not videos."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from sodam.files.media import make_thumbnails, video_poster


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("ffmpeg is missing in CI: scripts/ensure-system-deps.sh installs it")
        pytest.skip("ffmpeg not installed")
    return found


def _make_video(ffmpeg: str, path: Path, size: str, *extra: str) -> Path:
    subprocess.run(
        [
            *(ffmpeg, "-nostdin", "-v", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc=d=1:s={size}"),
            *(*extra, "-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
        timeout=120,
    )
    return path


def _png_size(data: bytes) -> tuple[int, int]:
    im = Image.open(io.BytesIO(data), formats=["PNG"])
    return im.size


def test_poster_of_a_small_mp4(ffmpeg: str, tmp_path: Path) -> None:
    video = _make_video(ffmpeg, tmp_path / "clip.mp4", "320x240")
    poster = video_poster(video, ffmpeg=ffmpeg)
    assert poster is not None
    assert _png_size(poster) == (320, 240)
    small, large = make_thumbnails(io.BytesIO(poster), max_pixels=50_000_000)
    assert (small.width, small.height) == (320, 240)
    assert (large.width, large.height) == (320, 240)


def test_poster_is_scaled_to_1280(ffmpeg: str, tmp_path: Path) -> None:
    video = _make_video(ffmpeg, tmp_path / "hd.mp4", "1920x1080")
    poster = video_poster(video, ffmpeg=ffmpeg)
    assert poster is not None
    assert _png_size(poster) == (1280, 720)


@pytest.mark.parametrize(("name", "codec"), [("clip.webm", "libvpx"), ("clip.mov", "mpeg4")])
def test_poster_of_webm_and_quicktime(ffmpeg: str, tmp_path: Path, name: str, codec: str) -> None:
    video = _make_video(ffmpeg, tmp_path / name, "160x120", "-c:v", codec)
    poster = video_poster(video, ffmpeg=ffmpeg)
    assert poster is not None
    assert _png_size(poster) == (160, 120)


def test_found_on_path_when_not_given(ffmpeg: str, tmp_path: Path) -> None:
    video = _make_video(ffmpeg, tmp_path / "clip.mp4", "64x48")
    assert video_poster(video, ffmpeg=None) is not None


def test_names_that_look_like_options_or_protocols_are_just_files(
    ffmpeg: str, tmp_path: Path
) -> None:
    for name in ("-i 동영상.mp4", "concat:a|b.mp4", "http:x.mp4"):
        video = _make_video(ffmpeg, tmp_path / "source.mp4", "64x48")
        target = video.rename(tmp_path / name)
        assert video_poster(target, ffmpeg=ffmpeg) is not None, name


def test_a_file_that_is_not_a_video_gives_none(ffmpeg: str, tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("회의록: 다음 주 화요일\n" * 100, encoding="utf-8")
    assert video_poster(path, ffmpeg=ffmpeg) is None


@pytest.mark.parametrize("name", ["playlist.bin", "playlist.mp4", "playlist"])
def test_a_playlist_in_disguise_is_not_followed(ffmpeg: str, tmp_path: Path, name: str) -> None:
    """An ffconcat (or HLS) playlist makes ffmpeg read other files, which could put another
    file's contents into a poster; only video container demuxers are allowed. (Without
    -format_whitelist, ffmpeg happily makes a poster from this one.)"""
    _make_video(ffmpeg, tmp_path / "other.mp4", "64x48")
    playlist = tmp_path / name
    playlist.write_text("ffconcat version 1.0\nfile other.mp4\n", encoding="ascii")
    assert video_poster(playlist, ffmpeg=ffmpeg) is None


def test_audio_only_gives_none(ffmpeg: str, tmp_path: Path) -> None:
    audio = tmp_path / "voice.m4a"
    subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", str(audio)],
        check=True,
        timeout=120,
    )
    assert video_poster(audio, ffmpeg=ffmpeg) is None


def test_missing_file_and_missing_ffmpeg_give_none(
    ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert video_poster(tmp_path / "absent.mp4", ffmpeg=ffmpeg) is None
    video = _make_video(ffmpeg, tmp_path / "clip.mp4", "64x48")
    assert video_poster(video, ffmpeg=str(tmp_path / "no-such-ffmpeg")) is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert video_poster(video, ffmpeg=None) is None


def test_a_hung_ffmpeg_is_killed_at_the_timeout(tmp_path: Path) -> None:
    hung = tmp_path / "hung-ffmpeg"
    hung.write_text("#!/bin/sh\nexec sleep 60\n", encoding="ascii")
    hung.chmod(0o755)
    started = time.monotonic()
    assert video_poster(tmp_path / "clip.mp4", ffmpeg=str(hung), timeout_s=0.5) is None
    assert time.monotonic() - started < 30
