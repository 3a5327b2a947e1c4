"""REST for the fault tests, through a small "load balancer": a request goes to the preferred node
and, when that node does not answer (killed, restarting), to the next one. Every answer is
recorded: a 5xx other than 503 is a broken promise (F3, F7, F14) and fails the test."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

JSON = dict[str, Any]
RETRY_DEADLINE_S = 60.0


@dataclass
class Account:
    user_id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Rest:
    urls: Sequence[str]
    http: httpx.AsyncClient
    statuses: dict[int, int] = field(default_factory=dict)  # status -> how many
    broken: list[str] = field(default_factory=list)  # answers no client should ever get

    async def call(
        self, method: str, path: str, who: Account | None = None, prefer: int = 0, **kw: Any
    ) -> httpx.Response | None:
        """One attempt per node, preferred first; None if no node answered at all."""
        headers = who.headers if who else {}
        for i in range(len(self.urls)):
            url = self.urls[(prefer + i) % len(self.urls)] + path
            try:
                r = await self.http.request(method, url, headers=headers, **kw)
            except httpx.TransportError:
                continue
            self.record(method, path, r)
            return r
        return None

    def record(self, method: str, path: str, r: httpx.Response) -> None:
        """Counts an answer; a 5xx other than a retryable 503 or a 507 storage_full is broken."""
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if r.status_code < 500:
            return
        try:
            code = r.json().get("code")
        except ValueError:
            code = None
        if code not in EXPECTED_5XX.get(r.status_code, set()):
            self.broken.append(f"{method} {path}: {r.status_code} {r.text[:300]}")

    async def must(
        self,
        method: str,
        path: str,
        who: Account | None = None,
        within: float = RETRY_DEADLINE_S,
        **kw: Any,
    ) -> JSON:
        """Retries through outages (no answer, 503) until a 2xx; fails on anything else."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        delay = 0.1
        while True:
            r = await self.call(method, path, who, **kw)
            if r is not None and r.status_code < 300:
                body: JSON = r.json() if r.content else {}
                return body
            if r is not None and r.status_code != 503:
                raise AssertionError(f"{method} {path}: {r.status_code} {r.text[:500]}")
            if loop.time() > deadline:
                raise AssertionError(f"{method} {path}: no answer within {within}s")
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, 2.0)

    # --- what the tests and the oracle read ------------------------------------------------------

    async def login(self, username: str, password: str) -> Account:
        body = await self.must(
            "POST", "/api/auth/login", json={"username": username, "password": password}
        )
        return Account(body["user_id"], username, body["access_token"])

    async def room(self, who: Account, room_id: int) -> JSON:
        return await self.must("GET", f"/api/rooms/{room_id}", who)

    async def messages(self, who: Account, room_id: int) -> list[JSON]:
        """Every message of the room the user may see, ascending by seq."""
        out: list[JSON] = []
        after = 0
        while True:
            page = await self.must(
                "GET", f"/api/rooms/{room_id}/messages?after={after}&limit=200", who
            )
            out.extend(page["messages"])
            if not page["has_more_after"] or not page["messages"]:
                return out
            after = page["messages"][-1]["seq"]

    async def events(self, who: Account, room_id: int, after: int = 0) -> tuple[list[JSON], bool]:
        """The room's events after ``after`` (all pages); second: too far behind to replay."""
        out: list[JSON] = []
        while True:
            page = await self.must("GET", f"/api/rooms/{room_id}/events?after={after}", who)
            if page["too_far_behind"]:
                return out, True
            out.extend(page["events"])
            if not page["has_more"] or not page["events"]:
                return out, False
            after = page["next_event_seq"]


RETRYABLE_503 = {"database_unavailable", "unavailable", "storage_unavailable"}
# The 5xx answers a client may get: retryable outages, and a full disk (F12).
EXPECTED_5XX = {503: RETRYABLE_503, 507: {"storage_full"}}
