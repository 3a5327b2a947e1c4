"""ClamdScanner against a real clamd (tests/support/clamd.py) and against misbehaving servers."""

from __future__ import annotations

import asyncio
import io
import tracemalloc
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from sodam.files.scanner import ClamdScanner, ScanVerdict
from tests.support.clamd import EICAR, EICAR_REPORTED, ClamdServer, _free_port, start_clamd

MiB = 1 << 20
MAX_BYTES = 400 * MiB


def _scanner(address: str, *, timeout_s: float = 60, max_bytes: int = MAX_BYTES) -> ClamdScanner:
    return ClamdScanner(address, timeout_s=timeout_s, max_bytes=max_bytes)


async def _scan_bytes(scanner: ClamdScanner, data: bytes) -> ScanVerdict:
    return await scanner.scan(iter([data]), len(data))


def _zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "nothing to see here\n" * 50)
        zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(params=["tcp", "unix"])
def address(request: pytest.FixtureRequest, clamd: ClamdServer) -> str:
    return clamd.tcp_address if request.param == "tcp" else clamd.unix_address


async def test_clean_text_is_clean(address: str) -> None:
    verdict = await _scan_bytes(_scanner(address), "회의록: 다음 주 화요일\n".encode() * 100)
    assert verdict == ScanVerdict("clean")


async def test_eicar_is_infected(address: str) -> None:
    verdict = await _scan_bytes(_scanner(address), EICAR)
    assert verdict == ScanVerdict("infected", signature=EICAR_REPORTED)


async def test_eicar_with_trailing_bytes_is_infected(clamd: ClamdServer) -> None:
    verdict = await _scan_bytes(_scanner(clamd.tcp_address), EICAR + b"\r\n" + b"x" * 5000)
    assert verdict.state == "infected"


async def test_eicar_inside_a_deflated_zip_is_infected(clamd: ClamdServer) -> None:
    archive = _zipped("문서/eicar.com", EICAR)
    assert EICAR not in archive  # compressed: only clamd's unpacking can find it
    verdict = await _scan_bytes(_scanner(clamd.tcp_address), archive)
    assert verdict == ScanVerdict("infected", signature=EICAR_REPORTED)


async def test_chunks_from_an_async_iterator(clamd: ClamdServer) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        yield EICAR[:30]  # the signature split across chunks
        yield EICAR[30:]

    verdict = await _scanner(clamd.unix_address).scan(chunks(), 1000 + len(EICAR))
    assert verdict.state == "infected"


