"""Throwaway clamd instances with a signature database the tests write themselves.

freshclam cannot download signatures here, and clamd refuses to start with an empty database, so
each instance gets ``test.ndb`` with one body signature for the EICAR test string (which this
repository never contains verbatim: it is built from two halves). Each instance listens on a free
TCP port on 127.0.0.1 and on a unix socket in its own directory; a port taken by someone else's
test between choosing and binding is retried with another.

``clamd`` (session scope) is the instance most tests share, configured the way docs/media.md
tells an administrator to; ``start_clamd(**overrides)`` starts one with other limits.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# The standard antivirus test file, in two halves so no scanner flags this source file.
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-" + "FILE!$H+H*").encode(
    "ascii"
)
EICAR_SIGNATURE = "Test.EICAR.NDB"
EICAR_REPORTED = EICAR_SIGNATURE + ".UNOFFICIAL"  # clamd marks signatures not from ClamAV so

RECOMMENDED_LIMITS = {
    "StreamMaxLength": "400M",
    "MaxFileSize": "400M",
    "MaxScanSize": "1000M",
    "AlertExceedsMax": "yes",
}
_START_ATTEMPTS = 5
_START_TIMEOUT_S = 60.0


@dataclass
class ClamdServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def tcp_address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def unix_address(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def socket_path(self) -> Path:
        return self.root / "clamd.sock"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)

    def restart(self) -> None:
        """Starts a stopped clamd again with the same configuration: the same port and socket
        (a clamd that came back, F13). Waits until it answers PING."""
        if self.process.poll() is None:
            return
        self.socket_path.unlink(missing_ok=True)
        self.process = _spawn(require_clamd(), self.root / "clamd.conf")
        if not _wait_ping(self):
            self.stop()
            log = (self.root / "clamd.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"clamd did not start again on port {self.port}:\n{log}")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def clamd_binary() -> str | None:
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if os.access("/usr/sbin/clamd", os.X_OK) else None


def require_clamd() -> str:
    """The clamd binary; the test is skipped without one, except in CI where it fails."""
    binary = clamd_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("clamd is missing in CI: scripts/ensure-system-deps.sh installs it")
        pytest.skip("clamd not installed (Debian package clamav-daemon)")
    return binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_config(root: Path, port: int, limits: dict[str, str]) -> Path:
    db = root / "db"
    db.mkdir(exist_ok=True)
    (db / "test.ndb").write_text(f"{EICAR_SIGNATURE}:0:*:{EICAR.hex()}\n", encoding="ascii")
    lines = {
        "Foreground": "yes",
        "TCPSocket": str(port),
        "TCPAddr": "127.0.0.1",
        "LocalSocket": str(root / "clamd.sock"),
        "DatabaseDirectory": str(db),
        "Bytecode": "no",
        "SelfCheck": "0",
        "LogFile": str(root / "clamd.log"),
        "PidFile": str(root / "clamd.pid"),
        **limits,
    }
    conf = root / "clamd.conf"
    conf.write_text("".join(f"{k} {v}\n" for k, v in lines.items()), encoding="ascii")
    return conf


def _answers_ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(path))
            s.sendall(b"zPING\0")
            return s.recv(16).startswith(b"PONG")
    except OSError:
        return False


def _spawn(binary: str, conf: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [binary, f"--config-file={conf}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ping(server: ClamdServer) -> bool:
    """Whether the started clamd answers PING before it exits or the start deadline passes."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while server.process.poll() is None and time.monotonic() < deadline:
        if _answers_ping(server.socket_path):
            return True
        time.sleep(0.02)  # polling a starting server, not synchronising with the code
    return False


def start_clamd(**limits: str) -> ClamdServer:
    """Starts clamd with ``RECOMMENDED_LIMITS`` overridden by ``limits`` and waits until it
    answers PING. Stop it with ``close()``."""
    binary = require_clamd()
    root = Path(tempfile.mkdtemp(prefix="sodam-clamd-"))
    merged = {**RECOMMENDED_LIMITS, **limits}
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        conf = _write_config(root, port, merged)
        server = ClamdServer(root, port, _spawn(binary, conf))
        if _wait_ping(server):
            return server
        server.stop()  # exited (most likely the port was taken meanwhile) or never answered
    log = (root / "clamd.log").read_text(errors="replace")[-2000:]
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"clamd did not start after {_START_ATTEMPTS} attempts:\n{log}")


@pytest.fixture(scope="session")
def clamd() -> Iterator[ClamdServer]:
    """A clamd for the whole session, configured with the recommended limits."""
    server = start_clamd()
    try:
        yield server
    finally:
        server.close()
