"""The fault tests' own PostgreSQL and Redis (never the machine's 5432/6379), which the tests stop,
kill, pause and restart on purpose, and a TCP proxy that cuts one node off from Redis.

Every process is started here and stopped by its PID (or its pg_ctl data directory), also when a
test fails; ``alive_pids`` lets the session check that nothing was left behind (I6).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

START_DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL {name!r} not found: run scripts/ensure-system-deps.sh")
    return found[-1]


@dataclass
class Postgres:
    """A throwaway cluster the tests may stop (immediate) and start again on the same port."""

    root: Path
    port: int
    owner: str | None

    @classmethod
    def create(cls) -> Postgres:
        root = Path(tempfile.mkdtemp(prefix="sodam-faults-pg-"))
        owner = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
        if owner:
            shutil.chown(root, owner, owner)
        server = cls(root, free_port(), owner)
        server._run(
            _pg_bin("initdb"), "-D", str(root / "data"), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        server.start()
        server.execute(
            "CREATE DATABASE sodam TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
        return server

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[bytes]:
        full = ["runuser", "-u", self.owner, "--", *cmd] if self.owner else list(cmd)
        return subprocess.run(full, capture_output=True, check=False, timeout=START_DEADLINE_S)

    def url(self, database: str = "sodam") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # fsync=off: the tests stop the server, never the machine, so the OS keeps every write.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
            "-c max_connections=200"
        )
        done = self._run(
            _pg_bin("pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "pg.log"),
            "-w", "-t", str(int(START_DEADLINE_S)), "-o", options, "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr.decode()[-2000:]}")

    def stop_immediately(self) -> None:
        """``pg_ctl stop -m immediate``: every backend dies at once, like a crash."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")

    def is_running(self) -> bool:
        done = self._run(_pg_bin("pg_ctl"), "-D", str(self.root / "data"), "status")
        return done.returncode == 0

    def postmaster_pid(self) -> int | None:
        pidfile = self.root / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pidfile.read_text().splitlines()[0])
        return None

    def execute(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=10) as conn:
            cur = conn.execute(sql.encode())
            return list(cur.fetchall()) if cur.description else []

    def destroy(self) -> None:
        self.stop_immediately()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    """A redis-server on a fixed port that the tests kill, pause (SIGSTOP) and restart."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)

    @classmethod
    def create(cls) -> Redis:
        server = cls(Path(tempfile.mkdtemp(prefix="sodam-faults-redis-")), free_port())
        server.start()
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: run scripts/ensure-system-deps.sh")
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self.pids.append(self.process.pid)
        deadline = time.monotonic() + START_DEADLINE_S
        while self.command(b"PING") != b"+PONG":
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)  # polling a starting server

    def command(self, *args: bytes) -> bytes | None:
        """One RESP command; the first line of the answer, or None if unreachable."""
        wire = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(wire)
                return s.recv(256).split(b"\r\n", 1)[0]
        except OSError:
            return None

    def kill(self) -> None:
        """SIGKILL: everything in flight on pub/sub is lost."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def pause(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def destroy(self) -> None:
        self.resume()
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class Proxy:
    """A TCP proxy on its own thread and event loop, between a node and Redis (or S3).

    ``cut()`` stops moving bytes in both directions and holds new connections (a network
    partition: no FIN, no RST, nothing delivered, like a peer paused with SIGSTOP); ``refuse()``
    resets every open connection and each new one at once (the server behind it is down, while
    it keeps its data); ``heal()`` lets everything held flow again, in order, and accepts again.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._flowing: asyncio.Event | None = None
        self._refusing = False
        self.held = 0  # new connections waiting for a cut to heal
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(30):
            raise RuntimeError("proxy did not start")

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._flowing = asyncio.Event()
            self._flowing.set()
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
            started.set()

        self._loop.run_until_complete(main())
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        with contextlib.suppress(Exception):
            self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        if self._refusing:
            writer.transport.abort()  # RST: nothing listens behind the proxy
            return
        self.held += 1
        try:
            await self._flowing.wait()
        finally:
            self.held -= 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _call(self, fn: object) -> None:
        assert callable(fn)
        done = threading.Event()

        def run() -> None:
            fn()
            done.set()

        self._loop.call_soon_threadsafe(run)
        if not done.wait(10):
            raise RuntimeError("proxy loop did not answer")

    def cut(self) -> None:
        assert self._flowing is not None
        self._call(self._flowing.clear)

    def refuse(self) -> None:
        def go() -> None:
            self._refusing = True
            for writer in list(self._writers):
                writer.transport.abort()

        self._call(go)

    def heal(self) -> None:
        assert self._flowing is not None
        flowing = self._flowing

        def go() -> None:
            self._refusing = False
            flowing.set()

        self._call(go)

    def close(self) -> None:
        def stop() -> None:
            assert self._flowing is not None
            self._flowing.set()
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()

        with contextlib.suppress(RuntimeError):
            self._call(stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
