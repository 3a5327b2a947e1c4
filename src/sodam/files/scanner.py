"""Virus scanning with clamd over its INSTREAM command.

A verdict is one of:

- ``clean``: clamd scanned the whole stream and answered ``stream: OK``;
- ``infected``: clamd answered ``stream: <signature> FOUND``;
- ``unscanned`` (final; ``reason``): ``too_large`` (over ``max_bytes``, clamd not asked),
  ``scanner_limit`` (clamd refused the size, or reported ``Heuristics.Limits.Exceeded.*`` because
  ``AlertExceedsMax`` is on), ``scanner_error`` (clamd answered ``... ERROR``);
- ``error`` (transient; ``reason``): ``connection_failed``, ``timeout``, ``bad_reply``. The
  caller keeps the file pending and tries again later.

Nothing but ``stream: OK`` is ever ``clean``. clamd's own limits fail *open* (a file over
``MaxFileSize``/``MaxScanSize`` is reported OK without being scanned unless ``AlertExceedsMax
yes``), so ``max_bytes`` must not exceed clamd's ``StreamMaxLength`` and clamd must be configured
as docs/media.md says.

Why not ``aioclamd``: its ``instream`` reads a synchronous file object in 1 KiB pieces, speaks TCP
only (no unix socket), and when clamd answers early ("INSTREAM size limit exceeded") and closes,
the failed write surfaces as a connection error and the answer is lost. This client streams
chunks from an (async or sync) iterator, never holding more than one chunk, looks for an early
answer between chunks, and works over TCP and unix sockets.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

ScanState = Literal["clean", "infected", "unscanned", "error"]
_REPLY_MAX_BYTES = 4096
_LIMIT_SIGNATURE_PREFIX = "Heuristics.Limits.Exceeded"


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    state: ScanState
    signature: str | None = None
    reason: str | None = None


class _SourceFailed(Exception):
    """Wraps an exception raised by the caller's chunk iterator so it is not taken for a
    scanner failure; re-raised unwrapped."""


class ClamdScanner:
    """A clamd client. ``address`` is ``tcp://host:port`` or ``unix:///path/to/clamd.ctl``;
    ``timeout_s`` bounds a whole call (connect, stream, scan, reply)."""

    def __init__(
        self,
        address: str,
        *,
        timeout_s: float = 60,
        chunk_size: int = 1 << 20,
        max_bytes: int,
    ) -> None:
        if timeout_s <= 0 or chunk_size < 1 or max_bytes < 0:
            raise ValueError("timeout_s, chunk_size and max_bytes must be positive")
        parts = urlsplit(address)
        self._unix_path: str | None = None
        self._host: str | None = None
        self._port = 0
        if parts.scheme == "unix" and parts.path:
            self._unix_path = parts.path
        elif parts.scheme == "tcp" and parts.hostname and parts.port:
            self._host, self._port = parts.hostname, parts.port
        else:
            raise ValueError(f"not a clamd address (tcp://host:port or unix:///path): {address!r}")
        self.address = address
        self.timeout_s = timeout_s
        self.chunk_size = chunk_size
        self.max_bytes = max_bytes

    async def scan(self, chunks: AsyncIterator[bytes] | Iterator[bytes], size: int) -> ScanVerdict:
        """Streams the file's bytes to clamd and returns its verdict. A synchronous iterator
        (a blob store reader) is advanced in a worker thread. Exceptions raised by the iterator
        propagate unchanged."""
        if size > self.max_bytes:
            return ScanVerdict("unscanned", reason="too_large")
        try:
            async with asyncio.timeout(self.timeout_s):
                with await self._connect() as sock:
                    return await self._instream(sock, chunks)
        except _SourceFailed as exc:
            assert exc.__cause__ is not None  # noqa: S101 -- always raised "from" the original
            raise exc.__cause__ from None
        except TimeoutError:
            logger.warning("clamd at %s timed out after %.0f s", self.address, self.timeout_s)
            return ScanVerdict("error", reason="timeout")
        except OSError as exc:  # refused, reset, closed without a reply
            logger.warning("clamd at %s failed: %s", self.address, type(exc).__name__)
            return ScanVerdict("error", reason="connection_failed")

    async def ping(self) -> bool:
        """Whether clamd answers PING with PONG within the timeout."""
        return await self._command(b"PING") == "PONG"

    async def version(self) -> str | None:
        """clamd's version line ("ClamAV 1.4.6/27000/..."), or None when it does not answer."""
        reply = await self._command(b"VERSION")
        return reply if reply and reply.startswith("ClamAV") else None

    # --- protocol ------------------------------------------------------------------------------
    # Plain non-blocking sockets rather than asyncio streams: when clamd answers early ("INSTREAM
    # size limit exceeded. ERROR") and closes with our data unread, its kernel resets the
    # connection, and a stream transport would drop the answer already received as soon as a
    # write fails. A socket still hands out what it received before the reset.

    async def _connect(self) -> socket.socket:
        loop = asyncio.get_running_loop()
        if self._unix_path is not None:
            candidates: list[tuple[socket.AddressFamily, Any]] = [(socket.AF_UNIX, self._unix_path)]
        else:
            infos = await loop.getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)
            candidates = [(family, addr) for family, _, _, _, addr in infos]
        error: OSError = ConnectionRefusedError(f"no address for {self.address}")
        for family, addr in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, addr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        raise error

    async def _command(self, command: bytes) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s):
                with await self._connect() as sock:
                    await loop.sock_sendall(sock, b"z" + command + b"\0")
                    reply = await _read_reply(sock, bytearray())
        except (TimeoutError, OSError):
            return None
        return _decode(reply) if reply is not None else None

    async def _instream(
        self, sock: socket.socket, chunks: AsyncIterator[bytes] | Iterator[bytes]
    ) -> ScanVerdict:
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"zINSTREAM\0")
        received = bytearray()
        sent = 0
        try:
            async with aclosing(_pieces(chunks, self.chunk_size)) as pieces:
                async for piece in pieces:
                    if _answered_early(sock, received):
                        break
                    sent += len(piece)
                    if sent > self.max_bytes:  # the caller's size was wrong
                        return ScanVerdict("unscanned", reason="too_large")
                    # One buffer: a 4-byte write alone would wait on Nagle and delayed ACKs.
                    await loop.sock_sendall(sock, struct.pack(">I", len(piece)) + piece)
                else:
                    await loop.sock_sendall(sock, b"\0\0\0\0")
        except (ConnectionResetError, BrokenPipeError):
            pass  # clamd answered and hung up, or failed: what it said (if anything) decides
        reply = await _read_reply(sock, received)
        if reply is None:
            return ScanVerdict("error", reason="bad_reply")
        if not reply:
            raise ConnectionResetError("clamd closed the connection without an answer")
        return _verdict(_decode(reply))


