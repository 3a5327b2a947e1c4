"""``python -m bench.chat.report [FILES]``: the Markdown tables of docs/performance.md from result
files (default: the newest result of each scenario and backend in bench/results/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.chat.stats import RESULTS_DIR, summary_table, table


def newest(results_dir: Path = RESULTS_DIR) -> list[Path]:
    latest: dict[tuple[str, str], Path] = {}
    for path in sorted(results_dir.glob("*.json"), key=lambda p: p.stat().st_mtime):
        data = json.loads(path.read_text())
        latest[(data["scenario"], data.get("backend", ""))] = path
    return list(latest.values())


def _ms(d: dict[str, Any] | None) -> str:
    if not d or not d.get("n"):
        return "-"
    return f"{d['p50']:g} / {d['p95']:g} / {d['p99']:g}"


def load_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        x = r["result"]
        if "acked_msgs_per_s" not in x:
            continue
        s = x["server"]
        rows.append(
            [
                f"{r['scenario']} ({r['backend']})",
                f"{x['acked_msgs_per_s']:g}",
                f"{x['deliveries_per_s']:g}",
                _ms(x["send_to_ack_ms"]),
                _ms(x["send_to_delivered_ms"]),
                _ms(x["send_to_last_member_ms"]),
                str(sum(x["errors"].values()) + sum(x["closes"].values())),
                str(x["messages"]["not_delivered_to_every_member"]),
                f"{s['server']['cpu_pct_of_core']:g}"
                + (f" + PG {s['postgres']['cpu_pct_of_core']:g}" if "postgres" in s else ""),
                f"{s['server']['peak_rss_mb']:g}",
                f"{s['generator']['cpu_pct_of_core']:g}",
                f"{s['others_pct_of_core']:g}",
            ]
        )
    return rows


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]] or newest()
    results = [{**json.loads(p.read_text()), "file": p.name} for p in paths]
    print(summary_table(results))
    print()
    print(
        table(
            load_rows(results),
            [
                "run",
                "msgs/s",
                "deliveries/s",
                "send→ack ms p50/p95/p99",
                "send→delivered ms",
                "send→last member ms",
                "errors",
                "undelivered",
                "server CPU %",
                "server peak RSS MB",
                "generator CPU %",
                "others CPU %",
            ],
        )
    )
    print()
    for r in results:
        print(f"- {r['scenario']} ({r['backend']}): {r['file']}, source {r.get('source', '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
