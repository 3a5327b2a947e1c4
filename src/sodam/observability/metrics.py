"""Prometheus metrics. One ``Metrics`` object per app (its own registry; nothing global), exposed
in the classic text format at ``/metrics`` (``promtool check metrics`` passes on it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class FunctionCounter(Collector):
    """A counter whose value is read from the code that counts (a plain int) at scrape time, so
    a hot path never takes the client library's lock."""

    def __init__(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self._name = name
        self._documentation = documentation
        self._read = read

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(self._name, self._documentation, value=self._read())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "sodam_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "sodam_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route", "method"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.logins = Counter(
            "sodam_logins_total", "Login attempts by outcome.", ["outcome"], registry=r
        )
        self.ws_connections = Gauge(
            "sodam_websocket_connections", "Open WebSocket connections on this node.", registry=r
        )
        self.messages_sent = Counter(
            "sodam_messages_sent_total", "Messages stored (acknowledged sends).", registry=r
        )
        self.events_delivered = Counter(
            "sodam_ws_events_delivered_total",
            "Events written to WebSocket connections.",
            registry=r,
        )
        self.ws_queued_frames = Gauge(
            "sodam_ws_queued_frames",
            "Frames waiting in this node's WebSocket outgoing queues.",
            registry=r,
        )
        self.ws_rooms_tracked = Gauge(
            "sodam_ws_rooms_tracked",
            "Rooms with local members whose events this node orders and delivers.",
            registry=r,
        )
        self.ws_tasks = Gauge(
            "sodam_ws_background_tasks",
            "Background tasks of the WebSocket gateway (replays, gap fills, presence writes).",
            registry=r,
        )
        self.ws_dropped = Counter(
            "sodam_ws_events_dropped_total",
            "Ephemeral events dropped for slow consumers.",
            registry=r,
        )
        self.outbox_depth = Gauge(
            "sodam_outbox_pending_jobs", "Background jobs waiting to run.", registry=r
        )
        self.build_info = Gauge("sodam_build_info", "Build information.", ["version"], registry=r)

    def counter_from(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Exposes ``read()`` as the counter ``<name>_total``."""
        self.registry.register(FunctionCounter(name, documentation, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
