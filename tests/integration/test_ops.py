"""Operations endpoints and HTTP hygiene: health, readiness, metrics, security headers, request
ids, the OpenAPI document and the self-hosted API docs page.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id
from prometheus_client.parser import text_string_to_metric_families

from sodam.app import Overrides, build_app
from sodam.config import Settings
from sodam.db import migrate
from sodam.db.engine import create_engine
from sodam.services.passwords import PasswordHasher
from tests.support.factories import LoggedIn
from tests.support.postgres import PostgresServer


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


# --- readiness when the database is not usable ---------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but was never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def _unmigrated_settings(url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        admin_password="admin-password-for-tests",
        database={"url": url, "migrate_on_start": False},
    )


@pytest.fixture
async def unmigrated_app(
    empty_database_url: str, tmp_path: Path, fast_hasher: PasswordHasher
) -> AsyncIterator[FastAPI]:
    """A server started with migrate_on_start off on a database nobody has migrated yet."""
    app = build_app(
        _unmigrated_settings(empty_database_url, tmp_path), Overrides(hasher=fast_hasher)
    )
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def unmigrated_client(unmigrated_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=unmigrated_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_server_with_migrations_off_starts_on_an_empty_database_and_is_not_ready(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    r = await unmigrated_client.get("/readyz")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] != "ok"
    # Liveness does not depend on the database.
    assert (await unmigrated_client.get("/healthz")).status_code == 200


async def test_readyz_turns_ready_once_the_database_is_migrated(
    unmigrated_client: httpx.AsyncClient, empty_database_url: str
) -> None:
    assert (await unmigrated_client.get("/readyz")).status_code == 503

    def _migrate() -> None:  # what `sodam migrate` does, from another process
        engine = create_engine(empty_database_url)
        try:
            migrate.upgrade_sync(engine)
        finally:
            engine.dispose()

    await asyncio.to_thread(_migrate)
    r = await unmigrated_client.get("/readyz")
    assert r.status_code == 200, r.text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_readyz_is_503_when_the_database_cannot_be_reached(
    tmp_path: Path, fast_hasher: PasswordHasher
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/sodam"
    app = build_app(_unmigrated_settings(url, tmp_path), Overrides(hasher=fast_hasher))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/readyz")
    await app.state.db.dispose()
    assert r.status_code == 503, r.text
    assert r.json()["checks"]["database"].startswith("unavailable")


# --- metrics -------------------------------------------------------------------------------------


async def _metrics_after_some_traffic(client: httpx.AsyncClient, admin: LoggedIn) -> str:
    await client.get("/api/me", headers=admin.headers)
    await client.get("/api/users/12345/profile", headers=admin.headers)
    await client.get("/api/no-such-route")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return r.text


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    text = await _metrics_after_some_traffic(client, admin)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }

    def requests(route: str, method: str, status: str) -> float:
        labels = (("method", method), ("route", route), ("status", status))
        return samples.get(("sodam_http_requests_total", labels), 0.0)

    assert requests("/api/me", "GET", "200") == 1
    # The template, never the concrete path: ids and tokens stay out of label values.
    assert requests("/api/users/{user_id}/profile", "GET", "404") == 1
    assert requests("unmatched", "GET", "404") == 1
    assert not any("12345" in str(labels) for _, labels in samples)
    assert ("sodam_build_info", (("version", "0.1.0"),)) in samples


async def test_metrics_pass_promtool(
    client: httpx.AsyncClient, admin: LoggedIn, tmp_path: Path
) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI: scripts/ensure-system-deps.sh installs it")
        pytest.skip("promtool not installed (Debian package prometheus)")
    text = await _metrics_after_some_traffic(client, admin)
    proc = await asyncio.create_subprocess_exec(
        promtool,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(text.encode()), timeout=60)
    assert proc.returncode == 0, output.decode()


# --- headers -------------------------------------------------------------------------------------


def _assert_security_headers(r: httpx.Response) -> None:
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


async def test_security_headers_are_on_every_kind_of_response(
    client: httpx.AsyncClient, admin: LoggedIn, settings: Settings
) -> None:
    oversized = b"x" * (settings.limits.request_body_max_bytes + 1)
    responses = [
        await client.get("/api/me", headers=admin.headers),  # success
        await client.get("/api/me"),  # 401 from a handler
        await client.get("/api/no-such-route"),  # 404 from routing
        await client.post("/api/auth/login", content=oversized),  # 413 from middleware
        await client.get("/metrics"),
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 413, 200]
    for r in responses:
        _assert_security_headers(r)
    directives = dict(
        d.strip().split(" ", 1) for d in responses[0].headers["content-security-policy"].split(";")
    )
    assert directives["script-src"] == "'self'"


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "abc123-from-nginx"})
    assert r.headers["x-request-id"] == "abc123-from-nginx"


async def test_request_id_is_generated_when_absent_or_unacceptable(
    client: httpx.AsyncClient,
) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    for bad in ("short", "has spaces in it", "x" * 65, "<script>alert(1)</script>"):
        r = await client.get("/healthz", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"])


async def test_request_id_is_on_error_responses_too(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/me", headers={"X-Request-ID": "req-0000000001"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "req-0000000001"


# --- OpenAPI and the docs page -------------------------------------------------------------------


def _schema_routes(routes: Any) -> Iterator[APIRoute]:
    """Every APIRoute in the OpenAPI document, looking inside included routers."""
    for route in routes:
        # FastAPI keeps an included router as one wrapper route around the original router.
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _schema_routes(inner.routes)
        elif isinstance(route, APIRoute) and route.include_in_schema:
            yield route


async def test_openapi_lists_every_route_with_an_explicit_unique_operation_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    r = await client.get("/api/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids)), "duplicate operation ids"
    # FastAPI's generated ids carry the path, e.g. "login_api_auth_login_post".
    assert [i for i in ids if "_api_" in i or i.endswith(("_healthz_get", "_readyz_get"))] == []
    assert {"auth_login", "auth_refresh", "auth_logout", "ops_readyz", "users_list"} <= set(ids)

    routes = list(_schema_routes(app.routes))
    assert len(routes) >= 10
    assert [r.path for r in routes if not r.operation_id] == [], "routes without operation_id"
    assert [r.path for r in routes if r.operation_id == generate_unique_id(r)] == []
    assert sorted(ids) == sorted(r.operation_id for r in routes for _ in r.methods)


async def test_api_docs_page_loads_nothing_from_other_hosts(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "/api/openapi.json" in html
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert sources
    assert [s for s in sources if re.match(r"(?i)(https?:)?//", s)] == []
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
    _assert_security_headers(r)
