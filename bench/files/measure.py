"""What a files run reads about the processes it measures, from /proc (Linux only).

- CPU and resident memory of the Sodam server, moto and this generator: ``ProcSampler`` of
  bench/chat (utime + stime, VmRSS sampled every ``interval``: 50 ms here; its peak since
  ``mark()``), and the rest of the machine's load meanwhile. Memory is in MiB, except the
  growth the target judges, ``growth_mb``, in MB (10^6 bytes) like the target.
- The exact peak: the kernel's high-water mark ``VmHWM``, reset before the measured upload by
  writing ``5`` to ``/proc/<pid>/clear_refs`` (allowed for our own children, or as root). A
  50 ms sampler can miss a short spike; ``VmHWM`` cannot. When the reset is refused, only the
  sampled peak is reported.
- CPU per thread: the event loop (the main thread, whose TID is the PID) against every other
  thread (the worker threads that write, fsync and hash blocks, and the database threads); and
  how long each was runnable but waiting for a CPU (the scheduler's run-queue delay).
- The breakdown of bench/files/serverhook.py, when the server runs under it: snapshots of its
  totals, taken with SIGUSR1.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from bench.chat.procstats import CLK_TCK, ProcSampler, cpu_times, status_field

MB = 1_000_000
MiB = 1024 * 1024


def reset_peak(pid: int) -> bool:
    """Resets the process's VmHWM to its current RSS; False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_bytes(pid: int) -> int | None:
    return status_field(pid, "VmHWM")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (utime + stime) of the main thread and of all other threads together."""
    main = others = 0.0
    try:
        tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return {"main": 0.0, "others": 0.0}
    for tid in tids:
        try:
            raw = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue  # a worker thread that ended meanwhile (its CPU moves to the process)
        fields = raw[raw.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / CLK_TCK
        if tid == pid:
            main = used
        else:
            others += used
    return {"main": main, "others": others}


def sched_wait(pid: int) -> dict[str, float]:
    """Seconds each part of the process spent runnable but waiting for a CPU (the scheduler's
    run-queue delay, /proc/<pid>/task/<tid>/schedstat): the main thread and all others."""
    main = others = 0.0
    try:
        tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return {"main": 0.0, "others": 0.0}
    for tid in tids:
        try:
            waited = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue
        if tid == pid:
            main = waited
        else:
            others += waited
    return {"main": main, "others": others}


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


class Watch:
    """Everything measured about the server (and moto) over one window."""

    def __init__(self, server_pid: int, moto_pid: int | None, *, interval: float = 0.05) -> None:
        self.server_pid = server_pid
        self.moto_pid = moto_pid
        self.sampler = ProcSampler(interval=interval)
        self.sampler.add("server", [server_pid])
        if moto_pid is not None:
            self.sampler.add("moto", [moto_pid])
        self.sampler.start()
        self._before: dict[str, Any] = {}

    def mark(self) -> None:
        """Starts the window: RSS now is the baseline; peaks and CPU count from here."""
        rss = {"server": self.sampler.rss("server")}
        if self.moto_pid is not None:
            rss["moto"] = self.sampler.rss("moto")
        hwm_reset = {name: reset_peak(pid) for name, pid in self._pids().items()}
        self._before = {
            "rss": rss,
            "hwm_reset": hwm_reset,
            "threads": thread_cpu(self.server_pid),
            "waits": sched_wait(self.server_pid),
            "times": cpu_times(self.server_pid),
            "at": time.perf_counter(),
            "loadavg": loadavg(),
        }
        self.sampler.mark()

    def _pids(self) -> dict[str, int]:
        out = {"server": self.server_pid}
        if self.moto_pid is not None:
            out["moto"] = self.moto_pid
        return out

    def report(self, moved_bytes: int) -> dict[str, Any]:
        """The window's figures; ``moved_bytes`` gives the CPU per MB."""
        stats = self.sampler.report()
        threads = thread_cpu(self.server_pid)
        waits = sched_wait(self.server_pid)
        out: dict[str, Any] = {
            "window_s": stats["window_s"],
            "loadavg_before": self._before["loadavg"],
            "loadavg_after": loadavg(),
            "generator": stats["generator"],
            "others_pct_of_core": stats["others_pct_of_core"],
            "machine_busy_pct_of_core": stats["machine_busy_pct_of_core"],
        }
        for name, pid in self._pids().items():
            group = stats[name]
            assert isinstance(group, dict)
            before = self._before["rss"][name]
            hwm = peak_bytes(pid) if self._before["hwm_reset"][name] else None
            peak = max(group["peak_rss_mb"] * MiB, hwm or 0)
            out[name] = {
                "cpu_s": group["cpu_s"],
                "sys_s": group["sys_s"],
                "cpu_pct_of_core": group["cpu_pct_of_core"],
                "cpu_ms_per_mb": round(1000 * group["cpu_s"] / (moved_bytes / MB), 2)
                if moved_bytes
                else None,
                "rss_before_mib": round(before / MiB, 1),
                "rss_end_mib": group["rss_mb"],  # ProcSampler's "mb" are MiB
                "sampled_peak_mib": group["peak_rss_mb"],
                "hwm_mib": None if hwm is None else round(hwm / MiB, 1),
                "peak_mib": round(peak / MiB, 1),
                # the target's unit: MB = 10^6 bytes
                "growth_mb": round((peak - before) / MB, 1),
            }
        out["server"]["event_loop_thread_cpu_s"] = round(
            threads["main"] - self._before["threads"]["main"], 2
        )
        out["server"]["other_threads_cpu_s"] = round(
            threads["others"] - self._before["threads"]["others"], 2
        )
        # Runnable but not running: the machine's CPUs were busy (ours or other processes').
        out["server"]["event_loop_cpu_wait_s"] = round(
            waits["main"] - self._before["waits"]["main"], 2
        )
        out["server"]["other_threads_cpu_wait_s"] = round(
            waits["others"] - self._before["waits"]["others"], 2
        )
        return out

    def rss_mib(self, name: str) -> float:
        return round(self.sampler.rss(name) / MiB, 1)

    def stop(self) -> None:
        self.sampler.stop()


