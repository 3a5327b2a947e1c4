"""A throwaway PostgreSQL server for the test session, started from the installed binaries.

``SODAM_TEST_DATABASE_URL`` (an admin URL such as postgresql://postgres@127.0.0.1:5432/postgres)
skips the throwaway server and uses that one. Each test gets its own database cloned from a
migrated template, so tests never share state.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            f"PostgreSQL binary {name!r} not found: install postgresql "
            "(scripts/ensure-system-deps.sh) or set SODAM_TEST_DATABASE_URL"
        )
    return found[-1]


@dataclass
class PostgresServer:
    """Where to reach the server as a superuser (``postgresql://...`` without a driver)."""

    admin_url: str
    data_dir: Path | None = None
    owner: str | None = None

    def url(self, database: str, driver: str = "asyncpg") -> str:
        base = sa.make_url(self.admin_url)
        return base.set(drivername=f"postgresql+{driver}", database=database).render_as_string(
            hide_password=False
        )

    def execute_autocommit(self, sql: str) -> None:
        engine = sa.create_engine(self.url("postgres", "psycopg"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(sql)
        finally:
            engine.dispose()

    def create_database(self, template: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        source = f"TEMPLATE {template}" if template else "TEMPLATE template0"
        # Korean search needs a UTF-8 ctype (pg_trgm extracts no trigrams from Hangul under C).
        self.execute_autocommit(
            f"CREATE DATABASE {name} {source} ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
        return name

    def drop_database(self, name: str) -> None:
        self.execute_autocommit(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self.data_dir is None:
            return
        cmd = [
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data_dir / "data"),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]
        subprocess.run(_as_owner(cmd, self.owner), check=False, capture_output=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


def start_postgres() -> PostgresServer:
    url = os.environ.get("SODAM_TEST_DATABASE_URL")
    if url:
        return PostgresServer(admin_url=url.replace("+asyncpg", ""))
    root = Path(tempfile.mkdtemp(prefix="sodam-pg-"))
    owner = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    if owner:
        shutil.chown(root, owner, owner)
    port = _free_port()
    subprocess.run(
        _as_owner(
            [
                _pg_bin("initdb"),
                "-D",
                str(root / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_owner(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(root / "data"),
                "-l",
                str(root / "pg.log"),
                "-w",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
                "-c max_connections=200",
                "start",
            ],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    return PostgresServer(
        admin_url=f"postgresql://postgres@127.0.0.1:{port}/postgres", data_dir=root, owner=owner
    )
