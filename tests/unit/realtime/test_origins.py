"""The Origin check made before a WebSocket upgrade is accepted."""

from __future__ import annotations

import pytest

from sodam.config import Settings
from sodam.realtime.origins import allowed_origins, origin_allowed


@pytest.fixture
def allowed(tmp_path: object) -> frozenset[str]:
    settings = Settings(
        mode="development",
        public_base_url="https://chat.example.co.kr",
        allowed_origins=["https://desktop.example.co.kr:8443", "not a url"],
    )
    return allowed_origins(settings)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, "chat.example.co.kr"),  # native apps send no Origin
        ("https://chat.example.co.kr", "10.0.0.5:8080"),  # behind the proxy
        ("https://CHAT.example.co.kr:443", "10.0.0.5:8080"),
        ("https://desktop.example.co.kr:8443", None),
        ("http://127.0.0.1:8080", "127.0.0.1:8080"),  # same origin as the request
        ("http://localhost", "localhost:80"),
    ],
)
def test_allowed_origins(origin: str | None, host: str | None, allowed: frozenset[str]) -> None:
    assert origin_allowed(origin, host, allowed)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://evil.example.com", "chat.example.co.kr"),
        ("https://chat.example.co.kr.evil.com", "chat.example.co.kr"),
        ("http://chat.example.co.kr", "10.0.0.5"),  # scheme differs from the public URL
        ("https://desktop.example.co.kr", "10.0.0.5"),  # port differs
        ("null", "chat.example.co.kr"),  # sandboxed iframes, file:// pages
        ("http://127.0.0.1:9999", "127.0.0.1:8080"),
        ("http://[::1", "localhost"),  # unparsable
        ("javascript:alert(1)", "chat.example.co.kr"),
    ],
)
def test_refused_origins(origin: str, host: str, allowed: frozenset[str]) -> None:
    assert not origin_allowed(origin, host, allowed)
