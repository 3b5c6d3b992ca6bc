"""Demo data (CRISP_DEMO_DATA=1 with ``crisp serve``): a small shop of services whose
latency and request counts are written into the embedded engine, so the console
shows something real within a minute of ``make run``.

At start an hour of history is written (unless the measurement already holds data,
e.g. after a restart); then a point set every 10 s. The shape is the benchmark's
api-latency use case (:mod:`crisp.bench.api_latency`: services, endpoints, median
latencies, request rates, status mix), scaled down to one latency point per request
at about 1/100 of its rates, two hosts per service, plus an ``http_requests`` point per
series and tick (``count``: the tick's requests, which the services pages sum, as
CRISP_REQUEST_COUNTER; ``total``: the running total, for Explore's rate of a counter)
and a recurring incident (shipping ``/quotes`` answers 503 for three minutes in every
twenty) so error rates have something to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from crisp.bench.api_latency import SERVICES, STATUS_WEIGHTS, STATUSES
from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
from crisp.storage.api import Storage

log = logging.getLogger(__name__)

SECOND_NS = 10**9
TICK_NS = 10 * SECOND_NS
HISTORY_NS = 3600 * SECOND_NS
RATE_SCALE = 100
HOSTS_PER_SERVICE = 2
REQUESTS_MEASUREMENT = "http_requests"
REQUESTS_FIELD = "count"
REQUESTS_TOTAL_FIELD = "total"
INCIDENT = ("shipping", "/quotes")
INCIDENT_PERIOD_NS = 20 * 60 * SECOND_NS
INCIDENT_LENGTH_NS = 3 * 60 * SECOND_NS
LOG_SIGMA = 0.35


@dataclass(frozen=True)
class DemoNames:
    """Where the points go; the latency names follow the console's settings."""

    database: str = "metrics"
    measurement: str = "api_latency"
    field: str = "duration_ms"
    service_tag: str = "service"


@dataclass(frozen=True)
class _Route:
    service: str
    host: str
    endpoint: str
    method: str
    median_ms: float
    per_tick: float


def _routes() -> list[_Route]:
    return [
        _Route(service, f"{service}-{n}", path, method, median, max(rate / RATE_SCALE, 0.5))
        for service, endpoints in SERVICES.items()
        for n in range(1, HOSTS_PER_SERVICE + 1)
        for path, method, median, rate in endpoints
    ]


def _in_incident(route: _Route, t_ns: int) -> bool:
    return (route.service, route.endpoint) == INCIDENT and t_ns % INCIDENT_PERIOD_NS < (
        INCIDENT_LENGTH_NS
    )


