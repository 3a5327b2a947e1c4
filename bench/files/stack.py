"""The servers a files benchmark run starts: ``sodam serve`` (SQLite) on local disk or on S3, and
for S3 an S3-compatible server: moto (in memory, like the test suite's:
tests/support/motoserver.py) by default, or s3rver (``--s3-server s3rver``: an npm package that
keeps objects on disk and joins multipart parts by streaming them, much faster at
CompleteMultipartUpload than moto, which joins them in Python; installed from
bench/files/s3rver/package-lock.json on first use).

``sodam serve`` is started by bench/chat/servers.py (temporary data directory, SQLite in WAL with
``synchronous=FULL``, teardown by PID); the S3 settings point it at the moto server started here.
With ``breakdown=True`` the server runs under ``bench.files.serverhook``, which times the upload
path's stages inside the server (see that module); the default run has no hook at all.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.chat import servers as chat_servers
from bench.chat.servers import Stack, free_port, start_embedded, start_pg_two_nodes

MOTO_ACCESS_KEY_ID = "sodam-bench"
MOTO_SECRET_ACCESS_KEY = "sodam-bench-secret"  # moto accepts any credentials  # noqa: S105
MOTO_BUCKET = "sodam-bench"
# s3rver checks signatures against its one built-in key pair.
S3RVER_KEY = "S3RVER"
S3RVER_DIR = Path(__file__).resolve().parent / "s3rver"
S3_SERVERS = ("moto", "s3rver")


@dataclass
class Moto:
    """An S3 server process the run started (moto, or s3rver with ``kind="s3rver"``)."""

    url: str
    process: subprocess.Popen[bytes]
    kind: str = "moto"
    access_key_id: str = MOTO_ACCESS_KEY_ID
    secret_access_key: str = MOTO_SECRET_ACCESS_KEY
    data_dir: Path | None = None
    keep_data: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.data_dir is not None and not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def start_moto(key_buffer_bytes: int | None = None) -> Moto:
    """``moto_server`` from the venv on a free port. moto keeps each object (and each multipart
    part) in a ``SpooledTemporaryFile``: in memory up to ``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE``
    (5 MiB - 1 KiB by default), in a temporary file on disk above; ``key_buffer_bytes`` sets it."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        raise RuntimeError("moto_server not found: run `make .venv/.dev-installed`")
    port = free_port()
    env = dict(os.environ)
    if key_buffer_bytes is not None:
        env["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(key_buffer_bytes)
    process = subprocess.Popen(  # noqa: S603 -- our own arguments
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _started(Moto(url=f"http://127.0.0.1:{port}", process=process), lambda: _answers(port))


def _started(server: Moto, ready: Callable[[], bool]) -> Moto:
    """Waits (up to a minute) until the server answers; stops it if it exits or never does."""
    deadline = time.monotonic() + 60
    while not ready():
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{server.kind} did not start")
        time.sleep(0.05)  # polling a starting server
    return server


def _listens(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def start_s3rver(*, keep: bool = False) -> Moto:
    """s3rver (bench/files/s3rver, ``npm ci`` on first use) on a free port, its objects in a
    temporary directory removed at ``stop()`` (kept with ``keep``), the bucket created at start."""
    binary = S3RVER_DIR / "node_modules" / ".bin" / "s3rver"
    if not binary.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],  # noqa: S607 -- npm from PATH
            cwd=S3RVER_DIR,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    data_dir = Path(tempfile.mkdtemp(prefix="sodam-bench-s3rver-"))
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 -- our own arguments
        [
            str(binary),
            "-d",
            str(data_dir),
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "-s",
            "--configure-bucket",
            MOTO_BUCKET,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Moto(
        url=f"http://127.0.0.1:{port}",
        process=process,
        kind="s3rver",
        access_key_id=S3RVER_KEY,
        secret_access_key=S3RVER_KEY,
        data_dir=data_dir,
        keep_data=keep,
    )
    return _started(server, lambda: _listens(port))


def start_s3_server(kind: str, key_buffer_bytes: int | None = None, *, keep: bool = False) -> Moto:
    if kind == "s3rver":
        return start_s3rver(keep=keep)
    return start_moto(key_buffer_bytes)


def s3_env(moto: Moto) -> dict[str, str]:
    return {
        "SODAM_S3__ENDPOINT_URL": moto.url,
        "SODAM_S3__BUCKET": MOTO_BUCKET,
        "SODAM_S3__ACCESS_KEY_ID": moto.access_key_id,
        "SODAM_S3__SECRET_ACCESS_KEY": moto.secret_access_key,
        "SODAM_S3__CREATE_BUCKET": "true",
    }


@dataclass
class FilesStack:
    """One run's servers; ``stop()`` ends them by PID."""

    sodam: Stack
    moto: Moto | None
    store: str  # local | s3
    breakdown_path: Path | None = None
    moto_key_buffer: int | None = None

    @property
    def url(self) -> str:
        return self.sodam.nodes[0].url

    @property
    def pid(self) -> int:
        return self.sodam.nodes[0].pid

    @property
    def upload_node(self) -> tuple[str, int] | None:
        """The split layout's upload node (URL, PID); None when one node serves everything."""
        if len(self.sodam.nodes) < 2:
            return None
        return self.sodam.nodes[1].url, self.sodam.nodes[1].pid

    def stop(self) -> None:
        try:
            self.sodam.stop()
        finally:
            if self.moto is not None:
                self.moto.stop()

    def describe(self) -> dict[str, object]:
        out = self.sodam.describe()
        out["store"] = self.store
        if self.moto is not None:
            server: dict[str, object] = {
                "kind": self.moto.kind,
                "url": self.moto.url,
                "pid": self.moto.pid,
            }
            if self.moto.kind == "moto":
                server["key_buffer_bytes"] = self.moto_key_buffer or "default (5 MiB - 1 KiB)"
            out["moto"] = server
        return out


HOOK = Path(__file__).resolve().parent / "serverhook.py"


@contextlib.contextmanager
def _hooked_command(out: Path | None) -> Iterator[None]:
    """Servers started inside the block run under bench/files/serverhook.py (when ``out``)."""
    if out is None:
        yield None
        return
    original = chat_servers.sodam_command

    def hooked() -> list[str]:
        return [*original()[:-3], sys.executable, str(HOOK), str(out)]  # keeps taskset

    chat_servers.sodam_command = hooked
    try:
        yield None
    finally:
        chat_servers.sodam_command = original


def start(
    store: str,
    limits: dict[str, str],
    *,
    keep: bool = False,
    breakdown: bool = False,
    moto_key_buffer: int | None = None,
    split: bool = False,
    s3_server: str = "moto",
) -> FilesStack:
    """Starts moto (for ``store == "s3"``) and one ``sodam serve`` using it; with ``split``,
    PostgreSQL, Redis and two nodes sharing the data directory (the chat node first, then the
    upload node)."""
    moto = start_s3_server(s3_server, moto_key_buffer, keep=keep) if store == "s3" else None
    env = dict(limits)
    if moto is not None:
        env.update(s3_env(moto))
    breakdown_path: Path | None = None
    if breakdown:
        breakdown_path = Path(tempfile.mkdtemp(prefix="sodam-bench-hook-")) / "timings.json"
    try:
        with _hooked_command(breakdown_path):
            sodam = start_pg_two_nodes(env, keep=keep) if split else start_embedded(env, keep=keep)
    except BaseException:
        if moto is not None:
            moto.stop()
        raise
    return FilesStack(
        sodam=sodam,
        moto=moto,
        store=store,
        breakdown_path=breakdown_path,
        moto_key_buffer=moto_key_buffer,
    )


def renice(pid: int, nice: int) -> None:
    """Sets the CPU priority of every thread of ``pid`` (Linux: nice is per thread; threads the
    process starts later inherit it from the thread that starts them)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


def remove_breakdown_dir(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)
