"""Start ``sodam serve`` as a real process on a free port and wait until it is ready.

``start_server`` (a fixture returning a function) is what every e2e test uses::

    def test_x(start_server):
        server = start_server()                                  # embedded: SQLite under tmp
        server = start_server(SODAM_DATABASE__URL="postgresql://...", SODAM_ADMIN_PASSWORD=None)
        httpx.get(f"{server.base_url}/readyz")

Keyword arguments are environment overrides for the child (``None`` removes a variable). The child
never inherits the SODAM_* variables of the shell running the tests. Every process started is
stopped at the end of the test (SIGTERM, then SIGKILL if it does not exit in time).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

SODAM = Path(sys.executable).with_name("sodam")
# Generous: a noisy 2-core CI machine may take many seconds to import, migrate and hash.
READY_DEADLINE_S = 90.0
STOP_DEADLINE_S = 30.0
POLL_INTERVAL_S = 0.1
E2E_ADMIN_PASSWORD = "e2e-admin-password-0123"
_ADMIN_PASSWORD_RE = re.compile(r"^\s*password:\s+(\S+)\s*$", re.MULTILINE)


@dataclass
class ServerProcess:
    """One running ``sodam serve``."""

    base_url: str
    port: int
    data_dir: Path
    stdout_path: Path
    stderr_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    _logs: list[IO[bytes]] = field(repr=False, default_factory=list)

    def stderr(self) -> str:
        """What the server wrote to stderr so far (the terminal notices and the JSON logs)."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        """Everything the server wrote so far, stdout then stderr."""
        return self.stdout_path.read_text(encoding="utf-8", errors="replace") + self.stderr()

    def generated_admin_password(self) -> str | None:
        """The first admin's password, when the server generated and printed it (on stderr)."""
        found = _ADMIN_PASSWORD_RE.search(self.stderr())
        return found.group(1) if found else None

    def stop(self) -> int:
        """SIGTERM and wait; SIGKILL if the server does not exit in time. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_DEADLINE_S)
        for log in self._logs:
            log.close()
        return int(self.process.returncode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env(data_dir: Path, overrides: dict[str, str | None]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SODAM_")}
    env["SODAM_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _wait_ready(server: ServerProcess, deadline_s: float) -> bool:
    """Polls /readyz until 200; False if the process exited first (e.g. the port was taken)."""
    deadline = time.monotonic() + deadline_s
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                if client.get(f"{server.base_url}/readyz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(POLL_INTERVAL_S)  # polling interval, not synchronisation
    server.stop()
    pytest.fail(f"sodam serve was not ready within {deadline_s:.0f}s:\n{server.output()[-4000:]}")


def launch(
    data_dir: Path, overrides: dict[str, str | None], *, deadline_s: float = READY_DEADLINE_S
) -> ServerProcess:
    """Starts a server and returns once /readyz answers 200."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _child_env(data_dir, overrides)
    for attempt in range(3):
        port = free_port()
        # Files, not pipes: a chatty server can never block on a full pipe buffer.
        stdout_path = data_dir.parent / f"{data_dir.name}-serve-{port}.stdout"
        stderr_path = data_dir.parent / f"{data_dir.name}-serve-{port}.stderr"
        logs = [stdout_path.open("wb"), stderr_path.open("wb")]
        process = subprocess.Popen(
            [str(SODAM), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=logs[0],
            stderr=logs[1],
        )
        server = ServerProcess(
            base_url=f"http://127.0.0.1:{port}",
            port=port,
            data_dir=data_dir,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
            env=env,
            process=process,
            _logs=logs,
        )
        if _wait_ready(server, deadline_s):
            return server
        server.stop()
        # Another process may have taken the free port between the probe and the bind: retry.
        if "address already in use" not in server.output().lower() or attempt == 2:
            pytest.fail(f"sodam serve exited early:\n{server.output()[-4000:]}")
    raise AssertionError("unreachable")


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """A function starting ``sodam serve`` with environment overrides; stops them all at the end.

    ``data_dir`` (a keyword) picks the data directory, so a test can restart a server on the same
    data; by default each call gets a new directory under the test's tmp_path.
    """
    started: list[ServerProcess] = []

    def start(*, data_dir: Path | None = None, **env: str | None) -> ServerProcess:
        directory = data_dir or tmp_path / f"var{len(started)}"
        server = launch(directory, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: StartServer) -> ServerProcess:
    """An embedded server (SQLite and local disk under tmp) whose admin password is
    ``E2E_ADMIN_PASSWORD``."""
    return start_server(SODAM_ADMIN_PASSWORD=E2E_ADMIN_PASSWORD)
