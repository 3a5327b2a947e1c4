"""Serves the built web client (web/dist) at ``/`` with a single-page-app fallback.

Hashed build assets under ``/assets/`` are cached forever; ``index.html``, the service worker and
the manifest are revalidated on every load so a new release is picked up at once.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

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
