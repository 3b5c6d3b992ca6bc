"""Self-metrics of ``crisp consume``, ``crisp_consume_*`` in the process's registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30)


@dataclass
class ConsumeMetrics:
    registry: CollectorRegistry
    messages: Counter = field(init=False)
    points_written: Counter = field(init=False)
    write_seconds: Histogram = field(init=False)
    pending: Gauge = field(init=False)
    connected: Gauge = field(init=False)
    # For the HTTP endpoint's own wrapper (crisp.influxapi.endpoint.instrumented).
    requests: Counter = field(init=False)
    request_seconds: Histogram = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages = Counter(
            "crisp_consume_messages_total",
            "Messages handled, by outcome: acked (in storage), naked (storage unavailable, "
            "redelivered later), dead_lettered (refused by storage or undecodable).",
            ["outcome"],
            registry=r,
        )
        self.points_written = Counter(
            "crisp_consume_points_written_total",
            "Points storage acknowledged.",
            registry=r,
        )
        self.write_seconds = Histogram(
            "crisp_consume_write_seconds",
            "Duration of one successful storage write (one message).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.pending = Gauge(
            "crisp_consume_pending_messages",
            "Messages in the stream not yet delivered to this durable consumer (the lag), "
            "as last read from JetStream.",
            registry=r,
        )
        self.connected = Gauge(
            "crisp_consume_connected",
            "1 while connected to NATS and subscribed, else 0.",
            registry=r,
        )
        self.requests = Counter(
            "crisp_consume_requests_total",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "crisp_consume_request_seconds",
            "Time from HTTP request to answer, by endpoint.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
