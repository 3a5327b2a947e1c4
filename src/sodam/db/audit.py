"""Repository for the append-only, hash-chained audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson
import sqlalchemy as sa

from sodam.db.tables import audit_logs
from sodam.domain.audit import AuditEntry

_PG_AUDIT_LOCK = 0x50DA_0A0D  # advisory lock serialising appends so the chain never forks


def chain_hash(prev_hash: str | None, fields: dict[str, Any]) -> str:
    payload = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256((prev_hash or "").encode() + payload).hexdigest()


def insert_audit_log(
    conn: sa.Connection,
    *,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    ip_address: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Appends one row in the caller's transaction (the same one as the audited action)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_AUDIT_LOCK)))
    prev_hash = (
        conn.execute(sa.select(audit_logs.c.hash).order_by(audit_logs.c.id.desc()).limit(1))
    ).scalar_one_or_none()
    fields = {
        "at": at.isoformat(),
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "ip_address": ip_address,
        "data": data or {},
    }
    conn.execute(
        sa.insert(audit_logs).values(
            at=at,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            ip_address=ip_address,
            data=data or {},
            prev_hash=prev_hash,
            hash=chain_hash(prev_hash, fields),
        )
    )


def select_audit_logs(
    conn: sa.Connection, *, action: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    query = sa.select(audit_logs).order_by(audit_logs.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(audit_logs.c.action == action)
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            actor_id=row.actor_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            ip_address=row.ip_address,
            data=dict(row.data),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
        for row in conn.execute(query)
    ]
