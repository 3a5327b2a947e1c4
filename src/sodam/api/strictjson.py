"""Strict JSON request bodies: duplicate keys, NaN/Infinity (also spelt as an overflowing 1e999),
huge integers and deep nesting are refused with ``invalid_json`` (400) instead of being silently
accepted the way ``json.loads`` does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

MAX_INT_DIGITS = 18  # fits int64 on every client platform (C#, Java, Swift)
MAX_DEPTH = 32


class StrictJSONError(json.JSONDecodeError):
    def __init__(self, msg: str) -> None:
        super().__init__(msg, "", 0)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not allowed")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise StrictJSONError("integer too large")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf: NaN/Infinity by another name
        raise StrictJSONError("number out of range")
    return value


def _depth(value: Any, level: int = 0) -> None:
    if level > MAX_DEPTH:
        raise StrictJSONError("nesting too deep")
    if isinstance(value, dict):
        for item in value.values():
            _depth(item, level + 1)
    elif isinstance(value, list):
        for item in value:
            _depth(item, level + 1)


def strict_loads(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError("invalid UTF-8") from exc
    try:
        value = json.loads(
            data,
            object_pairs_hook=_pairs,
            parse_constant=_constant,
            parse_int=_int,
            parse_float=_float,
        )
    except RecursionError as exc:
        raise StrictJSONError("nesting too deep") from exc
    _depth(value)
    return value


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute whose handlers parse JSON bodies with ``strict_loads``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await original(StrictJSONRequest(request.scope, request.receive))

        return handler
