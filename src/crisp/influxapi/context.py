"""What the handlers are given: storage, clock, limits, metrics — injected, never global."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from crisp.core.settings import WriteAck
from crisp.query.guards import QueryGuards
from crisp.storage.api import Storage


def wall_clock_ns() -> int:
    return time.time_ns()


@dataclass
class APIMetrics:
    """Self-metrics of the HTTP API, ``crisp_http_*`` in the process's registry."""

    registry: CollectorRegistry
    requests: Counter = field(init=False)
    request_seconds: Histogram = field(init=False)
    lines_rejected: Counter = field(init=False)
    columnar_rejected: Counter = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "crisp_http_requests_total",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "crisp_http_request_seconds",
            "Time from request to response, by endpoint.",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.lines_rejected = Counter(
            "crisp_http_lines_rejected_total",
            "Line-protocol lines rejected as malformed.",
            registry=self.registry,
        )
        self.columnar_rejected = Counter(
            "crisp_http_columnar_bodies_rejected_total",
            "Columnar (Arrow IPC) write bodies refused whole as malformed.",
            registry=self.registry,
        )


@dataclass
class APIContext:
    storage: Storage
    registry: CollectorRegistry
    admin_token: str = ""
    max_body_size: int = 25_000_000
    write_ack: WriteAck = "parsed"
    clock_ns: Callable[[], int] = wall_clock_ns
    query_guards: QueryGuards = field(default_factory=QueryGuards)
    metrics: APIMetrics = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = APIMetrics(self.registry)
