"""Black box: ``sodam worker`` as a real process against PostgreSQL, the way a scaled-out
deployment runs it: it migrates, runs jobs written to the outbox by anyone, serves /metrics on
its own port when asked, and exits 0 on SIGTERM."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from sodam.db.engine import create_engine
from sodam.db.tables import outbox
from sodam.services.jobs import enqueue_txn
from tests.e2e.conftest import POLL_INTERVAL_S, READY_DEADLINE_S, SODAM, _child_env, free_port
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

STOP_DEADLINE_S = 60.0


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """An empty database: the worker migrates it like ``sodam serve`` would."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


class Worker:
    def __init__(self, tmp_path: Path, env: dict[str, str | None], *args: str) -> None:
        self.stderr_path = tmp_path / "worker.stderr"
        self._log = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            [str(SODAM), "worker", *args],
            env=_child_env(tmp_path / "var", env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )

    def output(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str) -> None:
        _eventually(lambda: text in self.output(), f"{text!r} from the worker", self)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_DEADLINE_S)
        self._log.close()
        return int(self.process.returncode)


def _eventually(condition: Callable[[], bool], what: str, worker: Worker) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    while not condition():
        if worker.process.poll() is not None and not condition():
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker.output()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{worker.output()[-4000:]}")
        time.sleep(POLL_INTERVAL_S)  # polling interval, not synchronisation


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(*args: str, **env: str | None) -> Worker:
        worker = Worker(tmp_path, env, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _state(engine: sa.Engine, job_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.select(outbox.c.state).where(outbox.c.id == job_id)).scalar())


def _prune_states(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        query = sa.select(outbox.c.state).where(outbox.c.kind == "jobs.prune")
        return {str(state) for state in conn.execute(query).scalars()}


def test_a_worker_runs_outbox_jobs_and_stops_cleanly_on_sigterm(
    start_worker: Callable[..., Worker], postgres_url: str
) -> None:
    metrics_port = free_port()
    worker = start_worker(
        "--metrics-port",
        str(metrics_port),
        SODAM_DATABASE__URL=postgres_url,
        SODAM_JOBS__POLL_S="0.2",
    )
    worker.wait_for_output("running background jobs")
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:  # as a serving node's service would, in its transaction
            now = dt.datetime.now(dt.UTC)
            prune = enqueue_txn(conn, kind="jobs.prune", payload={}, now=now, dedupe_key="e2e")
            unknown = enqueue_txn(conn, kind="e2e.unknown", payload={}, now=now)
        assert prune is not None and unknown is not None

        _eventually(lambda: _state(engine, prune) == "done", "our prune job to be done", worker)
        _eventually(lambda: _state(engine, unknown) == "dead", "the unknown job to die", worker)
        # and the periodic prune the worker enqueued for the current hour when it started
        _eventually(lambda: _prune_states(engine) == {"done"}, "every prune job", worker)
    finally:
        engine.dispose()

    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("sodam_jobs_completed_total", (("kind", "jobs.prune"),))] >= 2
    assert samples[("sodam_jobs_dead_total", (("kind", "e2e.unknown"),))] == 1

    assert worker.stop() == 0, worker.output()
    assert "Sodam worker stopped" in worker.output()


def test_a_worker_refuses_a_schema_behind_the_code(
    start_worker: Callable[..., Worker], postgres_url: str
) -> None:
    worker = start_worker(
        SODAM_DATABASE__URL=postgres_url, SODAM_DATABASE__MIGRATE_ON_START="false"
    )

    assert worker.process.wait(timeout=READY_DEADLINE_S) == 1
    assert "run `sodam migrate`" in worker.output()
