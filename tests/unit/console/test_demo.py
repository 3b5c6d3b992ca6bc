"""Demo data: an hour of realistic points at start, live points after, and the
console's pages have something to show from them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from crisp.console.explore.backend import InProcessBackend
from crisp.console.explore.demo import (
    TICK_NS,
    DemoDataComponent,
    DemoGenerator,
    DemoNames,
)
from crisp.storage.engine import Engine, EngineOptions
from tests.unit.console.conftest import use_backend

NOW = 1_700_000_000 * 10**9


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(tmp_path / "data", EngineOptions(background=False)) as real:
        yield real


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_history_then_live_points(engine: Engine) -> None:
    clock = Clock(NOW)
    demo = DemoDataComponent(lambda: engine, DemoNames(database="demo"), clock=clock)
    written = demo.write_history()
    assert engine.measurements("demo") == ["api_latency", "http_requests"]
    assert set(engine.tag_keys("demo", "api_latency")) == {
        "endpoint",
        "host",
        "method",
        "service",
        "status",
    }
    assert engine.field_types("demo", "api_latency") == {"duration_ms": "float"}
    assert engine.field_types("demo", "http_requests") == {
        "count": "integer",
        "total": "integer",
    }
    assert engine.tag_values("demo", "api_latency", "service") == [
        "catalog",
        "checkout",
        "shipping",
        "users",
    ]
    assert written > 10_000  # an hour of a few dozen requests per 10 s, plus counters
    assert demo.write_due() == 0  # nothing new until a tick has passed
    clock.now += TICK_NS
    assert demo.write_due() > 0


def test_restart_does_not_write_the_history_again(engine: Engine) -> None:
    first = DemoDataComponent(lambda: engine, DemoNames(database="demo"), clock=Clock(NOW))
    assert first.write_history() > 10_000
    again = DemoDataComponent(
        lambda: engine, DemoNames(database="demo"), clock=Clock(NOW + TICK_NS)
    )
    assert again.write_history() < 1_000


def test_names_follow_the_settings() -> None:
    names = DemoNames(measurement="lat", field="ms", service_tag="svc")
    batch = DemoGenerator(names).ticks(NOW, NOW + TICK_NS)
    assert set(batch.measurements) == {"lat", "http_requests"}
    table = batch.measurements["lat"].table
    assert {"svc", "ms", "endpoint", "host"} <= set(table.column_names)


def test_generator_is_deterministic_and_covers_whole_ticks() -> None:
    one = DemoGenerator(DemoNames()).ticks(NOW + 1, NOW + 3 * TICK_NS + 5)
    two = DemoGenerator(DemoNames()).ticks(NOW + 1, NOW + 3 * TICK_NS + 5)
    assert one.measurements["api_latency"].table.equals(two.measurements["api_latency"].table)
    times = one.measurements["api_latency"].table.column("time").to_pylist()
    assert min(times) >= NOW
    assert max(times) < NOW + 3 * TICK_NS


@pytest.mark.django_db
def test_the_services_overview_shows_the_demo(engine: Engine, settings: Any) -> None:
    from django.contrib.auth.models import User

    DemoDataComponent(lambda: engine, DemoNames(), clock=time.time_ns).write_history()
    use_backend(settings, InProcessBackend(engine, timeout=30))
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("root", password="pw"))
    rows = {r["service"]: r for r in client.get("/api/services/?db=metrics&range=-1h").json()}
    assert set(rows) == {"catalog", "checkout", "shipping", "users"}
    # catalog serves the most requests; shipping has the recurring 503 incident.
    assert max(rows, key=lambda s: rows[s]["requests"]) == "catalog"
    assert max(rows, key=lambda s: rows[s]["error_rate"]) == "shipping"
    assert all(r["p99_ms"] >= r["p95_ms"] > 0 for r in rows.values())
    # Request counts come from the counter's per-tick counts, which add up to the
    # demo's one latency point per request.
    assert {r["requests_source"] for r in rows.values()} == {"counter"}
    settings.CRISP.request_counter = None
    points = {r["service"]: r for r in client.get("/api/services/?db=metrics&range=-1h").json()}
    assert {r["requests_source"] for r in points.values()} == {"latency"}
    for name, row in rows.items():
        assert row["requests"] == pytest.approx(points[name]["requests"], rel=0.02)
    detail = client.get("/api/services/checkout/?db=metrics&range=-1h").json()
    assert {r["name"] for r in detail["breakdowns"]["host"]} == {"checkout-1", "checkout-2"}
    rate = client.post(
        "/api/query/",
        {
            "database": "metrics",
            "measurement": "http_requests",
            "field": "total",
            "aggregate": "rate",
            "start": "-30m",
            "interval": "1m",
            "group_by": ["service"],
        },
        format="json",
    )
    assert rate.status_code == 200, rate.content
    assert {s["tags"]["service"] for s in rate.json()["series"]} == set(rows)


def test_component_starts_and_stops(engine: Engine) -> None:
    async def run() -> None:
        demo = DemoDataComponent(lambda: engine, DemoNames(database="demo"))
        await demo.start()
        await demo.stop()

    asyncio.run(run())
    assert "api_latency" in engine.measurements("demo")
