"""Self-metrics of the collector, ``crisp_collector_*`` in the process's registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_SIZE_BUCKETS = (1, 10, 100, 500, 1000, 2500, 5000, 10_000, 50_000, 100_000)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30)


@dataclass
class CollectorMetrics:
    registry: CollectorRegistry
    requests: Counter = field(init=False)
    request_seconds: Histogram = field(init=False)
    points_accepted: Counter = field(init=False)
    points_rejected: Counter = field(init=False)
    bytes_received: Counter = field(init=False)
    spool_full: Counter = field(init=False)
    spool_bytes: Gauge = field(init=False)
    spool_fsync_seconds: Histogram = field(init=False)
    batch_points: Histogram = field(init=False)
    flush_seconds: Histogram = field(init=False)
    points_delivered: Counter = field(init=False)
    points_unencodable: Counter = field(init=False)
    sink_retries: Counter = field(init=False)
    dead_letter_batches: Counter = field(init=False)
    dead_letter_points: Counter = field(init=False)
    udp_dropped: Counter = field(init=False)
    series_refused: Counter = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "crisp_collector_requests_total",
            "Requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "crisp_collector_request_seconds",
            "Time from request to answer (includes the spool fsync), by endpoint.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.points_accepted = Counter(
            "crisp_collector_points_accepted_total",
            "Points spooled and acknowledged, by protocol.",
            ["protocol"],
            registry=r,
        )
        self.points_rejected = Counter(
            "crisp_collector_points_rejected_total",
            "Lines or items rejected as malformed, by protocol.",
            ["protocol"],
            registry=r,
        )
        self.bytes_received = Counter(
            "crisp_collector_bytes_received_total",
            "Request body bytes received (after gzip decoding), by protocol.",
            ["protocol"],
            registry=r,
        )
        self.spool_full = Counter(
            "crisp_collector_spool_full_total",
            "Requests refused with 429 because the spool reached CRISP_SPOOL_MAX_BYTES.",
            registry=r,
        )
        self.spool_bytes = Gauge(
            "crisp_collector_spool_bytes",
            "Spooled bytes not yet delivered to the sink.",
            registry=r,
        )
        self.spool_fsync_seconds = Histogram(
            "crisp_collector_spool_fsync_seconds",
            "Duration of one spool fsync (one group commit).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_points = Histogram(
            "crisp_collector_batch_points",
            "Points per batch written to the sink.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.flush_seconds = Histogram(
            "crisp_collector_flush_seconds",
            "Duration of one successful batch write to the sink.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.points_delivered = Counter(
            "crisp_collector_points_delivered_total",
            "Points the sink acknowledged.",
            registry=r,
        )
        self.points_unencodable = Counter(
            "crisp_collector_points_unencodable_total",
            "Points left out because line protocol cannot carry them (only NaN/Inf values).",
            registry=r,
        )
        self.sink_retries = Counter(
            "crisp_collector_sink_retries_total",
            "Batch writes retried after a 5xx, timeout or network error.",
            registry=r,
        )
        self.dead_letter_batches = Counter(
            "crisp_collector_dead_letter_batches_total",
            "Batches the sink refused with a 4xx, written to the dead-letter directory.",
            registry=r,
        )
        self.dead_letter_points = Counter(
            "crisp_collector_dead_letter_points_total",
            "Points in dead-lettered batches.",
            registry=r,
        )
        self.udp_dropped = Counter(
            "crisp_collector_udp_dropped_datagrams_total",
            "UDP datagrams dropped unspooled, by reason (backlog, spool_full, spool_error, error).",
            ["reason"],
            registry=r,
        )
        self.series_refused = Counter(
            "crisp_collector_series_refused_points_total",
            "Points of new series refused by the cardinality guard, by the limit that "
            "refused them (measurement or database).",
            ["limit"],
            registry=r,
        )
        self.aggregation_points = Counter(
            "crisp_collector_aggregation_points_total",
            "Points that pre-aggregation rules covered, by outcome: folded into a window, "
            "or passed through unaggregated (later or earlier than max_lateness, or a "
            "field type clashing with its window's).",
            ["outcome"],
            registry=r,
        )
