"""The scenarios of issue 4 with their parameters, server limits and targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.chat.stats import verdict

# Every run: access tokens outlive the run (the gateway closes sockets whose token expired).
COMMON_LIMITS = {"SODAM_AUTH__ACCESS_TOKEN_TTL_S": "7200"}
# "As fast as they can": the per-user send limit (default 5/s, bursts of 30) and the per-socket
# frame limit (20/s, bursts of 60) would otherwise be what is measured.
UNLIMITED_SENDS = {
    "SODAM_REALTIME__SENDS_PER_S": "100000",
    "SODAM_REALTIME__SENDS_BURST": "100000",
    "SODAM_REALTIME__FRAMES_PER_S": "100000",
    "SODAM_REALTIME__FRAMES_BURST": "100000",
}


@dataclass
class Scenario:
    name: str
    kind: str  # load | idle | storm | history
    about: str
    users: int = 20
    rooms: int = 1
    rooms_per_user: int = 1
    duration_s: float = 30.0
    rate: float | None = None
    window: int = 1
    senders: int | None = None
    limits: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None  # None: --backend decides


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "seed",
            "load",
            "20 members in one room, each sending 1 message/s for 60 s",
            users=20,
            duration_s=60,
            rate=1.0,
        ),
        Scenario(
            "throughput",
            "load",
            "20 members in one room sending as fast as acks come back",
            users=20,
            duration_s=30,
            window=1,
            limits=UNLIMITED_SENDS,
        ),
        Scenario(
            "throughput-pg",
            "load",
            "as throughput, on two nodes with PostgreSQL + Redis (clients alternate nodes)",
            users=20,
            duration_s=30,
            window=1,
            limits=UNLIMITED_SENDS,
            backend="pg",
        ),
        Scenario(
            "rooms",
            "load",
            "200 users in 20 rooms of 10, sending as fast as acks come back",
            users=200,
            rooms=20,
            duration_s=30,
            window=1,
            limits=UNLIMITED_SENDS,
        ),
        Scenario(
            "bigroom",
            "load",
            "one 1,000-member room at 1 message/s (10 senders at 0.1/s) for 120 s",
            users=1000,
            duration_s=120,
            rate=0.1,
            senders=10,
        ),
        Scenario(
            "idle",
            "idle",
            "5,000 idle WebSocket connections (100 rooms of 50) pinging every heartbeat",
            users=5000,
            rooms=100,
            duration_s=120,
        ),
        Scenario(
            "storm",
            "storm",
            "2,000 clients reconnect at once, each having missed 5 messages in each of 10 rooms",
            users=2000,
            rooms=200,
            rooms_per_user=10,
            extra={"missed_per_room": 5},
            limits=UNLIMITED_SENDS,
        ),
        Scenario(
            "storm50",
            "storm",
            "as storm, but 50 missed messages in each of the 10 rooms (500 per client)",
            users=2000,
            rooms=200,
            rooms_per_user=10,
            extra={"missed_per_room": 50},
            limits=UNLIMITED_SENDS,
        ),
        Scenario(
            "history",
            "history",
            "a user in 500 rooms, 1,000,000 messages stored: room list and history pages",
            users=1000,
            rooms=500,
            extra={"messages": 1_000_000, "big_room_messages": 200_000, "requests": 300},
        ),
    ]
}

MAIN = ["seed", "throughput", "throughput-pg", "rooms", "bigroom", "idle", "storm", "history"]


def _target(
    name: str, text: str, measured: float | None, goal: float, *, higher: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "target": text,
        "measured": measured,
        "verdict": verdict(measured, goal, higher_is_better=higher),
    }


def targets(scenario: str, backend: str, r: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets for a scenario, judged on its result."""
    out: list[dict[str, Any]] = []
    if scenario == "seed":
        p99 = r["send_to_delivered_ms"]["p99"]
        out.append(_target("send→delivered p99 (ms)", "≤ 15", p99, 15, higher=False))
    elif scenario in ("throughput", "throughput-pg", "rooms"):
        goal = 600.0 if backend == "pg" else 1000.0
        out.append(_target("acked msgs/s", f"≥ {goal:g}", r["acked_msgs_per_s"], goal, higher=True))
        missing = r["messages"]["not_delivered_to_every_member"]
        out.append(_target("messages not delivered to all", "0", missing, 0, higher=False))
    elif scenario == "bigroom":
        p99 = r["send_to_last_member_ms"]["p99"]
        out.append(_target("send→last member p99 (ms)", "≤ 100", p99, 100, higher=False))
    elif scenario == "idle":
        out.append(
            _target("server KB per idle conn", "≤ 60", r["kb_per_connection"], 60, higher=False)
        )
        out.append(
            _target("idle CPU (% of a core)", "< 10", r["idle_cpu_pct_of_core"], 10, higher=False)
        )
    elif scenario.startswith("storm"):
        out.append(_target("all converged (s)", "≤ 10", r["converged_s"], 10, higher=False))
        out.append(_target("errors", "0", r["error_count"], 0, higher=False))
    elif scenario == "history":
        out.append(
            _target("room list p95 (ms)", "≤ 50", r["room_list_ms"]["p95"], 50, higher=False)
        )
        out.append(
            _target(
                "history page p95 (ms)", "≤ 20", r["history_latest_ms"]["p95"], 20, higher=False
            )
        )
    return out
