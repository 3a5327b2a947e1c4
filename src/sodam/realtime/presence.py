"""Presence across nodes (product.md M8): online / away / offline, last seen, work status.

Design (docs/protocol.md "Presence"):
- Each node knows its own sockets. A user's status on a node is ``online`` if any of their sockets
  there says online, ``away`` if all say away; a node publishes a ``presence.node`` message on the
  ``presence`` topic whenever that changes, ``offline`` when the user's last socket on the node
  closes, and every ``presence_refresh_s`` a ``presence.refresh`` with all its users.
- Every node (itself included) keeps ``user -> {node: status, expiry}``; an entry not refreshed
  within ``presence_ttl_s`` expires, so a node that died without saying goodbye stops counting.
  Expiry uses the receiving node's own monotonic clock: clock skew between nodes does not matter.
- A user's presence is the best status over the nodes: online > away > offline.
- Sockets ask for the users they display (``presence.watch``); a change is serialised once and
  sent to the sockets watching that user on this node. Presence is visible to every user of the
  company (the people directory is), so watching needs no room in common. Users a node knows
  nothing about are loaded with one ``get_profiles`` query per watch.
- Last seen is durable: when a user's last socket on a node closes, the node writes it
  (``touch_last_seen``), so a watcher on any node, even after restarts, gets it from the profile.
  A node forgets users who are offline and watched by nobody (bounded memory, I6).
- ``profile.updated`` (name, work status, status message changed) is forwarded to the watchers.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from sodam.domain.clock import Clock
from sodam.domain.ids import UserId
from sodam.errors import AppError
from sodam.realtime.connection import Connection
from sodam.realtime.frames import encode
from sodam.realtime.limits import GatewayLimits
from sodam.realtime.ports import Profiles, Publish

logger = logging.getLogger(__name__)

TOPIC = "presence"
RANK = {"offline": 0, "away": 1, "online": 2}


@dataclass(slots=True)
class Seen:
    """What this node remembers of a user it is not necessarily serving."""

    nodes: dict[str, tuple[str, float]]  # node -> (status, expires at, monotonic)
    work_status: str | None = None
    last_seen_at: dt.datetime | None = None


class Presence:
    def __init__(
        self,
        node_id: str,
        clock: Clock,
        publish: Publish,
        profiles: Profiles,
        limits: GatewayLimits,
    ) -> None:
        self.node_id = node_id
        self._clock = clock
        self._publish = publish
        self._profiles = profiles
        self._ttl = limits.presence_ttl_s
        self._local: dict[UserId, list[Connection]] = {}
        self._seen: dict[UserId, Seen] = {}
        self._watchers: dict[UserId, set[Connection]] = {}

    # --- this node's sockets -----------------------------------------------------------------

    async def connected(self, conn: Connection, work_status: str | None) -> None:
        before = self._local_status(conn.user_id)
        self._local.setdefault(conn.user_id, []).append(conn)
        seen = self._seen_of(conn.user_id)
        if work_status is not None:
            seen.work_status = work_status
        await self._local_changed(conn.user_id, before)

    async def set_status(self, conn: Connection, status: str) -> None:
        before = self._local_status(conn.user_id)
        conn.status = status
        await self._local_changed(conn.user_id, before)

    async def disconnected(self, conn: Connection) -> None:
        self.unwatch(conn)
        conns = self._local.get(conn.user_id)
        if not conns or conn not in conns:
            return
        before = self._local_status(conn.user_id)
        conns.remove(conn)
        at = self._clock.now()  # the same instant is stored and announced
        if not conns:
            del self._local[conn.user_id]
            await self._touch_last_seen(conn.user_id, at)
        await self._local_changed(conn.user_id, before, at)

    async def _touch_last_seen(self, user_id: UserId, at: dt.datetime) -> None:
        try:
            await self._profiles.touch_last_seen(user_id, at)
        except AppError:
            logger.warning("could not record last seen; it stays as it was")

    def _local_status(self, user_id: UserId) -> str:
        conns = self._local.get(user_id)
        if not conns:
            return "offline"
        return "online" if any(c.status == "online" for c in conns) else "away"

    async def _local_changed(
        self, user_id: UserId, before: str, at: dt.datetime | None = None
    ) -> None:
        status = self._local_status(user_id)
        if status == before:
            return
        message = {
            "type": "presence.node",
            "node": self.node_id,
            "user_id": user_id,
            "status": status,
            "work_status": self._seen_of(user_id).work_status,
            "at": (at or self._clock.now()).isoformat(),
        }
        # Applied here at once (the bus may be down), and published for the other nodes.
        self.on_bus_message(message)
        await self._publish(TOPIC, orjson.dumps(message))

    async def refresh(self) -> None:
        """Re-announces this node's users and forgets entries of nodes that went quiet."""
        users = [[u, self._local_status(u), self._seen_of(u).work_status] for u in self._local]
        message = {"type": "presence.refresh", "node": self.node_id, "users": users}
        self.on_bus_message(message)
        await self._publish(TOPIC, orjson.dumps(message))
        self._expire()

    async def close(self) -> None:
        """Shutdown: this node's users go offline here (other nodes may still serve them)."""
        for user_id in list(self._local):
            conns = self._local.pop(user_id)
            before = "online" if any(c.status == "online" for c in conns) else "away"
            at = self._clock.now()
            await self._touch_last_seen(user_id, at)
            await self._local_changed(user_id, before, at)

    # --- every node's messages ---------------------------------------------------------------

    def on_bus_message(self, message: dict[str, Any]) -> None:
        node = message.get("node")
        if not isinstance(node, str):
            return
        if message.get("type") == "presence.node":
            user_id = message.get("user_id")
            status = message.get("status")
            if isinstance(user_id, int) and status in RANK:
                at = _parse_time(message.get("at"))
                self._node_status(UserId(user_id), node, str(status), message, at)
        elif message.get("type") == "presence.refresh":
            for entry in message.get("users") or ():
                if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], int):
                    status = entry[1] if entry[1] in RANK else "offline"
                    work = {"work_status": entry[2]}
                    self._node_status(UserId(entry[0]), node, status, work, None)

    def on_profile_updated(self, user_id: UserId, text: str, work_status: str | None) -> None:
        """A user's profile changed: watchers get the ``profile.updated`` frame itself, and a
        ``presence`` frame when the work status changed."""
        seen = self._seen.get(user_id)
        if seen is None:
            return  # nobody here watches them (watching creates the entry)
        changed = work_status is not None and work_status != seen.work_status
        if changed:
            seen.work_status = work_status
        for conn in list(self._watchers.get(user_id, ())):
            if conn.user_id != user_id:  # their own sockets get it on their user topic
                conn.send_ephemeral(text)
        if changed:
            self._notify(user_id)

    def _node_status(
        self,
        user_id: UserId,
        node: str,
        status: str,
        extra: dict[str, Any],
        at: dt.datetime | None,
    ) -> None:
        seen = self._seen_of(user_id)
        before = (self.status_of(user_id), seen.work_status)
        if status == "offline":
            seen.nodes.pop(node, None)
        else:
            seen.nodes[node] = (status, self._clock.monotonic() + self._ttl)
        work = extra.get("work_status")
        if isinstance(work, str):
            seen.work_status = work
        after = self.status_of(user_id)
        if after == "offline" and before[0] != "offline":
            seen.last_seen_at = at or self._clock.now()
        if (after, seen.work_status) != before:
            self._notify(user_id)
        self._forget_if_unused(user_id)

    def _expire(self) -> None:
        now = self._clock.monotonic()
        for user_id, seen in list(self._seen.items()):
            stale = [n for n, (_, expires) in seen.nodes.items() if expires < now]
            if not stale:
                continue
            before = self.status_of(user_id)
            for node in stale:
                del seen.nodes[node]
            if self.status_of(user_id) != before:
                if not seen.nodes:
                    seen.last_seen_at = self._clock.now()
                self._notify(user_id)
            self._forget_if_unused(user_id)

    def status_of(self, user_id: UserId) -> str:
        seen = self._seen.get(user_id)
        if seen is None or not seen.nodes:
            return "offline"
        return max((s for s, _ in seen.nodes.values()), key=RANK.__getitem__)

    # --- watching ----------------------------------------------------------------------------

    async def watch(self, conn: Connection, user_ids: list[int], limit: int) -> None:
        """Replaces what ``conn`` watches, and sends the current presence of each."""
        wanted = frozenset(UserId(u) for u in user_ids[:limit])
        self.unwatch(conn)
        conn.watching = wanted
        for user_id in wanted:
            self._watchers.setdefault(user_id, set()).add(conn)
        unknown = {int(u) for u in wanted if u not in self._seen}
        if unknown:
            await self._load_profiles(unknown)
        if conn.closing or conn.watching is not wanted:
            return
        for user_id in sorted(wanted):
            conn.send_ephemeral(self.frame(user_id))

    def unwatch(self, conn: Connection) -> None:
        for user_id in conn.watching:
            watchers = self._watchers.get(user_id)
            if watchers is not None:
                watchers.discard(conn)
                if not watchers:
                    del self._watchers[user_id]
                    self._forget_if_unused(user_id)
        conn.watching = frozenset()

    def _forget_if_unused(self, user_id: UserId) -> None:
        """Drops what this node remembers of an offline user nobody here watches; a later watch
        reads it again from the profile (where last seen is kept)."""
        seen = self._seen.get(user_id)
        if (
            seen is not None
            and not seen.nodes
            and user_id not in self._watchers
            and user_id not in self._local
        ):
            del self._seen[user_id]

    def frame(self, user_id: UserId) -> str:
        seen = self._seen.get(user_id)
        status = self.status_of(user_id)
        last_seen = seen.last_seen_at if seen and status == "offline" else None
        return encode(
            {
                "type": "presence",
                "user_id": user_id,
                "status": status,
                "last_seen_at": last_seen.isoformat() if last_seen else None,
                "work_status": seen.work_status if seen else None,
            }
        )

    def _notify(self, user_id: UserId) -> None:
        watchers = self._watchers.get(user_id)
        if not watchers:
            return
        text = self.frame(user_id)
        for conn in list(watchers):
            conn.send_ephemeral(text)

    async def _load_profiles(self, user_ids: set[int]) -> None:
        try:
            profiles = await self._profiles.get_profiles(user_ids)
        except AppError:
            logger.warning("could not load profiles for presence; sending what is known")
            return
        for user_id, profile in profiles.items():
            if user_id not in self._watchers and user_id not in self._local:
                continue  # unwatched while the query ran
            seen = self._seen_of(user_id)
            seen.work_status = seen.work_status or profile.work_status
            seen.last_seen_at = seen.last_seen_at or profile.last_seen_at

    def _seen_of(self, user_id: UserId) -> Seen:
        seen = self._seen.get(user_id)
        if seen is None:
            seen = self._seen[user_id] = Seen(nodes={})
        return seen


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
