"""Composition root: ``build_app(settings)`` picks and wires every concrete backend.

Nothing happens at import time. ``build_services`` creates the engine, bus, metrics and services
(what ``sodam worker`` needs too); ``build_runner`` the background job runner over them;
``build_app`` adds the HTTP and WebSocket edge. The lifespan runs migrations (unless turned off),
creates the first admin on an empty database, starts the embedded job runner (when
``embedded_workers``), and closes everything on shutdown.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import cast

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # no stubs

from sodam import __version__
from sodam.api import auth as auth_api
from sodam.api import files as files_api
from sodam.api import health as health_api
from sodam.api import messages as messages_api
from sodam.api import rooms as rooms_api
from sodam.api import uploads as uploads_api
from sodam.api import users as users_api
from sodam.api.errors import install_error_handlers
from sodam.api.middleware import (
    AdmissionGate,
    BodyLimitMiddleware,
    FileAwareGZipMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    UploadAdmission,
)
from sodam.api.web import default_web_dir, web_client_endpoint
from sodam.bus.base import Bus
from sodam.bus.memory import MemoryBus
from sodam.config import Settings
from sodam.db import migrate
from sodam.db.engine import Database, create_engine
from sodam.domain.clock import Clock, SystemClock
from sodam.files import build_blob_store
from sodam.files.base import BlobStore
from sodam.files.scanner import ClamdScanner
from sodam.observability.failpoints import Failpoints
from sodam.observability.metrics import Metrics
from sodam.realtime.connection import KeepServerSend
from sodam.realtime.gateway import Gateway
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.ports import GatewayDeps
from sodam.services.accounts import AccountService, FirstAdmin
from sodam.services.auth import AuthService
from sodam.services.bodyslots import BodySlots
from sodam.services.container import Services
from sodam.services.files import FileService
from sodam.services.health import HealthService
from sodam.services.jobs import JobQueue
from sodam.services.messages import FilePolicy, MessageService
from sodam.services.passwords import PasswordHasher
from sodam.services.pins import PinService
from sodam.services.reads import ReadFanout, ReadService
from sodam.services.rooms import RoomService
from sodam.services.storage import BlobIO
from sodam.services.sync import SyncService
from sodam.services.tokens import TokenCodec
from sodam.services.uploads import UploadService
from sodam.workers.handlers import build_handlers, periodic_jobs
from sodam.workers.runner import JobRunner

logger = logging.getLogger(__name__)


@dataclass
class Overrides:
    """Test seams: swap the clock, password cost or bus without patching internals."""

    clock: Clock | None = None
    hasher: PasswordHasher | None = None
    bus: Bus | None = None
    on_first_admin: Callable[[FirstAdmin], None] | None = None
    extra: dict[str, object] = field(default_factory=dict)


def build_bus(settings: Settings) -> Bus:
    if settings.redis.url:
        from sodam.bus.redis import RedisBus

        return RedisBus(settings.redis.url, prefix=settings.redis.key_prefix)
    return MemoryBus()


@dataclass
class Built:
    """Everything but the HTTP edge: what ``build_app`` and ``sodam worker`` share."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    failpoints: Failpoints
    db: Database
    bus: Bus
    services: Services
    blob_io: BlobIO

    async def close(self) -> None:
        """Closes what ``build_services`` opened, the database last."""
        await self.services.read_fanout.close()
        await self.bus.close()
        self.blob_io.close()
        self.services.uploads.close()
        await self.db.dispose()


def build_services(settings: Settings, overrides: Overrides | None = None) -> Built:
    """Builds the database, bus, metrics and every service; starts nothing."""
    overrides = overrides or Overrides()
    clock = overrides.clock or SystemClock()
    hasher = overrides.hasher or PasswordHasher()
    bus = overrides.bus or build_bus(settings)
    metrics = Metrics()
    metrics.build_info.labels(__version__).set(1)
    failpoints = Failpoints(settings.failpoints, settings.failpoints_file)  # off unless set
    db = Database(
        create_engine(
            settings.database_url,
            pool_size=settings.database.pool_size,
            sqlite_synchronous=settings.database.sqlite_synchronous,
            statement_timeout_s=settings.database.statement_timeout_s,
        ),
        failpoints=failpoints,
    )
    tokens = TokenCodec(
        settings.resolved_secret_key(),
        access_ttl_s=settings.auth.access_token_ttl_s,
        leeway_s=settings.auth.token_leeway_s,
    )
    read_fanout = ReadFanout(bus)
    jobs = JobQueue(db, clock, settings=settings.jobs)
    # --- files (docs/files.md): blob store, scanner, uploads --------------------------------
    store = cast("BlobStore", overrides.extra.get("blob_store")) or build_blob_store(settings)
    blob_io = BlobIO()  # blob store calls never take the threads logins and DNS lookups need
    scanner = (
        ClamdScanner(
            settings.files.clamd_url,
            timeout_s=settings.files.scan_timeout_s,
            max_bytes=settings.files.scan_max_bytes,
        )
        if settings.files.clamd_url
        else None
    )
    requires_clean = settings.files.download_requires_clean
    upload_slots = BodySlots.for_node(settings.files)
    metrics.upload_bodies_active.set_function(lambda: upload_slots.active)
    metrics.upload_bodies_waiting.set_function(lambda: upload_slots.waiting)
    metrics.counter_from(
        "sodam_upload_ingest_wait_seconds",
        "Time upload bodies waited because this node read upload bytes at its ceiling "
        "(files.upload_ingest_mb_s).",
        lambda: upload_slots.ceiling.waited_s,
    )
    file_policy = FilePolicy(
        backend=store.backend,
        scanner_enabled=scanner is not None,
        requires_clean=requires_clean,
        kick_jobs=jobs.kick,
    )
    services = Services(
        auth=AuthService(db, clock, hasher, tokens, bus, settings.auth),
        accounts=AccountService(db, clock, hasher, bus, settings.auth),
        health=HealthService(db),
        rooms=RoomService(db, clock, bus, requires_clean=requires_clean),
        messages=MessageService(
            db, clock, bus, settings.limits, metrics, failpoints, files=file_policy
        ),
        pins=PinService(db, clock, bus, requires_clean=requires_clean),
        reads=ReadService(db, clock, bus, read_fanout),
        read_fanout=read_fanout,
        sync=SyncService(db, requires_clean=requires_clean),
        jobs=jobs,
        uploads=UploadService(
            db, clock, store, settings.limits, settings.files, blob_io, upload_slots
        ),
        files=FileService(db, clock, bus, store, settings.files, scanner, failpoints, blob_io),
    )
    return Built(settings, clock, metrics, failpoints, db, bus, services, blob_io)


