"""Black box: ``sodam serve`` as a real process, driven over real HTTP like a client would."""

from __future__ import annotations

import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import E2E_ADMIN_PASSWORD, ServerProcess, StartServer
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.e2e


def _login(base_url: str, username: str, password: str, **extra: str) -> dict[str, str]:
    r = httpx.post(
        f"{base_url}/api/auth/login",
        json={"username": username, "password": password, **extra},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body: dict[str, str] = r.json()
    return body


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _session_lifecycle(base_url: str, password: str) -> None:
    """Log in, use the token, refresh, log out; the old tokens are refused afterwards."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        first = _login(base_url, "admin", password, device_name="e2e")
        me = http.get("/api/me", headers=_bearer(first))
        assert me.status_code == 200, me.text
        assert me.json()["user"]["is_admin"] is True

        r = http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert http.get("/api/me", headers=_bearer(second)).status_code == 200

        assert http.post("/api/auth/logout", headers=_bearer(second)).status_code == 204
        for tokens in (first, second):
            refused = http.get("/api/me", headers=_bearer(tokens))
            assert refused.status_code == 401
            assert refused.json()["code"] == "session_ended"
            assert refused.headers["www-authenticate"].lower().startswith("bearer")
        r = http.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert r.status_code == 401


def test_first_start_prints_a_generated_admin_password_that_logs_in(
    start_server: StartServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    server = start_server(data_dir=data_dir, SODAM_ADMIN_PASSWORD=None)
    password = server.generated_admin_password()
    assert password, server.output()
    assert len(password) >= 12

    _session_lifecycle(server.base_url, password)

    # Embedded shape: SQLite and a generated signing key under the data dir, key private.
    assert (data_dir / "sodam.db").is_file()
    key_mode = stat.S_IMODE((data_dir / "secret_key").stat().st_mode)
    assert key_mode == 0o600
    # The password is shown once on stderr (the terminal), and never in a JSON log line.
    assert server.stderr().count(password) == 1
    assert all(password not in line for line in server.output().splitlines() if "{" in line)


def test_restart_keeps_the_admin_and_the_signing_key(
    start_server: StartServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    first = start_server(data_dir=data_dir, SODAM_ADMIN_PASSWORD=None)
    password = first.generated_admin_password()
    assert password
    tokens = _login(first.base_url, "admin", password)
    # SIGTERM is a graceful shutdown (uvicorn re-raises the signal once it has finished).
    assert first.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete." in first.output()

    second = start_server(data_dir=data_dir, SODAM_ADMIN_PASSWORD=None)
    assert second.generated_admin_password() is None  # printed once, on the first start only
    # The same generated key signs and checks tokens across the restart.
    me = httpx.get(f"{second.base_url}/api/me", headers=_bearer(tokens), timeout=30)
    assert me.status_code == 200, me.text


def test_admin_password_from_the_environment(server: ServerProcess) -> None:
    assert server.generated_admin_password() is None
    _session_lifecycle(server.base_url, E2E_ADMIN_PASSWORD)


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.mark.postgres
def test_serves_on_a_fresh_postgresql_database(
    start_server: StartServer, empty_postgres_url: str
) -> None:
    server = start_server(SODAM_DATABASE__URL=empty_postgres_url, SODAM_ADMIN_PASSWORD=None)
    password = server.generated_admin_password()
    assert password, server.output()
    ready = httpx.get(f"{server.base_url}/readyz", timeout=30)
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
    assert not (server.data_dir / "sodam.db").exists()
    _session_lifecycle(server.base_url, password)


def test_http_edge_over_a_real_socket(server: ServerProcess) -> None:
    """What only a real HTTP server shows: chunked bodies, headers on the wire."""
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        r = http.get("/healthz", headers={"X-Request-ID": "e2e-request-0001"})
        assert r.status_code == 200
        assert r.headers["x-request-id"] == "e2e-request-0001"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "server" not in r.headers

        def oversized() -> Iterator[bytes]:
            yield b'{"username": "admin", "password": "'
            for _ in range(40):  # 2.5 MB, over the 1 MB default limit
                yield b"x" * 65536
            yield b'"}'

        r = http.post(
            "/api/auth/login",
            content=oversized(),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"

        r = http.post(
            "/api/auth/login",
            content=b'{"username": "admin", "username": "x", "password": "y"}',
            headers={"Content-Type": "application/json"},
        )
        assert (r.status_code, r.json()["code"]) == (400, "invalid_json")

        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        refused = [
            sample
            for family in text_string_to_metric_families(metrics.text)
            for sample in family.samples
            if sample.name == "sodam_http_requests_total"
            and sample.labels["status"] in ("400", "413")
        ]
        assert {(s.labels["status"], s.value) for s in refused} == {("400", 1.0), ("413", 1.0)}
