"""Limits that protect a shared server from one expensive query."""

from __future__ import annotations

from dataclasses import dataclass

RAW_WITHOUT_LOWER_BOUND = (
    "raw (non-aggregated) SELECT needs a lower time bound: add `WHERE time > now() - 1h` "
    "(or ask the operator to disable the require_time_bound guard)"
)


@dataclass(frozen=True)
class QueryGuards:
    """Per-statement limits; 0 disables a numeric limit.

    InfluxDB allows unbounded raw SELECTs; Crisp refuses them by default because one such
    query over a large measurement reads everything.
    """

    require_time_bound: bool = True
    max_series: int = 100_000
    max_points: int = 5_000_000
    max_buckets: int = 100_000
    timeout_seconds: float = 60.0
