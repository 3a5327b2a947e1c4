"""Readiness: the database answers and its schema is at the migrations' head."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sodam.db import migrate
from sodam.db.engine import Database
from sodam.errors import AppError


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str]


class HealthService:
    def __init__(self, db: Database, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._timeout = timeout_s

    async def readiness(self) -> Readiness:
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(self._timeout):
                await self._db.ping()
                current = await migrate.current_revision(self._db.engine)
        except (AppError, OSError, TimeoutError) as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
            return Readiness(False, checks)
        checks["database"] = "ok"
        head = migrate.head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
        return Readiness(all(v == "ok" for v in checks.values()), checks)
