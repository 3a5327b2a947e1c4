"""Serves the built web client (web/dist) at ``/`` with a single-page-app fallback.

Hashed build assets under ``/assets/`` are cached forever; ``index.html``, the service worker and
the manifest are revalidated on every load so a new release is picked up at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

_NOT_THE_APP = frozenset({"api", "healthz", "readyz", "metrics"})
_NO_CACHE = ("index.html", "sw.js", "manifest.webmanifest", "registerSW.js")


class SpaStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if (
                exc.status_code != 404
                or path.startswith("assets/")
                or "." in path.rsplit("/", 1)[-1]
            ):
                raise
            response = await super().get_response("index.html", scope)
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        elif path in ("", ".") or path.endswith(_NO_CACHE):
            response.headers["Cache-Control"] = "no-cache"
        return response


def default_web_dir() -> Path | None:
    """web/dist of the source checkout Sodam runs from, if it has been built."""
    candidate = Path(__file__).resolve().parents[3] / "web" / "dist"
    return candidate if (candidate / "index.html").is_file() else None


def web_client_endpoint(web_dir: Path, router: Router) -> Callable[[Request], Awaitable[Response]]:
    """A GET catch-all serving ``web_dir`` with the SPA fallback. Under the API prefixes it
    answers what the router would have: 405 when the path exists for another method, else 404
    (a JSON error, never the app's index.html)."""
    files = SpaStaticFiles(directory=web_dir, html=True)

    async def serve(request: Request) -> Response:
        path: str = request.path_params["path"]
        if path.split("/", 1)[0] in _NOT_THE_APP:
            for route in router.routes:
                if getattr(route, "endpoint", None) is serve:
                    continue
                if route.matches(request.scope)[0] is Match.PARTIAL:
                    raise HTTPException(status_code=405)
            raise HTTPException(status_code=404)
        return await files.get_response(path, request.scope)

    return serve