class DemoGenerator:
    """Points for consecutive 10 s ticks; deterministic for a seed."""

    def __init__(self, names: DemoNames, seed: int = 7) -> None:
        self.names = names
        self._rng = random.Random(seed)  # noqa: S311  # demo data, not secrets
        self._routes = _routes()
        self._counters: dict[tuple[_Route, str], int] = {}

    def _requests(self, mean: float) -> int:
        # Normal approximation of a Poisson count: cheap, and never negative here.
        return max(0, round(self._rng.gauss(mean, math.sqrt(mean))))

    def _latency(self, route: _Route, t_ns: int) -> float:
        # A slow daily-ish wave (20 min period) so p95 lines are not flat.
        wave = 1 + 0.25 * math.sin(2 * math.pi * (t_ns % (1200 * SECOND_NS)) / (1200 * SECOND_NS))
        value = route.median_ms * wave * math.exp(self._rng.gauss(0.0, LOG_SIGMA))
        if self._rng.random() < 0.01:
            value *= self._rng.uniform(5.0, 20.0)
        return round(value, 3)

    def ticks(self, start_ns: int, end_ns: int) -> PointBatch:
        """Points of every whole tick in ``[start_ns, end_ns)`` (start aligned down)."""
        rows: dict[str, list[object]] = {
            k: [] for k in ("time", "endpoint", "host", "method", "service", "status", "value")
        }
        counters: dict[str, list[object]] = {k: [] for k in (*rows, "total")}
        tick = start_ns - start_ns % TICK_NS
        while tick + TICK_NS <= end_ns:
            in_tick: dict[tuple[_Route, str], int] = {}
            for route in self._routes:
                for _ in range(self._requests(route.per_tick)):
                    t = tick + self._rng.randrange(TICK_NS)
                    if _in_incident(route, t) and self._rng.random() < 0.6:
                        status = "503"
                    else:
                        status = self._rng.choices(STATUSES, STATUS_WEIGHTS)[0]
                    self._counters[(route, status)] = self._counters.get((route, status), 0) + 1
                    in_tick[(route, status)] = in_tick.get((route, status), 0) + 1
                    for key, value in zip(
                        rows,
                        (t, route.endpoint, route.host, route.method, route.service, status),
                        strict=False,
                    ):
                        rows[key].append(value)
                    rows["value"].append(self._latency(route, t))
            # Every series seen so far, at the tick's end: its requests in the tick
            # (0 too, as an exporter reports) and its running total.
            for (route, status), total in self._counters.items():
                values = (tick + TICK_NS - 1, route.endpoint, route.host, route.method)
                count = in_tick.get((route, status), 0)
                for key, value in zip(
                    counters, (*values, route.service, status, count, total), strict=True
                ):
                    counters[key].append(value)
            tick += TICK_NS
        batch = PointBatch()
        if rows["time"]:
            latency = {self.names.field: ("value", FieldType.FLOAT)}
            batch.add(self._table(self.names.measurement, latency, rows))
            requests = {
                REQUESTS_FIELD: ("value", FieldType.INTEGER),
                REQUESTS_TOTAL_FIELD: ("total", FieldType.INTEGER),
            }
            batch.add(self._table(REQUESTS_MEASUREMENT, requests, counters))
        return batch

    def _table(
        self,
        measurement: str,
        fields: dict[str, tuple[str, FieldType]],
        columns: dict[str, list[object]],
    ) -> MeasurementBatch:
        tags = {
            "endpoint": "endpoint",
            "host": "host",
            "method": "method",
            self.names.service_tag: "service",
            "status": "status",
        }
        schema = measurement_schema(list(tags), {f: kind for f, (_, kind) in fields.items()})
        arrays = {"time": columns["time"]}
        arrays.update({f: columns[source] for f, (source, _) in fields.items()})
        arrays.update({name: columns[source] for name, source in tags.items()})
        table = pa.Table.from_arrays(
            [pa.array(arrays[f.name], f.type) for f in schema], schema=schema
        )
        return MeasurementBatch(measurement, table)


class DemoDataComponent:
    """Writes the history at start, then a tick of live points every 10 s."""

    name = "demo data"

    def __init__(
        self,
        storage: Callable[[], Storage],
        names: DemoNames,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._storage = storage
        self._names = names
        self._clock = clock
        self._generator = DemoGenerator(names)
        self._written_to = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self.write_history)
        self._task = asyncio.create_task(self._live())

    def write_history(self) -> int:
        """Creates the database; an hour of points unless the measurement has data."""
        storage = self._storage()
        storage.create_database(self._names.database)
        now = self._clock()
        start = now - HISTORY_NS
        if self._names.measurement in storage.measurements(self._names.database):
            log.info("demo data: %s already present; adding live points only", self._names)
            start = now - TICK_NS
        self._written_to = start - start % TICK_NS
        return self.write_due()

    def write_due(self) -> int:
        """Points of the whole ticks since the last write; how many were written."""
        now = self._clock()
        batch = self._generator.ticks(self._written_to, now)
        if batch.num_points:
            self._storage().write(self._names.database, None, batch)
        self._written_to = now - now % TICK_NS
        return batch.num_points

    async def _live(self) -> None:
        while True:
            await asyncio.sleep(TICK_NS / SECOND_NS - (self._clock() % TICK_NS) / SECOND_NS + 0.05)
            try:
                await asyncio.to_thread(self.write_due)
            except Exception:
                # Demo points are not worth stopping Crisp for; say why, try again.
                log.exception("demo data: writing live points failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def urls(self) -> dict[str, str]:
        return {"demo data": f"writing {self._names.measurement} into {self._names.database}"}
