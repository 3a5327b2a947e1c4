"""Failpoints: named places where a fault test makes this process fail on purpose
(reliability.md F1, F2, F7; docs/fault-tests.md).

They are **off** unless configured, and nothing is read at import time: ``build_app`` makes one
``Failpoints`` from the settings and hands it to the code that has failpoints.

- ``SODAM_FAILPOINTS`` (setting ``failpoints``) arms failpoints from the start;
- ``SODAM_FAILPOINTS_FILE`` (setting ``failpoints_file``) names a file that is read again whenever
  it changes, so a test arms or disarms a failpoint in a running server (after its setup is done).

Syntax: ``name=action[@key]``, separated by commas or new lines. Actions:

- ``kill``: SIGKILL this very process at that point (kill -9: no cleanup, nothing flushed);
- ``drop``: skip the step the failpoint guards;
- ``sleep:<seconds>``: the step is slowed down by that long (how: see the table).

``@key`` restricts a failpoint to hits with that key, e.g. one send's ``client_msg_id``, so the
rest of a test's load runs normally.

| name | where | actions |
|---|---|---|
| ``send.before_commit`` | in the send transaction, after the insert, before COMMIT | kill |
| ``send.after_commit`` | after COMMIT, before the answer and the fan-out | kill |
| ``send.before_fanout`` | after COMMIT: the answer goes out, the bus publish does not | drop |
| ``db.slow`` | every PostgreSQL transaction starts with ``SELECT pg_sleep(s)`` | sleep:<s> |
| ``files.scan.streaming`` | a scan, after each chunk sent to clamd (key: attachment id) | kill |
| ``files.scan.before_verdict`` | a scan, clamd has answered, the verdict is not stored | kill |
| ``files.thumbnail.before_commit`` | thumbnails stored, their state not recorded | kill |
| ``files.thumbnail.after_commit`` | thumbnail state and event committed, the job not done | kill |

When nothing is configured a check costs one attribute test; with a file configured, one
``stat`` per check (tests only).
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ACTIONS = ("kill", "drop", "sleep")


@dataclass(frozen=True, slots=True)
class Failpoint:
    name: str
    action: str
    seconds: float = 0.0
    key: str | None = None


def parse_failpoints(spec: str) -> dict[str, Failpoint]:
    """``name=action[@key]`` entries separated by commas or new lines; raises ValueError."""
    out: dict[str, Failpoint] = {}
    for raw in spec.replace("\n", ",").split(","):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        name, sep, rest = entry.partition("=")
        action, _, key = rest.partition("@")
        verb, _, arg = action.partition(":")
        if not sep or not name.strip() or verb not in ACTIONS:
            raise ValueError(f"invalid failpoint {entry!r}: use name=kill|drop|sleep:<s>[@key]")
        seconds = float(arg) if verb == "sleep" else 0.0
        if verb == "sleep" and not 0 < seconds <= 3600:
            raise ValueError(f"invalid failpoint {entry!r}: sleep needs 0 < seconds <= 3600")
        out[name.strip()] = Failpoint(name.strip(), verb, seconds, key.strip() or None)
    return out


class Failpoints:
    def __init__(self, spec: str = "", file: Path | None = None) -> None:
        self._static = parse_failpoints(spec)
        self._file = file
        self._stamp: tuple[int, int, int] | None = None
        self._from_file: dict[str, Failpoint] = {}
        self.enabled = bool(self._static) or file is not None
        if self.enabled:
            logger.warning("failpoints are enabled: this server fails on purpose (tests only)")

    def check(self, name: str, key: str | None = None) -> Failpoint | None:
        """The failpoint armed at ``name`` for ``key``, if any; ``kill`` does not return."""
        if not self.enabled:
            return None
        point = self._current().get(name)
        if point is None or (point.key is not None and point.key != key):
            return None
        logger.warning("failpoint %s hit: %s", name, point.action)
        if point.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return point

    def _current(self) -> dict[str, Failpoint]:
        if self._file is None:
            return self._static
        try:
            st = self._file.stat()
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            try:
                text = self._file.read_text(encoding="utf-8") if stamp else ""
                self._from_file = parse_failpoints(text)
            except (OSError, ValueError):
                logger.exception("failpoints file unreadable; keeping the previous failpoints")
            self._stamp = stamp
        return {**self._static, **self._from_file}
