"""JSON answers written straight from the domain's wire dicts.

The hot reads (the room list, history pages) would otherwise build a response model from each
``to_wire()`` dict and FastAPI would validate and serialise that model again: two pydantic passes
that cost more CPU than the database work of the request (docs/performance.md). Routes that
return a ``WireJSON`` keep their ``response_model`` for the OpenAPI document; FastAPI passes a
``Response`` through as it is, so ``tests/integration/test_wire_responses.py`` checks that these
bodies are exactly what the models would have produced.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class WireJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
