"""Shard-group arithmetic and retention decisions (InfluxDB 1.x rules)."""

from __future__ import annotations

HOUR_NS = 3600 * 1_000_000_000
DAY_NS = 24 * HOUR_NS
WEEK_NS = 7 * DAY_NS
# InfluxDB counts "6 months" as 180 days when choosing shard group durations.
SIX_MONTHS_NS = 180 * DAY_NS


def default_shard_group_duration(duration_ns: int) -> int:
    """InfluxDB's default: <2d → 1h, ≤6mo → 1d, else (and infinite) → 7d."""
    if duration_ns == 0:
        return WEEK_NS
    if duration_ns < 2 * DAY_NS:
        return HOUR_NS
    if duration_ns <= SIX_MONTHS_NS:
        return DAY_NS
    return WEEK_NS


def shard_group_start(time_ns: int, shard_group_duration_ns: int) -> int:
    # Floor division so pre-1970 timestamps land in the window that contains them.
    return (time_ns // shard_group_duration_ns) * shard_group_duration_ns


def is_expired(shard_group_end_ns: int, duration_ns: int, now_ns: int) -> bool:
    """A shard group is dropped whole once its end is older than now - duration."""
    if duration_ns == 0:
        return False
    return shard_group_end_ns <= now_ns - duration_ns
