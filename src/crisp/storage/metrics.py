"""Prometheus self-metrics of the storage engine (crisp_storage_<name>_<unit>)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_FSYNC_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_PERSIST_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class StorageMetrics:
    """All engine metrics, on the given registry (a private one when none is given,
    so several engines in one process never clash on the global registry)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.points_written = Counter(
            "crisp_storage_points_written", "Points acknowledged by write()", registry=r
        )
        self.values_written = Counter(
            "crisp_storage_values_written", "Field values acknowledged by write()", registry=r
        )
        self.writes_refused = Counter(
            "crisp_storage_writes_refused", "Writes refused (type conflict, limit)",
            ["reason"], registry=r,
        )
        self.lines_rejected_after_ack = Counter(
            "crisp_storage_lines_rejected_after_ack",
            "Lines logged by write_lines that parsing or the catalog then refused "
            "(kept in the data directory's rejected/ folder)",
            registry=r,
        )
        self.unapplied_bytes = Gauge(
            "crisp_storage_unapplied_bytes",
            "Line-protocol bytes logged and acknowledged but not parsed yet",
            registry=r,
        )
        self.wal_bytes = Gauge(
            "crisp_storage_wal_bytes", "Bytes in live WAL segments", registry=r
        )
        self.wal_records = Counter(
            "crisp_storage_wal_records", "WAL records appended", registry=r
        )
        self.wal_fsyncs = Counter(
            "crisp_storage_wal_fsyncs", "fsync calls on WAL segments (group commits)", registry=r
        )
        self.wal_fsync_seconds = Histogram(
            "crisp_storage_wal_fsync_seconds", "Duration of one WAL fsync",
            buckets=_FSYNC_BUCKETS, registry=r,
        )
        self.buffer_rows = Gauge(
            "crisp_storage_buffer_rows", "Rows in the in-memory buffer", registry=r
        )
        self.files = Gauge("crisp_storage_files", "Live Parquet files", registry=r)
        self.file_bytes = Gauge(
            "crisp_storage_file_bytes", "Bytes in live Parquet files", registry=r
        )
        self.series = Gauge(
            "crisp_storage_series", "Series per measurement",
            ["database", "measurement"], registry=r,
        )
        self.persist_seconds = Histogram(
            "crisp_storage_persist_seconds", "Duration of one buffer flush to Parquet",
            buckets=_PERSIST_BUCKETS, registry=r,
        )
        self.compactions = Counter(
            "crisp_storage_compactions", "Shard groups compacted", registry=r
        )
        self.shard_groups_expired = Counter(
            "crisp_storage_shard_groups_expired", "Shard groups dropped by retention",
            registry=r,
        )

    def on_fsync(self, seconds: float) -> None:
        self.wal_fsyncs.inc()
        self.wal_fsync_seconds.observe(seconds)
