"""The "api-latency" use case: request latencies and counts of a fleet of web services.

It is the shape of the design's seed example (``api_latency`` with ``duration_ms``,
``http_requests`` with ``count``): each host runs one service; every interval each of
its endpoints reports one latency (log-normal around the endpoint's median, with
rare slow outliers, as real latency tails look) and one request count. Status is a
tag, so error series come and go as they do in production.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.bench import line_format
from crisp.bench.dataset import DatasetSpec

LATENCY_MEASUREMENT = "api_latency"
REQUESTS_MEASUREMENT = "http_requests"
TAG_KEYS = ("service", "endpoint", "method", "status", "host")

# service → its endpoints (path, method, median latency ms, mean requests per interval)
SERVICES: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "checkout": (
        ("/pay", "POST", 120.0, 40.0),
        ("/cart", "GET", 15.0, 300.0),
        ("/cart/items", "POST", 25.0, 90.0),
        ("/orders", "GET", 45.0, 60.0),
    ),
    "catalog": (
        ("/products", "GET", 30.0, 800.0),
        ("/products/item", "GET", 12.0, 1500.0),
        ("/search", "GET", 80.0, 400.0),
        ("/categories", "GET", 8.0, 200.0),
    ),
    "users": (
        ("/login", "POST", 60.0, 50.0),
        ("/profile", "GET", 10.0, 250.0),
        ("/profile", "PUT", 35.0, 20.0),
        ("/sessions", "DELETE", 5.0, 30.0),
    ),
    "shipping": (
        ("/quotes", "POST", 95.0, 70.0),
        ("/shipments", "GET", 20.0, 110.0),
        ("/shipments", "POST", 70.0, 35.0),
        ("/tracking", "GET", 18.0, 260.0),
    ),
}
ENDPOINTS_PER_SERVICE = 4
STATUSES = ("200", "400", "404", "500", "503")
STATUS_WEIGHTS = (0.94, 0.02, 0.02, 0.015, 0.005)
# Spread of the log-normal body and the share and size of the slow tail.
LOG_SIGMA = 0.35
OUTLIER_SHARE = 0.01
OUTLIER_FACTOR = (5.0, 20.0)
CHUNK_LINES = 50_000


def host_services(spec: DatasetSpec) -> list[str]:
    rng = np.random.default_rng([spec.seed, 0])
    names = list(SERVICES)
    return [names[int(i)] for i in rng.integers(len(names), size=spec.hosts)]


def _key_parts(measurement: str, services: list[str]) -> tuple[pa.Array, pa.Array]:
    """Series key up to ``status=`` and after it, one per (host, endpoint)."""
    heads, tails = [], []
    for host, service in enumerate(services):
        for path, method, _, _ in SERVICES[service]:
            heads.append(f"{measurement},service={service},endpoint={path},method={method},status=")
            tails.append(f",host=host_{host}")
    return pa.array(heads, pa.string()), pa.array(tails, pa.string())


def _keys(head: pa.Array, status: pa.Array, tail: pa.Array, pair: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(head.take(pair), status, tail.take(pair), "")


def line_chunks(spec: DatasetSpec) -> Iterator[pa.Array]:
    """Per interval, per host, per endpoint: a latency line, then a request-count line."""
    services = host_services(spec)
    medians = np.array([e[2] for s in services for e in SERVICES[s]])
    rates = np.array([e[3] for s in services for e in SERVICES[s]])
    latency_head, latency_tail = _key_parts(LATENCY_MEASUREMENT, services)
    requests_head, requests_tail = _key_parts(REQUESTS_MEASUREMENT, services)
    statuses = pa.array(STATUSES, pa.string())
    pairs = len(medians)
    rng = np.random.default_rng([spec.seed, 1])
    steps_per_chunk = max(1, CHUNK_LINES // (2 * pairs))
    for first in range(0, spec.steps, steps_per_chunk):
        count = min(steps_per_chunk, spec.steps - first)
        rows = count * pairs
        pair = pa.array(np.tile(np.arange(pairs, dtype=np.int32), count))
        status = statuses.take(pa.array(rng.choice(len(STATUSES), size=rows, p=STATUS_WEIGHTS)))
        body = np.tile(medians, count) * np.exp(rng.normal(0.0, LOG_SIGMA, size=rows))
        slow = rng.random(rows) < OUTLIER_SHARE
        body[slow] *= rng.uniform(*OUTLIER_FACTOR, size=int(slow.sum()))
        duration = np.round(body, 3)
        requests = rng.poisson(np.tile(rates, count)).astype(np.int64)
        steps = first + np.arange(count, dtype=np.int64)
        times = pa.array(np.repeat(spec.start_ns + steps * spec.interval_ns, pairs))
        latency = line_format.lines(
            _keys(latency_head, status, latency_tail, pair),
            [line_format.float_field("duration_ms", duration)],
            times,
        )
        counts = line_format.lines(
            _keys(requests_head, status, requests_tail, pair),
            [line_format.integer_field("count", requests)],
            times,
        )
        # Interleave so each request count follows the latency of the same request set.
        order = np.stack([np.arange(rows), np.arange(rows) + rows], axis=1).ravel()
        yield pa.concat_arrays([latency, counts]).take(pa.array(order))