def build_runner(built: Built, *, worker_id: str | None = None) -> JobRunner:
    """The job runner over ``built``'s services (docs/jobs.md); started by the caller."""
    return JobRunner(
        built.services.jobs,
        build_handlers(built.services),
        worker_id=worker_id or default_worker_id(),
        settings=built.settings.jobs,
        metrics=built.metrics,
        periodic=periodic_jobs(),
    )


def default_worker_id() -> str:
    """Names a runner in ``outbox.locked_by``: host, process and a random suffix."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


async def prepare_database(built: Built) -> bool:
    """Migrates when ``migrate_on_start`` is set; True if the schema is at the head revision."""
    if built.settings.database.migrate_on_start:
        await migrate.upgrade(built.db.engine)
    return await migrate.current_revision(built.db.engine) == migrate.head_revision()


def build_app(settings: Settings, overrides: Overrides | None = None) -> FastAPI:
    overrides = overrides or Overrides()
    built = build_services(settings, overrides)
    clock, metrics, db, bus, services = (
        built.clock,
        built.metrics,
        built.db,
        built.bus,
        built.services,
    )
    accounts = services.accounts
    runner = build_runner(built) if settings.embedded_workers else None
    # --- realtime gateway (docs/protocol.md): built here, started and stopped in the lifespan --
    realtime_limits = overrides.extra.get("realtime_limits")
    gateway = Gateway(
        GatewayDeps(
            auth=services.auth,
            rooms=services.rooms,
            events=services.sync,
            messages=services.messages,
            reads=services.reads,
            profiles=accounts,
            publish=bus.publish,
        ),
        settings,
        realtime_limits
        if isinstance(realtime_limits, GatewayLimits)
        else GatewayLimits.from_settings(settings),
        clock,
        metrics,
    )
    # --- end realtime gateway ----------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        at_head = await prepare_database(built)
        if at_head:
            first = await accounts.ensure_first_admin(
                settings.admin_password.get_secret_value() if settings.admin_password else None
            )
            if first is not None and overrides.on_first_admin is not None:
                overrides.on_first_admin(first)
        else:
            # Serve anyway: /readyz answers 503 until `sodam migrate` has run.
            logger.error("database schema is not at the head revision; run `sodam migrate`")
        await bus.start(gateway.handle_bus)  # realtime gateway
        await gateway.start()  # realtime gateway
        if runner is not None and at_head:
            await runner.start()
        elif runner is not None:
            logger.error("background jobs not started: the schema is behind; restart after it")
        try:
            yield
        finally:
            await gateway.close()  # realtime gateway: clients are told to reconnect (1012)
            if runner is not None:
                await runner.stop(settings.jobs.shutdown_grace_s)
            await built.close()

    app = FastAPI(
        title="Sodam API",
        version=__version__,
        description="Sodam (소담): on-premises corporate messenger. Errors have the shape "
        '`{"code", "message", "data"}`; clients translate by `code`.',
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.metrics = metrics
    app.state.db = db
    app.state.bus = bus
    app.state.runner = runner
    app.state.gateway = gateway  # realtime gateway
    install_error_handlers(app)
    app.include_router(health_api.router)
    app.include_router(auth_api.router)
    app.include_router(users_api.router)
    app.include_router(rooms_api.router)
    app.include_router(messages_api.router)
    app.include_router(uploads_api.router)
    app.include_router(files_api.router)
    app.add_api_websocket_route("/api/ws", gateway.endpoint)  # realtime gateway

    # The docs page uses Swagger UI files shipped in a package: an on-premises network has no CDN.
    app.mount("/api/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Sodam API",
            swagger_js_url="/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/static/swagger-ui.css",
            swagger_favicon_url="/api/docs/static/favicon-32x32.png",
        )

    web_dir = settings.web_dir or default_web_dir()
    if web_dir is not None:
        # A GET-only catch-all added last: API routes match first, and a wrong method on an API
        # path still answers 405 rather than the app's index.html.
        app.add_route(
            "/{path:path}",
            web_client_endpoint(web_dir, app.router),
            methods=["GET", "HEAD"],
            include_in_schema=False,
        )

    # Outermost last: context (request id) wraps everything, then the upload admission, headers,
    # then the body limit.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.request_body_max_bytes)
    # The embedded server has no proxy in front: compress the web client and large JSON itself
    # (the app bundle is ~440 KB raw, ~135 KB gzipped).
    app.add_middleware(FileAwareGZipMiddleware, minimum_size=1024)
    app.add_middleware(SecurityHeadersMiddleware)
    # Inside the request context (its duration and log line include the wait for a place).
    upload_gate = AdmissionGate(settings.files.upload_requests)
    metrics.upload_requests_waiting.set_function(lambda: upload_gate.waiting)
    app.add_middleware(UploadAdmission, gate=upload_gate)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.add_middleware(KeepServerSend)
    return app
