"""The alert file ``crisp bench alerts`` imports: N rules over the api-latency data.

A realistic mix, as a team writes them: structured p95 and mean rules and raw InfluxQL,
each grouped by service (so every rule has several instances), over different windows,
filters and thresholds. A small share of rules (``firing_share``) has a threshold the
data always crosses, so they go pending, fire and notify; the others stay normal. The
document goes through the same parser and import as ``crisp alerts import``.
"""

from __future__ import annotations

import random
from typing import Any

from crisp.bench.api_latency import LATENCY_MEASUREMENT, SERVICES

SINK_CHANNEL = "bench-sink"
DATABASE = "metrics"
# Far above any p95 or mean of the generated latencies (slow outliers are ~1% of points).
_NORMAL_THRESHOLDS_MS = (1500, 2000, 3000, 5000)
# Below every latency the generator produces: such a rule fires for each of its series.
_FIRING_THRESHOLD_MS = 1
_WINDOWS = ("1m", "2m", "5m")
_DURATIONS = ("0s", "30s", "1m", "2m")


def _structured(index: int, aggregate: str, window: str) -> dict[str, Any]:
    services = list(SERVICES)
    spec: dict[str, Any] = {
        "measurement": LATENCY_MEASUREMENT,
        "field": "duration_ms",
        "aggregate": aggregate,
        "group_by": ["service"],
        "window": window,
    }
    if index % 3 == 0:
        # A rule watching a subset of services: fewer instances, a narrower scan.
        spec["where"] = {"service": services[: 2 + index % 3]}
    return spec


def _raw(index: int, window: str) -> str:
    if index % 2:
        return (
            f"SELECT percentile(duration_ms, 99) FROM {LATENCY_MEASUREMENT} "
            f"WHERE time > now() - {window} AND status = '200' GROUP BY service"
        )
    return (
        f"SELECT max(duration_ms) FROM {LATENCY_MEASUREMENT} "
        f"WHERE time > now() - {window} GROUP BY service, method"
    )


def rule_spec(index: int, interval: str, firing: bool, rng: random.Random) -> dict[str, Any]:
    """Rule ``index`` of the mix: kinds rotate p95, mean (structured), raw p99, raw max."""
    kind = index % 4
    window = _WINDOWS[index % len(_WINDOWS)]
    spec: dict[str, Any] = {
        "name": f"bench_rule_{index:05d}",
        "severity": "critical" if index % 5 == 0 else "warning",
        "threshold": _FIRING_THRESHOLD_MS if firing else rng.choice(_NORMAL_THRESHOLDS_MS),
        "duration": "0s" if firing and index % 2 else _DURATIONS[index % len(_DURATIONS)],
        "interval": interval,
        "database": DATABASE,
        "notify": SINK_CHANNEL,
        "labels": {"team": f"team-{index % 7}"},
        "annotations": {"summary": "{{ labels.service }} latency is {{ value }} ms"},
    }
    if kind == 0:
        spec["query"] = _structured(index, "p95", window)
    elif kind == 1:
        spec["query"] = _structured(index, "mean", window)
    else:
        spec["query"] = _raw(index, window)
    return spec


def alert_document(
    rules: int, interval: str, firing_share: float, sink_url: str, seed: int = 1
) -> dict[str, Any]:
    """The whole alert file: one webhook channel (the sink), ``rules`` rules, one route."""
    if rules < 1:
        raise ValueError("--rules must be at least 1")
    if not 0.0 <= firing_share <= 1.0:
        raise ValueError("--firing must be between 0 and 1")
    rng = random.Random(seed)  # noqa: S311  # thresholds, not secrets
    # Evenly spread firing rules: rule i fires when it crosses a multiple of 1/share.
    specs = [
        rule_spec(i, interval, int((i + 1) * firing_share) > int(i * firing_share), rng)
        for i in range(rules)
    ]
    return {
        "channels": [{"name": SINK_CHANNEL, "type": "webhook", "url": sink_url}],
        "alert_rules": specs,
        "routes": [
            {
                "group_by": ["alertname", "service"],
                "group_wait": "10s",
                "group_interval": "1m",
                "repeat_interval": "4h",
            }
        ],
    }


def firing_rules(document: dict[str, Any]) -> int:
    return sum(1 for r in document["alert_rules"] if r["threshold"] == _FIRING_THRESHOLD_MS)
