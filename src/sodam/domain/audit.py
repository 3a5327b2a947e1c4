"""Audit log entries (product.md A2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    ip_address: str | None
    data: dict[str, Any]
    prev_hash: str | None
    hash: str
