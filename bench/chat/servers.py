"""Servers the benchmark starts itself, and their teardown by PID.

- ``embedded``: one ``sodam serve`` on SQLite in a temporary data directory (WAL,
  ``synchronous=FULL``: every acknowledged send is fsynced, shared by a group commit; ADR 0002/3).
- ``pg``: a throwaway PostgreSQL cluster (initdb via runuser, default durability: ``fsync=on``,
  ``synchronous_commit=on``) and a redis-server on free ports, then two ``sodam serve`` nodes on
  them. Unlike tests/support/postgres.py this cluster keeps fsync on: acknowledged means durable.

The data directory lives under the system temp dir, which must be a real disk (not tmpfs) for the
fsync cost to be real: ``Stack.describe()`` records the filesystem type.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import io
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_DEADLINE_S = 120.0
REPO = Path(__file__).resolve().parents[2]

# The server runs from this source tree: None = the checkout's (the venv's editable install),
# else a directory holding an exported ``src`` (``export_rev``), put first on PYTHONPATH.
SOURCE: dict[str, Path | None] = {"src": None}
# ``--server-cpus``: the servers run under ``taskset -c`` (a diagnosis of GIL hand-overs between
# threads on two cores: the server's threads then share one core).
PINNING: dict[str, str | None] = {"cpus": None}


def export_rev(rev: str) -> Path:
    """Exports ``src/`` of a git revision into a temporary directory (``git archive``), so a
    benchmark measures committed code even while the working tree is being edited. The
    benchmark process imports its seeding code from there too."""
    out = Path(tempfile.mkdtemp(prefix="sodam-bench-src-"))
    archive = subprocess.run(  # noqa: S603 -- our own arguments
        ["git", "archive", rev, "src"],  # noqa: S607 -- the developer's git
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")
    atexit.register(shutil.rmtree, out, True)
    SOURCE["src"] = out / "src"
    sys.path.insert(0, str(out / "src"))
    return out


def use_source(src: Path) -> None:
    """Runs the server (and imports the seeding code) from ``src`` (a ``src/`` directory)."""
    SOURCE["src"] = src.resolve()
    sys.path.insert(0, str(src.resolve()))


def sodam_command() -> list[str]:
    pin = PINNING["cpus"]
    prefix = ["taskset", "-c", pin] if pin else []
    return [*prefix, sys.executable, "-m", "sodam"]


def source_env(env: dict[str, str]) -> dict[str, str]:
    src = SOURCE["src"]
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile(target: int = 65536) -> int:
    """Raises this process's open-files limit (inherited by the servers it starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(target, hard) if hard != resource.RLIM_INFINITY else target
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fs_type(path: Path) -> str:
    best, kind = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        mount = parts[1]
        if str(path).startswith(mount) and len(mount) > len(best):
            best, kind = mount, parts[2]
    return kind


@dataclass
class Node:
    url: str  # http://127.0.0.1:port
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/ws"


@dataclass
class Stack:
    """Everything one benchmark run started; ``stop()`` ends it by PID."""

    mode: str
    root: Path
    env: dict[str, str]
    secret_key: str
    admin_password: str
    database_url: str
    nodes: list[Node] = field(default_factory=list)
    pg_pid: int | None = None
    pg_data: Path | None = None
    redis: subprocess.Popen[bytes] | None = None
    keep: bool = False

    def describe(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "nodes": [n.url for n in self.nodes],
            "server_pids": [n.pid for n in self.nodes],
            "data_dir_fs": fs_type(self.root),
            "durability": DURABILITY[self.mode],
            "settings_env": {
                k: v
                for k, v in self.env.items()
                if k.startswith("SODAM_")
                and k not in ("SODAM_SECRET_KEY", "SODAM_ADMIN_PASSWORD", "SODAM_DATA_DIR")
            },
        }

    def stop(self) -> None:
        for node in self.nodes:
            _terminate(node.process)
        if self.redis is not None:
            _terminate(self.redis)
        if self.pg_data is not None:
            _pg_ctl(self.pg_data, "stop", "-m", "fast", "-w")
            if self.pg_pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pg_pid, signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


