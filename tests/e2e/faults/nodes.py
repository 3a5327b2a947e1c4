"""``sodam serve`` nodes for the fault tests: each keeps its port across restarts (the address a
load balancer would use), can be killed with SIGKILL or stopped with SIGTERM, arms failpoints
through its failpoints file, and exposes what I6 needs (metrics, RSS, open file descriptors)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.e2e.conftest import SODAM, _child_env
from tests.e2e.faults.infra import free_port

READY_DEADLINE_S = 90.0
STOP_DEADLINE_S = 40.0
METRIC_RE = re.compile(r"^(sodam_[a-z_]+)(?:\{[^}]*\})? (\S+)$", re.MULTILINE)


@dataclass
class Node:
    name: str
    data_dir: Path
    env: dict[str, str | None]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)  # every process this node ever was
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def failpoints_file(self) -> Path:
        return self.data_dir / "failpoints"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def output(self, tail: int = 6000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self, extra_env: dict[str, str | None] | None = None) -> None:
        """Starts the node on its port and waits until /readyz answers 200; ``extra_env``
        overrides the node's environment for this run only."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.arm("")
        env = _child_env(
            self.data_dir,
            {
                **self.env,
                **(extra_env or {}),
                "SODAM_FAILPOINTS_FILE": str(self.failpoints_file),
            },
        )
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(SODAM), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pids.append(self.process.pid)
        if not self.wait_ready(READY_DEADLINE_S):
            self.kill9()
            raise AssertionError(f"{self.name} did not become ready:\n{self.output()}")

    def wait_ready(self, within: float) -> bool:
        deadline = time.monotonic() + within
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    return False
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.1)  # polling interval of a starting server
        return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.kill()
        self.reap()

    def terminate(self) -> None:
        """SIGTERM (a rolling restart); the caller waits with ``reap``."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)

    def reap(self, within: float = STOP_DEADLINE_S) -> int | None:
        """Waits for the process to exit (SIGKILL after ``within``); returns its exit code."""
        if self.process is None:
            return None
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=within)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode

    def stop(self) -> None:
        self.terminate()
        self.reap()

    def ensure_running(self) -> None:
        """Brings a node a test killed back (disarmed), so the next test starts healthy."""
        if not self.running:
            self.reap()
            self.start()
        else:
            self.arm("")

    # --- faults and observation --------------------------------------------------------------

    def arm(self, spec: str) -> None:
        """Writes the failpoints file atomically; the node re-reads it on its next check."""
        tmp = self.failpoints_file.with_suffix(".tmp")
        tmp.write_text(spec, encoding="utf-8")
        os.replace(tmp, self.failpoints_file)

    def metrics(self) -> dict[str, float]:
        r = httpx.get(f"{self.url}/metrics", timeout=10)
        r.raise_for_status()
        out: dict[str, float] = {}
        for name, value in METRIC_RE.findall(r.text):
            out[name] = out.get(name, 0.0) + float(value)
        return out

    def rss_kib(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) if found else 0

    def open_fds(self) -> int:
        assert self.process is not None
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))
