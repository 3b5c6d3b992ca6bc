"""Time each query of a set, ``runs`` times, against one target over HTTP.

Queries run one at a time on one connection: this measures a query's latency, not
the server's concurrency. A query that errors is reported with its error, not timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from crisp.bench.queryset import BenchQuery, PromQuery
from crisp.bench.stats import TimingSummary, json_number, summarise_runs

REQUEST_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class QueryTiming:
    name: str
    description: str
    timing: TimingSummary
    error: str | None = None  # first error; then the query is not run again
    skipped: str | None = None  # why the target has no form of this query
    points: int | None = None  # rows answered, to see that targets did the same work

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "runs": self.timing.runs,
            "median_ms": json_number(self.timing.median_ms),
            "min_ms": json_number(self.timing.min_ms),
            "max_ms": json_number(self.timing.max_ms),
            "points": self.points,
            "error": self.error,
            "skipped": self.skipped,
        }


Answer = tuple[str | None, int]  # (error, points)


def influxql_request(client: httpx.Client, db: str, text: str) -> Answer:
    """Runs one InfluxQL query; returns its error, if any, and the rows answered."""
    response = client.post("/query", data={"db": db, "q": text})
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}", 0
    points = 0
    for result in response.json().get("results", []):
        if "error" in result:
            return str(result["error"]), 0
        points += sum(len(series.get("values", [])) for series in result.get("series", []))
    return None, points


def promql_request(client: httpx.Client, query: PromQuery) -> Answer:
    if query.time is not None:
        response = client.get("/api/v1/query", params={"query": query.query, "time": query.time})
    else:
        params = {"query": query.query, "start": query.start, "end": query.end, "step": query.step}
        response = client.get("/api/v1/query_range", params=params)
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}", 0
    body = response.json()
    if body.get("status") != "success":
        return str(body.get("error", body))[:200], 0
    series = body.get("data", {}).get("result", [])
    return None, sum(len(s.get("values", [])) or int("value" in s) for s in series)


def run_queries(
    url: str,
    target: str,
    db: str,
    queries: Sequence[BenchQuery],
    runs: int,
    on_query: Callable[[QueryTiming], None] | None = None,
) -> list[QueryTiming]:
    if runs < 1:
        raise ValueError("runs must be at least 1")
    timings = []
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for query in queries:
            timing = _time_query(client, target, db, query, runs)
            if on_query is not None:
                on_query(timing)
            timings.append(timing)
    return timings


def _time_query(
    client: httpx.Client, target: str, db: str, query: BenchQuery, runs: int
) -> QueryTiming:
    form = query.for_target(target)
    if form is None:
        return QueryTiming(
            query.name, query.description, summarise_runs([]), skipped=f"no query for {target}"
        )
    durations: list[float] = []
    points = 0
    for _ in range(runs):
        started = time.perf_counter()
        try:
            if isinstance(form, PromQuery):
                error, points = promql_request(client, form)
            else:
                error, points = influxql_request(client, db, form)
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        elapsed = time.perf_counter() - started
        if error is not None:
            return QueryTiming(query.name, query.description, summarise_runs(durations), error)
        durations.append(elapsed)
    return QueryTiming(query.name, query.description, summarise_runs(durations), points=points)
