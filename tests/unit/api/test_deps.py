"""Where a request came from: the address rate limits and audit rows use."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from sodam.api.deps import client_ip
from sodam.app import build_app
from sodam.config import Settings

PROXY = "10.0.0.5"


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": headers,
            "client": (peer, 50000),
            "query_string": b"",
        }
    )


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_ip(_request("198.51.100.1", "1.2.3.4"), []) == "198.51.100.1"


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert client_ip(_request("198.51.100.1", "1.2.3.4"), ["10.0.0.0/8"]) == "198.51.100.1"


def test_behind_a_trusted_proxy_the_forwarded_client_is_used() -> None:
    assert client_ip(_request(PROXY, "203.0.113.9"), ["10.0.0.0/8"]) == "203.0.113.9"


def test_a_spoofed_first_hop_does_not_win() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1"; nginx appended the real address.
    request = _request(PROXY, "1.1.1.1, 203.0.113.9")
    assert client_ip(request, ["10.0.0.0/8"]) == "203.0.113.9"


def test_chained_trusted_proxies_are_skipped() -> None:
    request = _request(PROXY, "203.0.113.9, 10.0.0.7")
    assert client_ip(request, ["10.0.0.0/8"]) == "203.0.113.9"


@pytest.mark.parametrize("forwarded", [None, "", " , "])
def test_trusted_proxy_without_forwarded_for_is_the_client(forwarded: str | None) -> None:
    assert client_ip(_request(PROXY, forwarded), ["10.0.0.0/8"]) == PROXY


def _calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)  # an include_router()
        if included is not None:
            yield from _routes(included.routes)
        else:
            yield route


def test_every_dependency_of_every_route_runs_on_the_event_loop(tmp_path: Path) -> None:
    """FastAPI runs a plain ``def`` dependency (or endpoint) in its thread pool: a round trip
    through another thread on every request, for what is a lookup on ``app.state``."""
    app = build_app(Settings(data_dir=tmp_path))
    checked, in_threads = 0, []
    for route in _routes(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:  # the API docs' static files, plain Starlette routes
            continue
        for call in [dependant.call, *_calls(dependant)]:
            checked += 1
            if not (
                inspect.iscoroutinefunction(call)
                or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
            ):
                in_threads.append(f"{getattr(route, 'path', route)}: {call!r}")
    assert checked > 100  # the routes were found
    assert in_threads == []