class Breakdown:
    """Snapshots of bench/files/serverhook.py's totals (SIGUSR1 asks for one)."""

    def __init__(self, pid: int, path: Path) -> None:
        self.pid = pid
        self.path = path
        self._first: dict[str, Any] | None = None

    def _snapshot(self) -> dict[str, Any]:
        seq = self._seq()
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while self._seq() <= seq:
            if time.monotonic() > deadline:
                raise RuntimeError("the server hook wrote no snapshot")
            time.sleep(0.01)  # polling a file another process writes
        data: dict[str, Any] = json.loads(self.path.read_text())
        return data

    def _seq(self) -> int:
        try:
            return int(json.loads(self.path.read_text())["seq"])
        except (OSError, ValueError, KeyError):
            return 0

    def start(self) -> None:
        self._first = self._snapshot()

    def report(self, *, events_from: float | None = None) -> dict[str, Any]:
        """Totals since ``start()``; with ``events_from``, the timed occurrences (send_message,
        group commits, loop lags) that started after it, as (seconds after it, wall ms)."""
        assert self._first is not None
        last = self._snapshot()
        out: dict[str, Any] = {}
        first = self._first["totals"]
        for name, now in sorted(last["totals"].items()):
            was = first.get(name, {"calls": 0, "wall_s": 0.0, "cpu_s": 0.0})
            out[name] = {
                "calls": now["calls"] - was["calls"],
                "wall_s": round(now["wall_s"] - was["wall_s"], 3),
                "cpu_s": round(now["cpu_s"] - was["cpu_s"], 3),
            }
        if events_from is not None:
            out["events"] = {
                name: [
                    (round(start - events_from, 3), round(wall * 1000, 1))
                    for start, wall in items
                    if start >= events_from
                ]
                for name, items in last.get("events", {}).items()
            }
        return out
