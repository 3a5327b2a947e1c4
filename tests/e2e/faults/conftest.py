"""One fault-test cluster per session: its own PostgreSQL and Redis, two ``sodam serve`` nodes
(node A reaches Redis through a proxy a test can cut) and a set of users with tokens (passwords
cost half a second each to check, so users are made once and every test makes its own rooms).

``cluster`` (per test) hands the session cluster over healthy: databases up, Redis up and
reachable, both nodes running with no failpoint armed. Everything started is stopped by PID at
the end of the session, and the session fails if any of those processes is still alive (I6).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.faults.infra import Postgres, Proxy, Redis, pid_alive
from tests.e2e.faults.nodes import Node
from tests.e2e.faults.oracle import Rooms
from tests.e2e.faults.rest import Account

ADMIN_PASSWORD = "faults-admin-password-0123"
USER_PASSWORD = "faults-user-password-0123"
SECRET = "faults-secret-key-that-is-long-enough-0123456789"
USERS = 16


@dataclass
class Cluster:
    pg: Postgres | None  # None: the embedded deployment (one node on SQLite, in-memory bus)
    redis: Redis | None
    proxy: Proxy | None  # between node A and Redis
    nodes: list[Node]
    admin: Account
    users: list[Account]
    rooms: Rooms = field(default_factory=Rooms)
    fds: dict[str, int] = field(default_factory=dict)  # open fds of each node when idle

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def heal(self) -> None:
        """Everything up, reachable and disarmed (a previous test may have left a fault)."""
        if self.redis is not None:
            self.redis.resume()
            if self.redis.command(b"PING") != b"+PONG":
                self.redis.kill()
                self.redis.start()
        if self.proxy is not None:
            self.proxy.heal()
        if self.pg is not None and not self.pg.is_running():
            self.pg.start()
        for node in self.nodes:
            node.ensure_running()


def node_env(database_url: str, redis_url: str) -> dict[str, str | None]:
    return {
        "SODAM_DATABASE__URL": database_url,
        "SODAM_REDIS__URL": redis_url,
        "SODAM_SECRET_KEY": SECRET,
        "SODAM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # A statement (or a wait for a pooled connection) longer than this answers 503 (F7).
        "SODAM_DATABASE__STATEMENT_TIMEOUT_S": "2",
        "SODAM_AUTH__ACCESS_TOKEN_TTL_S": "7200",
        "SODAM_REALTIME__HEADS_CHECK_S": "1",
        "SODAM_REALTIME__SENDS_PER_S": "200",
        "SODAM_REALTIME__SENDS_BURST": "400",
        "SODAM_REALTIME__MAX_CONNECTIONS_PER_USER": "40",
        "SODAM_REALTIME__PRESENCE_REFRESH_S": "5",
    }


def _make_users(base_url: str, count: int = USERS) -> tuple[Account, list[Account]]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        r = http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        r.raise_for_status()
        admin = Account(r.json()["user_id"], "admin", r.json()["access_token"])

        def make(i: int) -> Account:
            name = f"fault{i:02d}"
            body = {"username": name, "password": USER_PASSWORD, "display_name": f"장애{i:02d}"}
            created = http.post("/api/admin/users", json=body, headers=admin.headers)
            assert created.status_code == 201, created.text
            r = http.post("/api/auth/login", json={"username": name, "password": USER_PASSWORD})
            r.raise_for_status()
            return Account(r.json()["user_id"], name, r.json()["access_token"])

        with ThreadPoolExecutor(4) as pool:  # the server hashes in threads: use both cores
            users = list(pool.map(make, range(count)))
    return admin, users


@pytest.fixture(scope="session")
def fault_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="sodam-faults-"))
    pg = Postgres.create()
    redis = Redis.create()
    proxy = Proxy(redis.port)
    nodes = [
        Node("node-a", root / "a", node_env(pg.url(), f"redis://127.0.0.1:{proxy.port}/0")),
        Node("node-b", root / "b", node_env(pg.url(), redis.url)),
    ]
    try:
        for node in nodes:  # one after the other: the first one migrates the database
            node.start()
        admin, users = _make_users(nodes[0].url)
        cluster = Cluster(pg, redis, proxy, nodes, admin, users)
        cluster.fds = {n.name: n.open_fds() for n in nodes}
        yield cluster
    finally:
        for node in nodes:
            with contextlib.suppress(Exception):
                node.stop()
        proxy.close()
        redis.destroy()
        pg.destroy()
        leftovers = [p for n in nodes for p in n.pids if pid_alive(p)]
        leftovers += [p for p in redis.pids if pid_alive(p)]
        postmaster = pg.postmaster_pid()
        if postmaster is not None and pid_alive(postmaster):
            leftovers.append(postmaster)
        shutil.rmtree(root, ignore_errors=True)
        assert not leftovers, f"I6: processes left behind: {leftovers}"


@pytest.fixture(scope="session")
def embedded_cluster() -> Iterator[Cluster]:
    """One node on SQLite with the in-memory bus: the single-node fault tests (F1)."""
    root = Path(tempfile.mkdtemp(prefix="sodam-faults-sqlite-"))
    node = Node(
        "embedded",
        root / "data",
        {
            "SODAM_SECRET_KEY": SECRET,
            "SODAM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SODAM_AUTH__ACCESS_TOKEN_TTL_S": "7200",
            "SODAM_REALTIME__HEADS_CHECK_S": "1",
        },
    )
    try:
        node.start()
        admin, users = _make_users(node.url, count=5)
        cluster = Cluster(None, None, None, [node], admin, users)
        cluster.fds = {node.name: node.open_fds()}
        yield cluster
    finally:
        node.stop()
        shutil.rmtree(root, ignore_errors=True)
        assert not [p for p in node.pids if pid_alive(p)], "I6: a node was left behind"


@pytest.fixture
def embedded(embedded_cluster: Cluster) -> Iterator[Cluster]:
    embedded_cluster.heal()
    yield embedded_cluster
    embedded_cluster.heal()


@pytest.fixture
def cluster(fault_cluster: Cluster) -> Iterator[Cluster]:
    fault_cluster.heal()
    yield fault_cluster
    fault_cluster.heal()
