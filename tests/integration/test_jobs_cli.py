"""``sodam jobs list`` and ``sodam jobs retry`` against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from sodam.__main__ import main
from sodam.db.engine import create_engine
from sodam.db.tables import outbox
from sodam.services.jobs import enqueue_txn

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("SODAM_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def sodam(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {"SODAM_DATA_DIR": str(tmp_path / "var"), "SODAM_DATABASE__URL": database_url}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _jobs(engine: sa.Engine) -> tuple[int, int]:
    """A done job and a dead one (with a two-line error)."""
    with engine.begin() as conn:
        done = enqueue_txn(conn, kind="files.thumbnail", payload={"secret": "s3cr3t"}, now=NOW)
        dead = enqueue_txn(conn, kind="files.scan", payload={}, now=NOW, max_attempts=3)
        conn.execute(sa.update(outbox).where(outbox.c.id == done).values(state="done"))
        conn.execute(
            sa.update(outbox)
            .where(outbox.c.id == dead)
            .values(state="dead", attempts=3, last_error="gave up\nclamd unreachable")
        )
    assert done is not None and dead is not None
    return done, dead


def test_jobs_list_shows_jobs_newest_first_without_payloads(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    done, dead = _jobs(engine)

    result = sodam(database_url, tmp_path, "jobs", "list")

    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert [row[:4] for row in rows] == [
        [str(dead), "files.scan", "dead", "3/3"],
        [str(done), "files.thumbnail", "done", "0/10"],
    ]
    assert rows[0][5] == "gave up clamd unreachable"
    assert "s3cr3t" not in result.output


def test_jobs_retry_requeues_a_dead_job_and_refuses_others(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    done, dead = _jobs(engine)

    listed = sodam(database_url, tmp_path, "jobs", "list", "--state", "dead")
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [str(dead)]

    result = sodam(database_url, tmp_path, "jobs", "retry", str(dead))
    assert result.exit_code == 0, result.output
    assert result.output == f"job {dead} requeued\n"
    with engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.id == dead)).one()
    assert (row.state, row.attempts) == ("pending", 0)

    refused = sodam(database_url, tmp_path, "jobs", "retry", str(done), "999999")
    assert refused.exit_code == 1
    assert f"not dead (or no such job): {done}, 999999" in refused.output