async def test_a_30_mb_stream_is_scanned_in_flat_memory(clamd: ClamdServer) -> None:
    produced = 0

    def chunks() -> Iterator[bytes]:
        nonlocal produced
        for i in range(30):
            produced += MiB
            yield bytes([i]) * MiB

    tracemalloc.start()
    try:
        verdict = await _scanner(clamd.tcp_address).scan(chunks(), 30 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert verdict == ScanVerdict("clean")
    assert produced == 30 * MiB
    assert peak < 8 * MiB  # a few chunks in flight, never the whole file


async def test_large_chunks_are_cut_to_the_chunk_size(clamd: ClamdServer) -> None:
    scanner = ClamdScanner(clamd.tcp_address, chunk_size=64 * 1024, max_bytes=MAX_BYTES)
    data = b"z" * (3 * MiB) + EICAR
    assert (await scanner.scan(iter([data]), len(data))).state == "infected"


async def test_over_max_bytes_is_unscanned_without_asking_clamd() -> None:
    nobody = f"tcp://127.0.0.1:{_free_port()}"  # would answer "error" if it were contacted
    verdict = await _scanner(nobody, max_bytes=1000).scan(iter([b"x" * 1001]), 1001)
    assert verdict == ScanVerdict("unscanned", reason="too_large")


async def test_a_stream_longer_than_its_declared_size_stops_at_max_bytes(
    clamd: ClamdServer,
) -> None:
    scanner = ClamdScanner(clamd.tcp_address, chunk_size=1000, max_bytes=5000)
    verdict = await scanner.scan(iter([b"x" * 1000] * 10), 10)
    assert verdict == ScanVerdict("unscanned", reason="too_large")


async def test_an_error_in_the_source_propagates(clamd: ClamdServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x" * 100
        raise LookupError("blob gone")

    with pytest.raises(LookupError, match="blob gone"):
        await _scanner(clamd.tcp_address).scan(chunks(), 200)


async def test_ping_and_version(address: str) -> None:
    scanner = _scanner(address)
    assert await scanner.ping() is True
    version = await scanner.version()
    assert version is not None
    assert version.startswith("ClamAV ")


# --- clamd's own limits ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_clamd() -> Iterator[ClamdServer]:
    """clamd with tiny limits: 1 MiB streams, 256 KiB files, AlertExceedsMax on."""
    server = start_clamd(StreamMaxLength="1M", MaxFileSize="256K", MaxScanSize="256K")
    try:
        yield server
    finally:
        server.close()


async def test_a_stream_over_clamds_stream_limit_is_never_clean(small_clamd: ClamdServer) -> None:
    data = b"y" * (3 * MiB)
    scanner = ClamdScanner(small_clamd.tcp_address, chunk_size=64 * 1024, max_bytes=MAX_BYTES)
    verdict = await scanner.scan(iter([data]), len(data))
    assert verdict == ScanVerdict("unscanned", reason="scanner_limit")


async def test_a_file_over_clamds_file_limit_is_never_clean(small_clamd: ClamdServer) -> None:
    data = b"w" * (512 * 1024) + EICAR  # within StreamMaxLength, over MaxFileSize
    verdict = await _scan_bytes(_scanner(small_clamd.unix_address), data)
    assert verdict.state == "unscanned"
    assert verdict.reason == "scanner_limit"
    assert verdict.signature is not None
    assert verdict.signature.startswith("Heuristics.Limits.Exceeded")


async def test_without_alert_exceeds_max_clamd_fails_open() -> None:
    """Why docs/media.md insists on AlertExceedsMax: without it clamd answers OK for an
    infected file larger than MaxFileSize, and no client can tell."""
    server = await asyncio.to_thread(start_clamd, MaxFileSize="256K", AlertExceedsMax="no")
    try:
        data = b"w" * (512 * 1024) + EICAR
        verdict = await _scan_bytes(_scanner(server.tcp_address), data)
    finally:
        await asyncio.to_thread(server.close)
    assert verdict == ScanVerdict("clean")


# --- clamd down, hung or not clamd at all ------------------------------------------------------


async def test_a_stopped_clamd_is_an_error_at_once() -> None:
    server = await asyncio.to_thread(start_clamd)
    await asyncio.to_thread(server.stop)
    try:
        for address in (server.tcp_address, server.unix_address):
            scanner = _scanner(address, timeout_s=30)
            async with asyncio.timeout(10):  # refused at once, long before timeout_s
                verdict = await _scan_bytes(scanner, b"hello")
            assert verdict == ScanVerdict("error", reason="connection_failed")
            assert await scanner.ping() is False
    finally:
        await asyncio.to_thread(server.close)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def _serve(handler: Handler) -> AsyncIterator[str]:
    """A TCP server on a free port running ``handler`` per connection; on exit every
    connection is closed and every handler has finished."""
    tasks: list[asyncio.Task[Any]] = []
    writers: list[asyncio.StreamWriter] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        with suppress(OSError, asyncio.IncompleteReadError):
            await handler(reader, writer)

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield f"tcp://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in writers:
            with suppress(OSError):
                await writer.wait_closed()
        await server.wait_closed()


async def test_a_server_that_never_answers_times_out() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass  # swallows the stream and the terminator, answers nothing
        await release.wait()

    async with _serve(silent) as address:
        try:
            verdict = await _scan_bytes(_scanner(address, timeout_s=0.5), b"x" * 10_000)
        finally:
            release.set()
    assert verdict == ScanVerdict("error", reason="timeout")


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"stream: maybe\0", b"\x00", b"x" * 10_000],
    ids=["http", "unknown-status", "empty", "long-garbage"],
)
async def test_a_server_answering_garbage_is_an_error_to_retry(answer: bytes) -> None:
    """Not clamd (a wrong address) or a protocol we do not know: never clean, and retried
    rather than final, so fixing the address gets the files scanned."""

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(len(b"zINSTREAM\0"))
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with _serve(garbage) as address:
        verdict = await _scan_bytes(_scanner(address, timeout_s=10), b"x" * 100)
    assert verdict.state == "error"
    assert verdict.reason in ("bad_reply", "connection_failed")


async def test_clamds_error_replies_are_unscanned() -> None:
    async def erroring(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(len(b"zINSTREAM\0"))
        writer.write(b"stream: Can't allocate memory ERROR\0")
        await writer.drain()
        writer.close()

    async with _serve(erroring) as address:
        verdict = await _scan_bytes(_scanner(address, timeout_s=10), b"x" * 100)
    assert verdict == ScanVerdict("unscanned", reason="scanner_error")


async def test_a_server_that_hangs_up_is_a_connection_error() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    async with _serve(hang_up) as address:
        verdict = await _scan_bytes(_scanner(address, timeout_s=10), b"x" * 100)
    assert verdict == ScanVerdict("error", reason="connection_failed")


@pytest.mark.parametrize(
    "address", ["127.0.0.1:3310", "tcp://127.0.0.1", "http://x:1", "unix://", "clamd"]
)
def test_a_malformed_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="not a clamd address"):
        ClamdScanner(address, max_bytes=1)


def test_unix_and_tcp_addresses_parse(tmp_path: Path) -> None:
    assert ClamdScanner(f"unix://{tmp_path}/c.ctl", max_bytes=1).address.startswith("unix://")
    assert ClamdScanner("tcp://[::1]:3310", max_bytes=1).address == "tcp://[::1]:3310"
