"""The alert file ``crisp bench alerts`` imports: N rules over the api-latency data.

A mix as a team writes them: structured and raw InfluxQL rules on latency percentiles,
means and maxima, over windows of 1–10 min, filtered by service, endpoint, method or
status, grouped by service (and method or endpoint), so every rule has several
instances. Most rules have a query of their own; as teams do, some run one query with
a ladder of thresholds: of every five rules, three (info, warning, critical) share a
query and two have their own, so N rules run 3N/5 distinct queries (while N stays
under the ~3,300 distinct combinations, then they repeat). A small share of rules
(``firing_share``) has a threshold the data always crosses, so they go pending, fire
and notify; the others stay normal. The document goes through the same parser and
import as ``crisp alerts import``.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from crisp.bench.api_latency import LATENCY_MEASUREMENT, SERVICES

SINK_CHANNEL = "bench-sink"
DATABASE = "metrics"
# Far above any percentile or mean of the generated latencies (slow outliers are ~1% of
# points); maxima get their own, above the slowest outlier.
_NORMAL_THRESHOLDS_MS = (1500, 2000, 3000, 5000)
_MAX_THRESHOLDS_MS = (20000, 30000, 50000)
# Below every latency the generator produces: such a rule fires for each of its series.
_FIRING_THRESHOLD_MS = 1
_AGGREGATES = ("p50", "p75", "p90", "p95", "p99", "mean", "max", "median")
_WINDOWS = ("1m", "2m", "3m", "5m", "10m")
_GROUP_BYS = (("service",), ("service", "method"), ("service", "endpoint"))
_DURATIONS = ("0s", "30s", "1m", "2m")
_LADDER = ("info", "warning", "critical")
_RULES_PER_BLOCK = 5  # three on one query (the ladder), two on their own
_QUERIES_PER_BLOCK = 3


def _filters() -> list[dict[str, str] | None]:
    """Where clauses of the mix; each always matches data (no series comes and goes)."""
    services = list(SERVICES)
    endpoints = sorted({path for eps in SERVICES.values() for path, _, _, _ in eps})
    methods = sorted({method for eps in SERVICES.values() for _, method, _, _ in eps})
    return [
        None,
        *({"service": s} for s in services),
        *({"endpoint": e} for e in endpoints),
        *({"method": m} for m in methods),
        {"status": "200"},
        *({"service": s, "status": "200"} for s in services),
    ]


Query = tuple[str, str, tuple[str, ...], dict[str, str] | None]
"""(aggregate, window, group by, where) of one distinct query."""


def query_combinations(seed: int) -> list[Query]:
    combos: list[Query] = [
        (aggregate, window, group_by, where)
        for aggregate, window, group_by, where in itertools.product(
            _AGGREGATES, _WINDOWS, _GROUP_BYS, _filters()
        )
    ]
    random.Random(seed).shuffle(combos)  # noqa: S311  # a mix, not secrets
    return combos


def _structured(query: Query) -> dict[str, Any]:
    aggregate, window, group_by, where = query
    spec: dict[str, Any] = {
        "measurement": LATENCY_MEASUREMENT,
        "field": "duration_ms",
        "aggregate": aggregate,
        "group_by": list(group_by),
        "window": window,
    }
    if where:
        spec["where"] = dict(where)
    return spec


def _raw(query: Query) -> str:
    aggregate, window, group_by, where = query
    if aggregate.startswith("p"):
        call = f"percentile(duration_ms, {aggregate[1:]})"
    else:
        call = f"{aggregate}(duration_ms)"
    conditions = [f"{tag} = '{value}'" for tag, value in (where or {}).items()]
    conditions.append(f"time > now() - {window}")
    return (
        f"SELECT {call} FROM {LATENCY_MEASUREMENT} WHERE {' AND '.join(conditions)} "
        f"GROUP BY {', '.join(group_by)}"
    )


def query_index(index: int) -> int:
    """Which distinct query rule ``index`` runs: 0, 0, 0, 1, 2, 3, 3, 3, 4, 5, …"""
    block, position = divmod(index, _RULES_PER_BLOCK)
    return block * _QUERIES_PER_BLOCK + max(0, position - len(_LADDER) + 1)


def rule_spec(
    index: int, interval: str, firing: bool, rng: random.Random, combos: list[Query]
) -> dict[str, Any]:
    """Rule ``index`` of the mix: one in four distinct queries is written as raw InfluxQL."""
    number = query_index(index)
    query = combos[number % len(combos)]
    position = index % _RULES_PER_BLOCK
    ladder = position < len(_LADDER)
    severity = _LADDER[position] if ladder else ("critical" if index % 5 == 4 else "warning")
    base = rng.choice(_MAX_THRESHOLDS_MS if query[0] == "max" else _NORMAL_THRESHOLDS_MS)
    threshold = base * (1 + position) if ladder else base
    spec: dict[str, Any] = {
        "name": f"bench_rule_{index:05d}",
        "severity": severity,
        "threshold": _FIRING_THRESHOLD_MS if firing else threshold,
        "duration": "0s" if firing and index % 2 else _DURATIONS[index % len(_DURATIONS)],
        "interval": interval,
        "database": DATABASE,
        "notify": SINK_CHANNEL,
        "labels": {"team": f"team-{index % 7}"},
        "annotations": {"summary": "{{ labels.service }} latency is {{ value }} ms"},
    }
    spec["query"] = _raw(query) if number % 4 == 3 else _structured(query)
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
    combos = query_combinations(seed)
    specs = [
        rule_spec(i, interval, int((i + 1) * firing_share) > int(i * firing_share), rng, combos)
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
