"""Latency statistics, computed one way for every target so figures are comparable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

PERCENTILES = (50.0, 95.0, 99.0)


def nearest_rank(sorted_values: npt.NDArray[np.float64], percentile: float) -> float:
    """The smallest value with at least ``percentile``% of values at or below it.

    Nearest rank rather than interpolation: every reported latency is one that a
    request really had, as HdrHistogram and most load tools report.
    """
    if len(sorted_values) == 0:
        return math.nan
    if not 0.0 < percentile <= 100.0:
        raise ValueError("percentile must be in (0, 100]")
    rank = math.ceil(percentile / 100.0 * len(sorted_values))
    return float(sorted_values[rank - 1])


@dataclass(frozen=True)
class LatencySummary:
    """Milliseconds; NaN when there was no request."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    def as_dict(self) -> dict[str, float | None]:
        return {key: json_number(value) for key, value in asdict(self).items()}


def json_number(value: float) -> float | None:
    """JSON has no NaN: an empty statistic becomes null."""
    return None if math.isnan(value) else value


def summarise(latencies_s: Sequence[float] | npt.NDArray[np.float64]) -> LatencySummary:
    values = np.sort(np.asarray(latencies_s, dtype=np.float64)) * 1000.0
    if len(values) == 0:
        return LatencySummary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    p50, p95, p99 = (nearest_rank(values, p) for p in PERCENTILES)
    return LatencySummary(len(values), p50, p95, p99, float(values[-1]), float(values.mean()))


@dataclass(frozen=True)
class TimingSummary:
    """Per query: repeated wall times in milliseconds."""

    runs: int
    median_ms: float
    min_ms: float
    max_ms: float


def summarise_runs(durations_s: Sequence[float]) -> TimingSummary:
    if not durations_s:
        return TimingSummary(0, math.nan, math.nan, math.nan)
    ms = np.asarray(durations_s, dtype=np.float64) * 1000.0
    return TimingSummary(len(ms), float(np.median(ms)), float(ms.min()), float(ms.max()))
