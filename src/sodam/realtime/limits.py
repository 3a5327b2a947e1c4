"""The gateway's timings and limits (docs/protocol.md documents every value).

``GatewayLimits.from_settings`` reads the ``realtime`` group of ``Settings`` when it exists (same
field names); until then the defaults below apply. Tests pass their own ``GatewayLimits``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sodam.config import Settings


@dataclass(frozen=True, slots=True)
class GatewayLimits:
    # Handshake and liveness.
    auth_timeout_s: float = 5.0
    heartbeat_s: float = 20.0  # the client pings this often; 2x silence closes the socket
    session_check_s: float = 60.0  # re-checks the session (logout from another process, expiry)
    # Frames.
    frame_max_bytes: int = 128 * 1024
    # Outgoing queue per connection.
    queue_max_frames: int = 2000
    queue_max_bytes: int = 8 * 1024 * 1024
    ephemeral_max_frames: int = 500  # ephemeral frames are dropped once this many are queued
    pending_max_frames: int = 1000  # live events held until the client's resume is done
    # Resume and gap filling.
    resume_page_size: int = 200
    resume_max_events: int = 1000  # a room further behind gets resync_required
    gap_fill_max_events: int = 1000
    heads_check_s: float = 5.0  # compare rooms' positions with the database (lost last events)
    # Rate limits (token buckets): every frame of a connection; sends of a user on this node.
    frames_per_s: float = 20.0
    frames_burst: int = 60
    sends_per_s: float = 5.0
    sends_burst: int = 30
    max_connections_per_user: int = 10
    # Ephemeral state.
    typing_interval_s: float = 3.0
    read_coalesce_s: float = 0.25
    presence_refresh_s: float = 30.0
    presence_watch_max: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayLimits:
        group: Any = getattr(settings, "realtime", None)
        if group is None:
            return cls()
        names = {f.name for f in dataclasses.fields(cls)}
        values = {name: getattr(group, name) for name in names if hasattr(group, name)}
        return cls(**values)

    @property
    def idle_timeout_s(self) -> float:
        return 2 * self.heartbeat_s

    @property
    def presence_ttl_s(self) -> float:
        return 3 * self.presence_refresh_s
