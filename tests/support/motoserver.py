"""A throwaway S3 server (moto's, in memory) on a free port, standing in for MinIO.

moto behaves like MinIO for multipart uploads (rejects small parts, lists multipart uploads) but
does not check signatures or presigned-URL expiry: those are unit-tested against the signing code
(tests/unit/files/test_s3_presign.py).

Use the session fixture ``moto_server`` (import it into the test module) and give each test its
own bucket (``new_bucket_name()``); ``start_moto_server()`` starts a private one a test may stop.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY_ID = "sodam-test"
SECRET_ACCESS_KEY = "sodam-test-secret"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def new_bucket_name() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stops the server by its PID (and waits for it to exit); idempotent."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_moto_server() -> MotoServer:
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        raise RuntimeError("moto_server not found: run `make .venv/.dev-installed`")
    port = _free_port()
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = MotoServer(url=f"http://127.0.0.1:{port}", process=process)
    deadline = time.monotonic() + 30
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("moto_server did not start")
        time.sleep(0.05)  # polling a starting server, not synchronising with the code under test
    return server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()
