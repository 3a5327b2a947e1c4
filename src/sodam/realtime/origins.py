"""Which browser origins may open the WebSocket (checked before the upgrade; HTTP 403 otherwise).

Allowed: no Origin at all (native apps; browsers always send one), the public base URL's origin,
the request's own host, or one of ``settings.allowed_origins``. Ports are compared after filling
in the scheme's default, host names case-insensitively.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sodam.config import Settings

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_key(scheme: str, host: str, port: int | None) -> str:
    port = port or DEFAULT_PORTS.get(scheme)
    return f"{host.lower()}:{port}"


def allowed_origins(settings: Settings) -> frozenset[str]:
    """``scheme://host[:port]`` of the public base URL and of ``allowed_origins``."""
    out: set[str] = set()
    for url in [settings.public_base_url or "", *settings.allowed_origins]:
        parts = urlsplit(url.strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            out.add(f"{parts.scheme}://{_origin_key(parts.scheme, parts.hostname, parts.port)}")
    return frozenset(out)


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    if origin is None:
        return True  # native apps send no Origin; browsers always do
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    key = _origin_key(parts.scheme, parts.hostname, port)
    if f"{parts.scheme}://{key}" in allowed:
        return True
    if host:
        try:
            own = urlsplit(f"{parts.scheme}://{host.strip()}")
            own_key = _origin_key(parts.scheme, own.hostname or "", own.port)
        except ValueError:
            return False
        return key == own_key
    return False