def _answered_early(sock: socket.socket, received: bytearray) -> bool:
    """Whether clamd has already said something (or hung up) while we are still sending."""
    try:
        data = sock.recv(_REPLY_MAX_BYTES)
    except (BlockingIOError, InterruptedError):
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    received += data
    return True  # an answer, or b"" = end of stream


async def _read_reply(sock: socket.socket, received: bytearray) -> bytes | None:
    """The reply up to its NUL terminator (or whatever came before the connection ended);
    None when it grows past any reply clamd sends."""
    loop = asyncio.get_running_loop()
    while b"\0" not in received:
        if len(received) > _REPLY_MAX_BYTES:
            return None
        try:
            data = await loop.sock_recv(sock, _REPLY_MAX_BYTES)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not data:
            break
        received += data
    return bytes(received.split(b"\0", 1)[0])


async def _pieces(
    chunks: AsyncIterator[bytes] | Iterator[bytes], size: int
) -> AsyncGenerator[bytes, None]:
    """The caller's chunks cut to at most ``size`` bytes (clamd refuses a chunk longer than
    StreamMaxLength); a synchronous iterator is advanced in a thread."""
    while True:
        try:
            if isinstance(chunks, AsyncIterator):
                chunk = await anext(chunks, None)
            else:
                chunk = await asyncio.to_thread(next, chunks, None)
        except Exception as exc:
            raise _SourceFailed from exc
        if chunk is None:
            return
        view = memoryview(chunk)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size]) if len(view) > size else chunk


def _decode(reply: bytes) -> str:
    return reply.decode("utf-8", "replace").strip()


def _verdict(reply: str) -> ScanVerdict:
    if reply == "stream: OK":
        return ScanVerdict("clean")
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream: ").removesuffix(" FOUND").strip()
        if signature.startswith(_LIMIT_SIGNATURE_PREFIX):
            # AlertExceedsMax: a limit was reached, so part of the file went unscanned.
            return ScanVerdict("unscanned", signature=signature, reason="scanner_limit")
        return ScanVerdict("infected", signature=signature or "unknown")
    if reply == "INSTREAM size limit exceeded. ERROR":
        return ScanVerdict("unscanned", reason="scanner_limit")
    if reply.endswith("ERROR"):
        logger.warning("clamd answered an error: %s", reply[:200])
        return ScanVerdict("unscanned", reason="scanner_error")
    # "COMMAND READ TIMED OUT" (clamd's ReadTimeout while we were slow to send), or something
    # that is not clamd at all: worth trying again later, never clean.
    logger.warning("unexpected answer from clamd: %r", reply[:200])
    return ScanVerdict("error", reason="bad_reply")
