"""Percentiles, the machine description, result files and the summary table."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def percentiles(values: Iterable[float]) -> dict[str, float | int | None]:
    data = sorted(values)
    if not data:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}

    def rank(p: float) -> float:
        # nearest-rank percentile
        index = max(0, min(len(data) - 1, int(-(-p * len(data) // 100)) - 1))
        return round(data[index], 2)

    return {
        "n": len(data),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(data[-1], 2),
    }


def machine() -> dict[str, Any]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "fsync_ms": fsync_ms(),
        "git": _git_head(),
    }


def fsync_ms(writes: int = 200) -> float:
    """Median time of a 4 KiB write + fsync in the temp dir (where the benchmark's databases
    live): the floor of one durable commit (the same as ``dd bs=4k oflag=dsync``)."""
    block = b"x" * 4096
    times = []
    with tempfile.NamedTemporaryFile(prefix="sodam-fsync-") as fh:
        for _ in range(writes):
            t = time.perf_counter()
            fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
            times.append(time.perf_counter() - t)
    times.sort()
    return round(times[len(times) // 2] * 1000, 2)


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 -- the developer's git
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent,
        )
    except OSError:
        return "?"
    return out.stdout.strip() or "?"


def write_result(result: dict[str, Any], out_dir: Path = RESULTS_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{result['scenario']}-{result.get('backend', 'x')}-{stamp}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return path


def verdict(measured: float | None, target: float, *, higher_is_better: bool) -> str:
    if measured is None:
        return "n/a"
    ok = measured >= target if higher_is_better else measured <= target
    return "met" if ok else "NOT met"


def target_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows: list[list[str]] = []
    for r in results:
        for t in r.get("targets", []):
            rows.append(
                [
                    f"{r['scenario']} ({r.get('backend', '')})",
                    t["name"],
                    t["target"],
                    "-" if t["measured"] is None else f"{t['measured']:g}",
                    t["verdict"],
                ]
            )
    return rows


def table(rows: list[list[str]], header: list[str]) -> str:
    """A Markdown table (what docs/performance.md pastes)."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join([line, sep, *body])


def summary_table(results: list[dict[str, Any]]) -> str:
    return table(target_rows(results), ["scenario", "measure", "target", "measured", "verdict"])
