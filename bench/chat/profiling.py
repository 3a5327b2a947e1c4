"""Sampling the server with py-spy over a scenario's measured window (``--profile FILE``).

py-spy is not a project dependency; install it into the venv by hand (``uv pip install py-spy``,
not in the lock files). ``ProfilingSampler`` starts py-spy when the window starts
(``ProcSampler.mark``) and stops it when the window is reported, so the profile covers exactly
what was measured. With a ``.txt`` file the collapsed stacks are also summarised: the functions
with the most samples on CPU, by self and by inclusive time.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.chat.procstats import ProcSampler

FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        raise SystemExit("py-spy is not installed: uv pip install py-spy")
    fmt = "speedscope" if out.suffix == ".json" else "raw" if out.suffix == ".txt" else "flamegraph"
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["record", "--pid", str(pid), "--rate", "250", "--threads", "--gil"]
    args += ["--format", fmt, "--output", str(out), "--nonblocking"]
    return subprocess.Popen(  # noqa: S603 -- our own arguments
        [binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop_py_spy(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _frame_name(frame: str) -> str:
    found = FRAME_RE.match(frame.strip())
    if not found:
        return frame.strip()
    path = found["file"]
    for marker in ("site-packages/", "/src/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{found['func']} ({path})"


def summarise(path: Path, top: int = 25) -> dict[str, Any]:
    """Top functions by self and inclusive samples from py-spy's collapsed (raw) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        threads[frames[0].split(" ")[0] if frames else "?"] += count
        names = [_frame_name(f) for f in frames[1:]] or ["?"]
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count

    def pct(n: int) -> float:
        return round(100 * n / max(total, 1), 1)

    return {
        "samples": total,
        "threads": {k: pct(v) for k, v in threads.most_common(8)},
        "self_pct": {k: pct(v) for k, v in own.most_common(top)},
        "inclusive_pct": {k: pct(v) for k, v in inclusive.most_common(top)},
    }


class ProfilingSampler(ProcSampler):
    """A ``ProcSampler`` that runs py-spy on ``pid`` between ``mark()`` and ``report()``."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out
        self.pid: int | None = None
        self._spy: subprocess.Popen[bytes] | None = None
        self.summary: dict[str, Any] | None = None

    def mark(self) -> None:
        if self.pid is not None and self._spy is None:
            self._spy = start_py_spy(self.pid, self.out)
        super().mark()

    def report(self) -> dict[str, object]:
        out = super().report()
        if self._spy is not None:
            stop_py_spy(self._spy)
            self._spy = None
            if self.out.suffix == ".txt" and self.out.exists():
                self.summary = summarise(self.out)
        return out

    def stop(self) -> None:
        if self._spy is not None:
            stop_py_spy(self._spy)
            self._spy = None
        super().stop()
