"""Refused attempts on other people's messages are audited (reliability.md §4 "Authorisation").

The refused use case's transaction rolls back, so the audit row is written in a transaction of its
own after the refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from sodam.db import audit as audit_repo
from sodam.db.engine import Database
from sodam.domain.clock import Clock
from sodam.errors import Forbidden
from sodam.services.context import Principal

T = TypeVar("T")

AUDITED_CODES = frozenset({"not_message_owner", "room_permission_denied"})


async def write_auditing_refusals(
    db: Database,
    clock: Clock,
    principal: Principal,
    txn: Callable[[sa.Connection], T],
    *,
    action: str,
    target_type: str,
    target_id: str,
) -> T:
    """Runs ``txn``; a refusal for lack of ownership or role is re-raised after an audit row
    ``<action>_refused`` is stored."""
    try:
        return await db.write(txn)
    except Forbidden as exc:
        if exc.code not in AUDITED_CODES:
            raise
        now, code = clock.now(), exc.code
        await db.write(
            lambda conn: audit_repo.insert_audit_log(
                conn,
                at=now,
                actor_id=principal.user.id,
                action=f"{action}_refused",
                target_type=target_type,
                target_id=target_id,
                data={"code": code},
            )
        )
        raise
