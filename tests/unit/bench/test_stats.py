"""Latency statistics and body splitting, on synthetic numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crisp.bench.bodies import field_values, split_bodies
from crisp.bench.loader import due_times
from crisp.bench.stats import nearest_rank, summarise, summarise_runs


def test_percentiles_are_nearest_rank_of_real_samples() -> None:
    # 1..100 ms: p50 is the 50th value, p95 the 95th, p99 the 99th.
    summary = summarise([i / 1000 for i in range(100, 0, -1)])
    assert summary.count == 100
    assert summary.p50_ms == pytest.approx(50)
    assert summary.p95_ms == pytest.approx(95)
    assert summary.p99_ms == pytest.approx(99)
    assert summary.max_ms == pytest.approx(100)
    assert summary.mean_ms == pytest.approx(50.5)


def test_a_rare_outlier_shows_in_p99_and_max_only() -> None:
    latencies = [0.002] * 995 + [0.5] * 5
    summary = summarise(latencies)
    assert summary.p50_ms == pytest.approx(2)
    assert summary.p99_ms == pytest.approx(2)
    assert summary.max_ms == pytest.approx(500)
    assert summarise([*latencies[5:], *[0.5] * 10]).p99_ms == pytest.approx(500)


def test_single_and_empty_samples() -> None:
    one = summarise([0.007])
    assert (one.p50_ms, one.p99_ms, one.max_ms) == pytest.approx((7, 7, 7))
    empty = summarise([])
    assert empty.count == 0
    assert math.isnan(empty.p50_ms)
    assert empty.as_dict()["p50_ms"] is None
    assert math.isnan(nearest_rank(np.array([], dtype=np.float64), 50))
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank(np.array([1.0]), 0)


def test_query_run_summary() -> None:
    runs = summarise_runs([0.003, 0.001, 0.010, 0.002, 0.004])
    assert (runs.median_ms, runs.min_ms, runs.max_ms) == pytest.approx((3, 1, 10))


def test_bodies_keep_every_line_once_and_count_values() -> None:
    lines = [f'm,host=h{i} a=1i,b=2.5,c="x" {i}' for i in range(11)]
    data = "\n".join(lines).encode()  # no final newline: still 11 lines
    bodies = split_bodies(data, 4)
    assert [b.lines for b in bodies] == [4, 4, 3]
    assert [b.values for b in bodies] == [12, 12, 9]
    assert b"".join(b.data for b in bodies).decode().splitlines() == lines
    assert field_values(b"cpu,a=1,b=2 x=1 5\ncpu y=2\n") == 2


def test_pacing_spreads_bodies_by_their_values() -> None:
    bodies = split_bodies(b"m a=1,b=2\n" * 6, 2)  # 4 values per body
    assert due_times(bodies, rate=4.0) == [0.0, 1.0, 2.0]