DURABILITY = {
    "embedded": "SQLite WAL, synchronous=FULL (an fsync per group commit; ack after COMMIT)",
    "pg": "PostgreSQL 15 defaults: fsync=on, synchronous_commit=on, wal_sync_method=fdatasync",
}


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def base_env(root: Path, limits: dict[str, str]) -> tuple[dict[str, str], str, str]:
    secret = secrets.token_urlsafe(48)
    admin_password = "bench-" + secrets.token_urlsafe(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SODAM_")}
    env.update(
        {
            "SODAM_DATA_DIR": str(root / "data"),
            "SODAM_SECRET_KEY": secret,
            "SODAM_ADMIN_PASSWORD": admin_password,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(limits)
    return source_env(env), secret, admin_password


def _launch(env: dict[str, str], root: Path, name: str) -> Node:
    port = free_port()
    log_path = root / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 -- our own arguments
            [*sodam_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    node = Node(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    deadline = time.monotonic() + READY_DEADLINE_S
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{node.url}/readyz").status_code == 200:
                    return node
            time.sleep(0.1)  # polling a starting server
    _terminate(process)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"sodam serve ({name}) did not become ready:\n{tail}")


def start_embedded(limits: dict[str, str], *, keep: bool = False) -> Stack:
    root = Path(tempfile.mkdtemp(prefix="sodam-bench-"))
    env, secret, admin_password = base_env(root, limits)
    stack = Stack(
        mode="embedded",
        root=root,
        env=env,
        secret_key=secret,
        admin_password=admin_password,
        database_url=f"sqlite:///{root / 'data' / 'sodam.db'}",
        keep=keep,
    )
    try:
        stack.nodes.append(_launch(env, root, "node-a"))
    except BaseException:
        stack.stop()
        raise
    return stack


# --- PostgreSQL + Redis, two nodes ---------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found (scripts/ensure-system-deps.sh)")
    return found[-1]


def _owner_cmd(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _pg_ctl(data: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 -- our own arguments
        _owner_cmd([_pg_bin("pg_ctl"), "-D", str(data), *args]), check=False, capture_output=True
    )


def _start_postgres(root: Path) -> tuple[Path, int, int]:
    pg_root = root / "pg"
    pg_root.mkdir()
    if os.geteuid() == 0:
        shutil.chown(pg_root, "postgres", "postgres")
    data = pg_root / "data"
    subprocess.run(  # noqa: S603 -- our own arguments
        _owner_cmd(
            [
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",  # initdb's own files only; the server runs with fsync=on
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    subprocess.run(  # noqa: S603 -- our own arguments
        _owner_cmd(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(pg_root / "pg.log"),
                "-w",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {pg_root} -c max_connections=200",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    return data, port, pid


def _start_redis(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found (scripts/ensure-system-deps.sh)")
    port = free_port()
    args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(  # noqa: S603 -- our own arguments
        [binary, *args, "--dir", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.05)  # polling a starting server


def start_pg_two_nodes(limits: dict[str, str], *, nodes: int = 2, keep: bool = False) -> Stack:
    root = Path(tempfile.mkdtemp(prefix="sodam-bench-pg-"))
    root.chmod(0o755)  # the postgres user must reach its directory below
    env, secret, admin_password = base_env(root, limits)
    stack = Stack(
        mode="pg",
        root=root,
        env=env,
        secret_key=secret,
        admin_password=admin_password,
        database_url="",
        keep=keep,
    )
    try:
        stack.pg_data, pg_port, stack.pg_pid = _start_postgres(root)
        admin = f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/postgres"
        import sqlalchemy as sa

        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "CREATE DATABASE sodam TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        engine.dispose()
        stack.database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/sodam"
        stack.redis, redis_port = _start_redis(root)
        env["SODAM_DATABASE__URL"] = stack.database_url
        env["SODAM_REDIS__URL"] = f"redis://127.0.0.1:{redis_port}/0"
        migrate = [*sodam_command(), "migrate"]
        subprocess.run(migrate, env=env, check=True, capture_output=True)  # noqa: S603
        # One after the other: the first node creates the first admin.
        for i in range(nodes):
            stack.nodes.append(_launch(env, root, f"node-{'ab'[i] if i < 2 else i}"))
    except BaseException:
        stack.stop()
        raise
    return stack
