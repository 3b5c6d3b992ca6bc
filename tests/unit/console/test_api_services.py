"""Services overview: GET /api/services/ and the /services/ page."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from crisp.console.explore.backend import InProcessBackend, MetricsBackend
from crisp.core.batch import FieldType
from tests.unit.console.conftest import MINUTE, use_backend
from tests.unit.console.fixtures import World, build_world
from tests.unit.query.memory_storage import MemoryStorage, table

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(backend: MetricsBackend) -> World:
    return build_world()


def client_for(world: World, name: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[name]}")
    return client


def services(client: APIClient, **params: str) -> Any:
    return client.get("/api/services/", {"db": "metrics", **params})


def test_services_from_fixture_without_status_tag(world: World) -> None:
    response = services(client_for(world, "alice"), range="-1h")
    assert response.status_code == 200, response.content
    body = {row["service"]: row for row in response.json()}
    assert set(body) == {"checkout", 'o\'brien "q"'}
    checkout = body["checkout"]
    # Five points 10, 20, 30, 40, 100 ms in the last hour.
    assert checkout["requests"] == 5
    assert checkout["rate_per_s"] == pytest.approx(5 / 3600)
    # Nearest rank: p95 and p99 of five points are both the fifth.
    assert checkout["p95_ms"] == 100.0
    assert checkout["p99_ms"] == 100.0
    assert checkout["error_rate"] is None  # no status tag in this measurement
    assert max(v for v in checkout["sparkline"] if v is not None) == 100.0
    assert body['o\'brien "q"']["requests"] == 1
    assert body['o\'brien "q"']["p95_ms"] == 7.0


@pytest.fixture
def with_status(settings: Any) -> MetricsBackend:
    now = time.time_ns()
    statuses = {"api": ["200", "200", "500", "503"], "web": ["200", "404"]}
    rows = [
        {
            "time": now - (i + 1) * MINUTE,
            "service": service,
            "status": status,
            "duration_ms": float(10 * (i + 1)),
        }
        for service, codes in statuses.items()
        for i, status in enumerate(codes)
    ]
    memory = MemoryStorage()
    memory.add(
        "metrics",
        "api_latency",
        table(rows, ["service", "status"], {"duration_ms": FieldType.FLOAT}),
    )
    metrics = InProcessBackend(memory, timeout=10)
    use_backend(settings, metrics)
    return metrics


def test_error_rate_counts_5xx(world: World, with_status: MetricsBackend) -> None:
    response = services(client_for(world, "alice"), range="-15m")
    assert response.status_code == 200, response.content
    body = {row["service"]: row for row in response.json()}
    # api: 4 requests 10..40 ms, two of them 5xx; web: 10 and 20 ms, a 404 is no error.
    assert body["api"]["requests"] == 4
    assert body["api"]["error_rate"] == 0.5
    assert body["api"]["p95_ms"] == 40.0
    assert body["api"]["rate_per_s"] == pytest.approx(4 / 900)
    assert body["web"]["requests"] == 2
    assert body["web"]["error_rate"] == 0.0
    assert body["web"]["p99_ms"] == 20.0


def test_queries_group_by_service_not_one_per_service(
    world: World, with_status: MetricsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    original = InProcessBackend.query

    def spy(self: InProcessBackend, influxql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(influxql)
        return original(self, influxql, *args, **kwargs)

    monkeypatch.setattr(InProcessBackend, "query", spy)
    assert services(client_for(world, "alice")).status_code == 200
    selects = [q for q in seen if q.startswith("SELECT")]
    assert len(selects) == 3
    assert all("GROUP BY" in q and "service" in q.split("GROUP BY")[1] for q in selects)


def test_services_need_database_access(world: World) -> None:
    response = services(client_for(world, "bob"))  # team B is not granted "metrics"
    assert response.status_code == 403
    assert "metrics" in response.json()["error"]
    assert services(client_for(world, "nora")).status_code == 403
    assert services(client_for(world, "bob"), db="secret").status_code == 200
    assert APIClient().get("/api/services/", {"db": "metrics"}).status_code in (401, 403)


def test_services_missing_db_is_400(world: World) -> None:
    response = client_for(world, "alice").get("/api/services/")
    assert response.status_code == 400
    assert "db" in response.json()["fields"]


@pytest.mark.parametrize("db", ['metrics"; DROP DATABASE metrics', "metrics' OR 1=1", 'x"\\'])
def test_injection_in_db(world: World, db: str) -> None:
    # Not granted to alice: refused before storage is asked.
    assert services(client_for(world, "alice"), db=db).status_code == 403
    # A superuser reaches storage, which knows no such database: a JSON error.
    response = services(client_for(world, "root"), db=db)
    assert response.status_code == 400
    assert response.json()["error"].startswith("database not found")


@pytest.mark.parametrize(
    "bad_range", ["-1h; DROP DATABASE metrics", "now() - 1h", "-1h' OR '1'='1", "1h)"]
)
def test_injection_in_range(world: World, bad_range: str) -> None:
    response = services(client_for(world, "alice"), range=bad_range)
    assert response.status_code == 400
    assert "range" in response.json()["fields"]


def test_services_page_renders(world: World) -> None:
    client = Client()
    client.force_login(world.users["alice"])
    response = client.get("/services/")
    assert response.status_code == 200
    assert b'id="services-table"' in response.content
    assert b"console/services.js" in response.content
    assert b'href="/services/"' in response.content  # linked in the top bar


def test_services_page_needs_login(backend: MetricsBackend) -> None:
    response = Client().get("/services/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
