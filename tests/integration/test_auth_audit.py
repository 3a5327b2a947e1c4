"""Security-relevant actions write audit rows in the same transaction (product.md A2).

The tests read ``audit_logs`` through the app's own engine (``app.state.db``); the API code never
does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from sodam.db.audit import chain_hash
from sodam.db.engine import Database
from sodam.db.tables import audit_logs
from tests.support.factories import LoggedIn, create_user

CLIENT_IP = "203.0.113.7"  # the ``client`` fixture's address


async def _audit_rows(app: FastAPI, action: str | None = None) -> list[Any]:
    db: Database = app.state.db
    query = sa.select(audit_logs).order_by(audit_logs.c.id)
    if action is not None:
        query = query.where(audit_logs.c.action == action)

    def _select() -> list[Any]:
        with db.engine.connect() as conn:
            return list(conn.execute(query))

    return await asyncio.to_thread(_select)


async def test_login_writes_an_audit_row_with_the_session_and_address(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    rows = await _audit_rows(app, "auth.login")
    assert [(r.actor_id, r.target_type, r.target_id, r.ip_address) for r in rows] == [
        (admin.user_id, "session", admin.session_id, CLIENT_IP)
    ]


async def test_failed_login_writes_an_audit_row(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    for username in ("admin", "nobody"):
        r = await client.post(
            "/api/auth/login", json={"username": username, "password": "wrong-password"}
        )
        assert r.status_code == 401
    rows = await _audit_rows(app, "auth.login_failed")
    assert [(r.actor_id, r.target_id, r.ip_address) for r in rows] == [
        (admin.user_id, "admin", CLIENT_IP),
        (None, "nobody", CLIENT_IP),
    ]
    # The password tried is never stored.
    assert all("wrong-password" not in str(r.data) for r in rows)


async def test_deactivation_writes_an_audit_row_naming_the_admin(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    r = await client.post(f"/api/admin/users/{user.username}/deactivate", headers=admin.headers)
    assert r.status_code == 200, r.text
    rows = await _audit_rows(app, "user.deactivate")
    assert [(r.actor_id, r.target_type, r.target_id) for r in rows] == [
        (admin.user_id, "user", str(user.user_id))
    ]


async def test_refused_admin_action_writes_no_audit_row(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    r = await client.post("/api/admin/users/admin/deactivate", headers=user.headers)
    assert r.status_code == 403
    assert await _audit_rows(app, "user.deactivate") == []


async def test_audit_rows_form_an_unbroken_hash_chain(
    app: FastAPI, client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    await client.post("/api/auth/login", json={"username": user.username, "password": "nope"})
    await client.post(f"/api/admin/users/{user.username}/deactivate", headers=admin.headers)

    rows = await _audit_rows(app)
    assert len(rows) >= 5  # admin created, admin login, user created, user login, failure, ...
    previous = None
    for row in rows:
        assert row.prev_hash == previous
        fields = {
            "at": row.at.isoformat(),
            "actor_id": row.actor_id,
            "action": row.action,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "ip_address": row.ip_address,
            "data": row.data,
        }
        assert row.hash == chain_hash(previous, fields), row.action
        previous = row.hash
