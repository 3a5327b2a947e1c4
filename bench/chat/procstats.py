"""CPU time and memory of processes, read from /proc (Linux only).

``ProcSampler`` samples a set of processes every ``interval`` seconds in a background thread and
keeps, per group (e.g. "server", "postgres"), the CPU seconds used between ``mark()`` and
``stop()`` and the peak resident set size seen. Process groups can be given as fixed PIDs or as a
parent PID whose children are included too (PostgreSQL forks a backend per connection).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_times(pid: int) -> tuple[float, float] | None:
    """(utime, stime) of a process (all its threads) in seconds, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), or None if it is gone."""
    times = cpu_times(pid)
    return None if times is None else times[0] + times[1]


def rss_bytes(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return int(raw[1]) * PAGE


def status_field(pid: int, name: str) -> int | None:
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM) in bytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def children_of(parent: int) -> list[int]:
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2 :].split()[1]) == parent:
            out.append(int(entry.name))
    return out


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over cores."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in first[:8]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values)
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class Group:
    pids: list[int]
    with_children: bool = False
    cpu_at_mark: dict[int, float] = field(default_factory=dict)
    cpu_last: dict[int, float] = field(default_factory=dict)
    sys_at_mark: dict[int, float] = field(default_factory=dict)
    sys_last: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0
    rss_last: int = 0

    def members(self) -> list[int]:
        if not self.with_children:
            return list(self.pids)
        out = list(self.pids)
        for pid in self.pids:
            out.extend(children_of(pid))
        return out


class ProcSampler:
    """Samples CPU and RSS of process groups; ``mark()`` starts the measured window."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.groups: dict[str, Group] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._marked_at = time.monotonic()
        self._machine_at_mark = machine_busy_seconds()
        self._self_at_mark = 0.0

    def add(self, name: str, pids: list[int], *, with_children: bool = False) -> None:
        with self._lock:
            self.groups[name] = Group(list(pids), with_children)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="procstats", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        with self._lock:
            for group in self.groups.values():
                rss = 0
                for pid in group.members():
                    times = cpu_times(pid)
                    if times is None:
                        continue
                    group.cpu_last[pid] = times[0] + times[1]
                    group.cpu_at_mark.setdefault(pid, times[0] + times[1])
                    group.sys_last[pid] = times[1]
                    group.sys_at_mark.setdefault(pid, times[1])
                    rss += rss_bytes(pid) or 0
                group.rss_last = rss
                group.peak_rss = max(group.peak_rss, rss)

    def mark(self) -> None:
        """Starts the measured window: CPU is counted from here; peaks restart."""
        self.sample()
        with self._lock:
            for group in self.groups.values():
                group.cpu_at_mark = dict(group.cpu_last)
                group.sys_at_mark = dict(group.sys_last)
                group.peak_rss = group.rss_last
            self._marked_at = time.monotonic()
            self._machine_at_mark = machine_busy_seconds()
            self._self_at_mark = cpu_seconds(os.getpid()) or 0.0

    def rss(self, name: str) -> int:
        self.sample()
        return self.groups[name].rss_last

    def report(self) -> dict[str, object]:
        """CPU seconds and % of one core per group since ``mark()``, peak RSS, and the rest of
        the machine's load (what other processes used meanwhile)."""
        self.sample()
        elapsed = max(time.monotonic() - self._marked_at, 1e-9)
        out: dict[str, object] = {"window_s": round(elapsed, 2)}
        ours = 0.0
        with self._lock:
            for name, group in self.groups.items():
                cpu = sum(
                    group.cpu_last[pid] - group.cpu_at_mark.get(pid, group.cpu_last[pid])
                    for pid in group.cpu_last
                )
                # A child that started after mark() counts from its first sample.
                ours += cpu
                system = sum(
                    group.sys_last[pid] - group.sys_at_mark.get(pid, group.sys_last[pid])
                    for pid in group.sys_last
                )
                out[name] = {
                    "cpu_s": round(cpu, 2),
                    "sys_s": round(system, 2),
                    "cpu_pct_of_core": round(100 * cpu / elapsed, 1),
                    "peak_rss_mb": round(group.peak_rss / 2**20, 1),
                    "rss_mb": round(group.rss_last / 2**20, 1),
                }
        me = (cpu_seconds(os.getpid()) or 0.0) - self._self_at_mark
        busy, _total = machine_busy_seconds()
        machine = busy - self._machine_at_mark[0]
        out["generator"] = {"cpu_s": round(me, 2), "cpu_pct_of_core": round(100 * me / elapsed, 1)}
        out["machine_busy_pct_of_core"] = round(100 * machine / elapsed, 1)
        out["others_pct_of_core"] = round(100 * max(0.0, machine - ours - me) / elapsed, 1)
        return out

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
