"""Prometheus metrics. One ``Metrics`` object per app (its own registry; nothing global), exposed
in the classic text format at ``/metrics`` (``promtool check metrics`` passes on it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
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
        # Background jobs (docs/jobs.md). The gauges describe the shared outbox, so every runner
        # reports the same values: aggregate them with max(), not sum().
        self.jobs_queue_depth = Gauge(
            "sodam_jobs_queue_depth",
            "Background jobs waiting to run (due or not), by kind.",
            ["kind"],
            registry=r,
        )
        self.jobs_oldest_age = Gauge(
            "sodam_jobs_oldest_age_seconds",
            "How long the longest-waiting due job has been due (0 when none is).",
            registry=r,
        )
        self.jobs_running = Gauge(
            "sodam_jobs_running", "Background jobs claimed by a runner right now.", registry=r
        )
        self.jobs_dead_letters = Gauge(
            "sodam_jobs_dead_letters",
            "Jobs in the dead letter state, waiting for an administrator.",
            registry=r,
        )
        self.jobs_completed = Counter(
            "sodam_jobs_completed_total",
            "Jobs this process completed, by kind.",
            ["kind"],
            registry=r,
        )
        self.jobs_failures = Counter(
            "sodam_jobs_failures_total",
            "Failed job attempts in this process (each retry and each death), by kind.",
            ["kind"],
            registry=r,
        )
        self.jobs_dead = Counter(
            "sodam_jobs_dead_total",
            "Jobs this process moved to dead, by kind.",
            ["kind"],
            registry=r,
        )
        self.jobs_duration = Histogram(
            "sodam_jobs_duration_seconds",
            "How long job handlers ran, by kind (every outcome).",
            ["kind"],
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.upload_bodies_active = Gauge(
            "sodam_upload_bodies_active",
            "Upload request bodies this node is reading (each holds an upload slot).",
            registry=r,
        )
        self.upload_bodies_waiting = Gauge(
            "sodam_upload_bodies_waiting",
            "Upload request bodies waiting for an upload slot on this node.",
            registry=r,
        )
        self.upload_requests_waiting = Gauge(
            "sodam_upload_requests_waiting",
            "Requests to the upload endpoints waiting for a place on this node.",
            registry=r,
        )
        self.build_info = Gauge("sodam_build_info", "Build information.", ["version"], registry=r)

    def counter_from(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Exposes ``read()`` as the counter ``<name>_total``."""
        self.registry.register(FunctionCounter(name, documentation, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def serve_metrics(metrics: Metrics, host: str, port: int) -> Callable[[], None]:
    """Serves ``/metrics`` on ``host:port`` from a background thread (``sodam worker``, which has
    no HTTP app); returns the function that stops it."""
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
