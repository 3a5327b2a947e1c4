"""The iterator both backends hand out from ``open_read``.

A class rather than a generator: ``close()`` on a generator that never started does not run its
``finally``, which would leave the file or HTTP response open until garbage collection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sodam.files.base import BlobStoreError

READ_CHUNK = 1024 * 1024  # open_read yields at most this many bytes at a time


class ChunkIterator(Iterator[bytes]):
    """Yields ``read(n)`` results (``n`` ≤ 1 MiB) until ``length`` bytes (or EOF); errors from
    ``read`` pass through ``map_error``. Closes the source when exhausted, on error, or on
    ``close()``."""

    def __init__(
        self,
        read: Callable[[int], bytes],
        close: Callable[[], None],
        length: int | None,
        map_error: Callable[[Exception], BlobStoreError],
        errors: tuple[type[Exception], ...],
    ) -> None:
        self._read = read
        self._close: Callable[[], None] | None = close
        self._remaining = length
        self._map_error = map_error
        self._errors = errors

    def __iter__(self) -> ChunkIterator:
        return self

    def __next__(self) -> bytes:
        if self._close is None:
            raise StopIteration
        want = READ_CHUNK if self._remaining is None else min(READ_CHUNK, self._remaining)
        if want <= 0:
            self.close()
            raise StopIteration
        try:
            chunk = self._read(want)
        except self._errors as exc:
            self.close()
            raise self._map_error(exc) from exc
        if not chunk:
            self.close()
            raise StopIteration
        if self._remaining is not None:
            self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()

    def __enter__(self) -> ChunkIterator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
