"""Liveness, readiness and metrics endpoints (not part of the versioned API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sodam import __version__
from sodam.api.deps import get_services, get_settings
from sodam.observability.metrics import CONTENT_TYPE, Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="ops_healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (no dependency is checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="ops_readyz",
    responses={503: {"description": "not ready: database down or migrations behind"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the database answers and its schema is at head."""
    readiness = await get_services(request).health.readiness()
    body = {"status": "ready" if readiness.ready else "not_ready", "checks": readiness.checks}
    return JSONResponse(body, status_code=200 if readiness.ready else 503)


@router.get("/metrics", operation_id="ops_metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics in the text exposition format 0.0.4."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE)


class ServerInfoOut(BaseModel):
    version: str
    message_max_chars: int
    edit_window_s: int = Field(description="Own messages can be edited this long after sending")
    unsend_window_s: int = Field(description="Own messages can be unsent this long after sending")
    attachment_max_bytes: int
    page_size_max: int
    virus_scanning: bool = Field(
        description="Whether sent files are scanned for viruses (a clamd is configured); "
        "without, files are unscanned with reason scanner_disabled"
    )


@router.get(
    "/api/server-info", operation_id="server_info", response_model=ServerInfoOut, tags=["server"]
)
async def server_info(request: Request) -> ServerInfoOut:
    """The limits a client should know before acting (no authentication needed)."""
    settings = get_settings(request)
    limits = settings.limits
    return ServerInfoOut(
        version=__version__,
        message_max_chars=limits.message_max_chars,
        edit_window_s=limits.edit_window_s,
        unsend_window_s=limits.unsend_window_s,
        attachment_max_bytes=limits.attachment_max_bytes,
        page_size_max=limits.page_size_max,
        virus_scanning=settings.files.clamd_url is not None,
    )
