"""Liveness, readiness and metrics endpoints (not part of the versioned API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sodam.api.deps import get_services
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
