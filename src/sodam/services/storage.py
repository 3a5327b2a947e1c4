"""Blob store errors as the service errors clients see (507 storage_full, 503
storage_unavailable, 404 file_not_found), and the threads blob store calls run on."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import ParamSpec, TypeVar

from sodam.errors import AppError, NotFound, Unavailable
from sodam.files.base import BlobNotFound, StorageFull, StorageUnavailable

P = ParamSpec("P")
T = TypeVar("T")
BLOB_THREADS = 32


class InsufficientStorage(AppError):
    default_code = "storage_full"
    default_message = "The server has no room to store this file."


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except StorageFull as exc:
        raise InsufficientStorage() from exc
    except StorageUnavailable as exc:
        raise Unavailable(
            "storage_unavailable",
            "File storage is unavailable; try again later.",
            {"retry_after_s": 5},
        ) from exc
    except BlobNotFound as exc:
        raise NotFound("file_not_found", "No such file.") from exc


class BlobIO:
    """Runs the blocking blob store calls on threads of their own.

    A store that stops answering (S3 stalled behind a dead route) holds each call's thread for
    its whole timeout. On the event loop's default executor (``asyncio.to_thread``: only
    min(32, CPUs + 4) threads) a few such calls would leave nothing for what else needs it:
    password checks at login, DNS lookups when Redis or clamd reconnect. Here they can occupy
    only these threads; beyond ``workers`` calls, blob calls wait for each other (F13).
    """

    def __init__(self, workers: int = BLOB_THREADS, *, name: str = "sodam-blob") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a blob thread, with the caller's context (log fields)."""
        call = partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        """Stops taking calls; threads still waiting for a store finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
