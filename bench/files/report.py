"""The files benchmark's targets, and its Markdown tables (docs/performance.md, "Files").

``python -m bench.files.report [FILES]`` prints the tables from result files (default: the newest
result of each files scenario in bench/results/).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.chat.stats import RESULTS_DIR, table

MB_PER_S = {"local": 150.0, "s3": 60.0}
GROWTH_MB = 50.0
LATENCY_RATIO = 2.0


def _target(name: str, text: str, measured: float | None, ok: bool) -> dict[str, Any]:
    verdict = "n/a" if measured is None else ("met" if ok else "NOT met")
    return {"name": name, "target": text, "measured": measured, "verdict": verdict}


def targets(scenario: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """``scenario``: local, s3 or concurrent."""
    agg = result["aggregate"]
    n = agg["runs"]
    out: list[dict[str, Any]] = []
    if scenario in MB_PER_S:
        goal = MB_PER_S[scenario]
        rate = agg["mb_per_s"]["median"]
        out.append(_target(f"MB/s, median of {n}", f"≥ {goal:g}", rate, rate >= goal))
        growth = agg.get("server_growth_mb")
        worst = None if growth is None else growth["max"]
        out.append(
            _target(
                f"server RSS growth MB, worst of {n}",
                f"< {GROWTH_MB:g}",
                worst,
                worst is not None and worst < GROWTH_MB,
            )
        )
        out.append(
            _target("sha256 mismatches", "0", 0 if agg["sha256_ok"] else 1, agg["sha256_ok"])
        )
    elif scenario == "concurrent":
        failed = agg["failed_uploads"]
        out.append(_target(f"failed uploads, {n} runs", "0", failed, failed == 0))
        errors = agg["probe_errors"]
        out.append(_target("chat errors/undelivered/gaps", "0", errors, errors == 0))
        for k in ("p50", "p95", "p99"):
            ratio = agg[f"ratio_{k}"]
            value = None if ratio is None else ratio["median"]
            out.append(
                _target(
                    f"chat {k} during / idle, median of {n}",
                    f"≤ {LATENCY_RATIO:g}",
                    value,
                    value is not None and value <= LATENCY_RATIO,
                )
            )
    return out


def _spread(d: dict[str, float] | None, fmt: str = "{:g}") -> str:
    if not d:
        return "-"
    return f"{fmt.format(d['median'])} ({fmt.format(d['min'])}–{fmt.format(d['max'])})"


def _label(r: dict[str, Any], i: int) -> str:
    source = r.get("source", "working tree")
    return f"{r['backend']} #{i}" + ("" if source == "working tree" else f" ({source})")


def _ms(d: dict[str, Any]) -> str:
    if not d.get("n"):
        return "-"
    return f"{d['p50']:g} / {d['p95']:g} / {d['p99']:g}"


def summary_table(results: list[dict[str, Any]]) -> str:
    """The targets of each result, judged (like bench/chat's, with the source when not the
    working tree)."""
    rows = []
    for r in results:
        source = r.get("source", "working tree")
        label = f"{r['scenario']} ({r.get('backend', '')})"
        if source != "working tree":
            label += f" @ {source}"
        for t in r.get("targets", []):
            measured = "-" if t["measured"] is None else f"{t['measured']:g}"
            rows.append([label, t["name"], t["target"], measured, t["verdict"]])
    return table(rows, ["scenario", "measure", "target", "measured", "verdict"])


def single_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        if r["scenario"] != "files":
            continue
        for i, run in enumerate(r["result"]["runs"], 1):
            m = run["measured"] or {}
            server = m.get("server", {})
            moto = m.get("moto")
            rows.append(
                [
                    _label(r, i),
                    f"{run['mb_per_s']:g}",
                    f"{run['seconds']:g}",
                    f"{run['finish_s']:g}",
                    f"{server.get('cpu_ms_per_mb', '-')}",
                    f"{server.get('event_loop_thread_cpu_s', '-')} / "
                    f"{server.get('other_threads_cpu_s', '-')}",
                    f"{server.get('event_loop_cpu_wait_s', '-')}",
                    f"{server.get('rss_before_mib', '-')} → {server.get('peak_mib', '-')}",
                    f"{server.get('growth_mb', '-')}",
                    "-"
                    if not moto
                    else f"{moto['cpu_s']:g} s; {moto['rss_before_mib']:g} → {moto['peak_mib']:g}",
                    f"{m.get('generator', {}).get('cpu_pct_of_core', '-')}",
                    f"{m.get('others_pct_of_core', '-')}",
                    " ".join(m.get("loadavg_before", [])),
                ]
            )
    return rows


SINGLE_HEADER = [
    "run",
    "MB/s",
    "POST→204 s",
    "last byte→204 s",
    "server CPU ms/MB",
    "server CPU s: loop / threads",
    "loop waiting for a CPU s",
    "server RSS MiB before → peak",
    "growth MB",
    "S3 server CPU; RSS MiB before → peak",
    "generator CPU %",
    "others CPU %",
    "loadavg",
]


def _split(chat: dict[str, Any]) -> str:
    first, after = chat.get("during_first_s_ms"), chat.get("during_after_first_s_ms")
    if not first or not after:  # results from before the split was recorded
        return "-"
    return (
        f"{first['p50']}/{first['p95']} (n={first['n']}); "
        f"{after['p50']}/{after['p95']} (n={after['n']})"
    )


def concurrent_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        if r["scenario"] != "files-concurrent":
            continue
        for i, run in enumerate(r["result"]["runs"], 1):
            up, chat, m = run["uploads"], run["chat"], run["measured"] or {}
            server = m.get("server", {})
            ratio = chat["ratio"]
            rows.append(
                [
                    _label(r, i),
                    f"{up['ok']} / {up['failed']}",
                    f"{up['window_s']:g}",
                    f"{up['aggregate_mb_per_s']:g}",
                    _ms(up["per_upload_s"]),
                    f"{_ms(chat['idle_ms'])} (n={chat['idle_ms']['n']})",
                    f"{_ms(chat['during_ms'])} (n={chat['during_ms']['n']})",
                    f"{ratio['p50']} / {ratio['p95']} / {ratio['p99']}",
                    _split(chat),
                    f"{server.get('rss_before_mib', '-')} → {server.get('peak_mib', '-')}",
                    f"{server.get('cpu_pct_of_core', '-')}",
                    f"{server.get('event_loop_thread_cpu_s', '-')} / "
                    f"{server.get('event_loop_cpu_wait_s', '-')}",
                    f"{m.get('others_pct_of_core', '-')}",
                    " ".join(m.get("loadavg_before", [])),
                ]
            )
    return rows


CONCURRENT_HEADER = [
    "run",
    "uploads ok / failed",
    "window s",
    "aggregate MB/s",
    "per upload s p50/p95/p99",
    "chat idle ms p50/p95/p99",
    "chat during uploads ms",
    "ratio p50/p95/p99",
    "during: first 1 s; after, ms p50/p95 (n)",
    "server RSS MiB before → peak",
    "server CPU %",
    "loop s running / waiting for a CPU",
    "others CPU %",
    "loadavg",
]


def tables(results: list[dict[str, Any]]) -> str:
    parts = []
    single = single_rows(results)
    if single:
        parts.append(table(single, SINGLE_HEADER))
    concurrent = concurrent_rows(results)
    if concurrent:
        parts.append(table(concurrent, CONCURRENT_HEADER))
    return "\n\n".join(parts)


def newest(results_dir: Path = RESULTS_DIR) -> list[Path]:
    latest: dict[str, Path] = {}
    for path in sorted(results_dir.glob("files*.json"), key=lambda p: p.stat().st_mtime):
        data = json.loads(path.read_text())
        latest[f"{data['scenario']}-{data.get('backend', '')}"] = path
    return list(latest.values())


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]] or newest()
    results = [{**json.loads(p.read_text()), "file": p.name} for p in paths]
    print(summary_table(results))
    print()
    print(tables(results))
    print()
    for r in results:
        print(f"- {r['scenario']} ({r['backend']}): {r['file']}, source {r.get('source', '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
