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
from tests.unit.console.fixtures import World, client_for
from tests.unit.query.memory_storage import MemoryStorage, table

pytestmark = pytest.mark.django_db


def services(client: APIClient, **params: str) -> Any:
    return client.get("/api/services/", {"db": "metrics", **params})


def test_services_from_fixture_without_status_tag(world: World) -> None:
    response = services(client_for(world, "alice"), range="-1h")
    assert response.status_code == 200, response.content
    body = {row["service"]: row for row in response.json()}
    assert set(body) == {"checkout", 'o\'brien "q"'}
    checkout = body["checkout"]
    assert set(checkout) == {
        "service",
        "requests",
        "rate_per_s",
        "p95_ms",
        "p99_ms",
        "error_rate",
        "sparkline",
        "requests_source",
    }
    assert checkout["requests_source"] == "latency"  # no http_requests in this database
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


def record_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every InfluxQL text the in-process backend runs from now on, in order."""
    seen: list[str] = []
    original = InProcessBackend.query

    def spy(self: InProcessBackend, influxql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(influxql)
        return original(self, influxql, *args, **kwargs)

    monkeypatch.setattr(InProcessBackend, "query", spy)
    return seen


def test_queries_group_by_service_not_one_per_service(
    world: World, with_status: MetricsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = record_queries(monkeypatch)
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


# ---------------------------------------------------------------- one service's page


@pytest.fixture
def shop(settings: Any) -> MetricsBackend:
    """api: /pay on h1 (10, 20 ms, one 500) and h2 (30 ms); /cart on h1 (40 ms). web: one."""
    now = time.time_ns()
    points = [
        ("api", "/pay", "h1", "200", 10.0),
        ("api", "/pay", "h1", "500", 20.0),
        ("api", "/pay", "h2", "200", 30.0),
        ("api", "/cart", "h1", "200", 40.0),
        ("web", "/", "w1", "200", 5.0),
    ]
    rows = [
        {
            "time": now - (i + 1) * MINUTE,
            "service": service,
            "endpoint": endpoint,
            "host": host,
            "status": status,
            "duration_ms": value,
        }
        for i, (service, endpoint, host, status, value) in enumerate(points)
    ]
    memory = MemoryStorage()
    memory.add(
        "metrics",
        "api_latency",
        table(rows, ["endpoint", "host", "service", "status"], {"duration_ms": FieldType.FLOAT}),
    )
    metrics = InProcessBackend(memory, timeout=10)
    use_backend(settings, metrics)
    return metrics


def detail(client: APIClient, service: str, **params: str) -> Any:
    return client.get(f"/api/services/{service}/", {"db": "metrics", "range": "-15m", **params})


def test_service_detail_breaks_down_by_endpoint_and_host(
    world: World, shop: MetricsBackend
) -> None:
    response = detail(client_for(world, "alice"), "api")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["service"] == "api"
    assert body["summary"]["requests"] == 4
    assert body["summary"]["error_rate"] == 0.25
    assert body["summary"]["p99_ms"] == 40.0
    assert set(body["breakdowns"]) == {"endpoint", "host"}
    endpoints = {row["name"]: row for row in body["breakdowns"]["endpoint"]}
    assert set(endpoints) == {"/cart", "/pay"}  # web's "/" is another service's
    assert endpoints["/pay"]["requests"] == 3
    assert endpoints["/pay"]["error_rate"] == pytest.approx(1 / 3)
    assert endpoints["/pay"]["p95_ms"] == 30.0
    assert endpoints["/pay"]["rate_per_s"] == pytest.approx(3 / 900)
    assert endpoints["/cart"]["error_rate"] == 0.0
    hosts = {row["name"]: row for row in body["breakdowns"]["host"]}
    assert {name: row["requests"] for name, row in hosts.items()} == {"h1": 3, "h2": 1}
    assert max(v for v in hosts["h1"]["sparkline"] if v is not None) == 40.0


def test_service_detail_breakdown_tags_come_from_settings(
    world: World, shop: MetricsBackend, settings: Any
) -> None:
    settings.CRISP.breakdown_tags = ("host",)
    body = detail(client_for(world, "alice"), "api").json()
    assert list(body["breakdowns"]) == ["host"]


def test_service_detail_unknown_service_is_404(world: World, shop: MetricsBackend) -> None:
    response = detail(client_for(world, "alice"), "nobody")
    assert response.status_code == 404
    assert "nobody" in response.json()["error"]


@pytest.mark.parametrize("service", ["x' OR 1=1 --", 'a"b', "a/b\\", "api' OR service='web"])
def test_injection_in_service_name(world: World, shop: MetricsBackend, service: str) -> None:
    from urllib.parse import quote

    response = detail(client_for(world, "alice"), quote(service, safe=""))
    # A value, never part of the statement: no such service, so nothing found.
    assert response.status_code == 404, response.content


def test_service_detail_needs_access(world: World, shop: MetricsBackend) -> None:
    assert detail(client_for(world, "bob"), "api").status_code == 403
    assert APIClient().get("/api/services/api/", {"db": "metrics"}).status_code in (401, 403)


def test_service_page_renders_with_names_from_settings(world: World) -> None:
    client = Client()
    client.force_login(world.users["alice"])
    response = client.get("/services/checkout/")
    assert response.status_code == 200
    assert b"console/service.js" in response.content
    assert b'"breakdown_tags": ["endpoint", "host"]' in response.content
    data = b'<script id="service-data" type="application/json">"checkout"</script>'
    assert data in response.content
    escaped = client.get("/services/%3Cb%3E/")
    assert b"<h1>&lt;b&gt;</h1>" in escaped.content
    assert Client().get("/services/checkout/").status_code == 302


# ---------------------------------------------------------------- the request counter


@pytest.fixture
def counted(settings: Any) -> MetricsBackend:
    """One latency point per (service, endpoint, status) stands for many requests, which
    the http_requests counter counts: api /pay 100 ok + 10 × 500 + 30 × 503, /cart 60 ok;
    web / 7 ok. Latency points alone would say api: 4 requests, 2 of them errors."""
    now = time.time_ns()
    counts = [
        ("api", "/pay", "h1", "200", 10.0, [40, 60]),
        ("api", "/pay", "h1", "500", 20.0, [10]),
        ("api", "/pay", "h2", "503", 30.0, [30]),
        ("api", "/cart", "h2", "200", 40.0, [25, 35]),
        ("web", "/", "w1", "200", 5.0, [7]),
    ]
    tags = ["endpoint", "host", "service", "status"]
    latency = []
    requests = []
    for i, (service, endpoint, host, status, value, per_minute) in enumerate(counts):
        labels = {"service": service, "endpoint": endpoint, "host": host, "status": status}
        latency.append({"time": now - (i + 1) * MINUTE, **labels, "duration_ms": value})
        for j, count in enumerate(per_minute):
            requests.append({"time": now - (j + 1) * MINUTE, **labels, "count": count})
    # Outside the range: never counted.
    requests.append({"time": now - 60 * MINUTE, **labels, "count": 10_000})
    memory = MemoryStorage()
    memory.add("metrics", "api_latency", table(latency, tags, {"duration_ms": FieldType.FLOAT}))
    memory.add("metrics", "http_requests", table(requests, tags, {"count": FieldType.INTEGER}))
    metrics = InProcessBackend(memory, timeout=10)
    use_backend(settings, metrics)
    return metrics


def test_requests_and_errors_are_the_counters_sums(world: World, counted: MetricsBackend) -> None:
    response = services(client_for(world, "alice"), range="-15m")
    assert response.status_code == 200, response.content
    body = {row["service"]: row for row in response.json()}
    api = body["api"]
    assert api["requests_source"] == "counter"
    assert api["requests"] == 200  # not the 4 latency points
    assert api["rate_per_s"] == pytest.approx(200 / 900)
    assert api["error_rate"] == pytest.approx(40 / 200)  # 500s and 503s, not 2 of 4 points
    assert api["p95_ms"] == 40.0  # latency still from the latency measurement
    assert body["web"]["requests"] == 7
    assert body["web"]["error_rate"] == 0.0


def test_service_breakdowns_use_the_counter(world: World, counted: MetricsBackend) -> None:
    body = detail(client_for(world, "alice"), "api").json()
    assert body["summary"]["requests"] == 200
    assert body["summary"]["requests_source"] == "counter"
    endpoints = {row["name"]: row for row in body["breakdowns"]["endpoint"]}
    assert endpoints["/pay"]["requests"] == 140
    assert endpoints["/pay"]["error_rate"] == pytest.approx(40 / 140)
    assert endpoints["/cart"]["requests"] == 60
    assert endpoints["/cart"]["rate_per_s"] == pytest.approx(60 / 900)
    hosts = {row["name"]: row["requests"] for row in body["breakdowns"]["host"]}
    assert hosts == {"h1": 110, "h2": 90}


def test_without_the_counter_setting_latency_points_are_counted(
    world: World, counted: MetricsBackend, settings: Any
) -> None:
    settings.CRISP.request_counter = None
    body = {row["service"]: row for row in services(client_for(world, "alice")).json()}
    assert body["api"]["requests_source"] == "latency"
    assert body["api"]["requests"] == 4
    assert body["api"]["error_rate"] == 0.5


def test_a_counter_named_in_settings_but_absent_falls_back(
    world: World, with_status: MetricsBackend, settings: Any
) -> None:
    settings.CRISP.request_counter = ("http_requests", "count")  # with_status has none
    body = {row["service"]: row for row in services(client_for(world, "alice")).json()}
    assert {row["requests_source"] for row in body.values()} == {"latency"}
    assert body["api"]["requests"] == 4


def test_counter_without_the_grouping_tag_falls_back(
    world: World, counted: MetricsBackend, settings: Any
) -> None:
    settings.CRISP.breakdown_tags = ("endpoint", "method")  # the counter has no method tag
    body = detail(client_for(world, "alice"), "api").json()
    assert body["summary"]["requests_source"] == "counter"
    assert {row["requests_source"] for row in body["breakdowns"]["endpoint"]} == {"counter"}
    # Summing the counter by a tag it lacks would lump all of it under "": points instead.
    methods = body["breakdowns"]["method"]
    assert [(row["requests_source"], row["requests"]) for row in methods] == [("latency", 4)]


def test_counter_queries_are_rendered_from_settings(
    world: World, counted: MetricsBackend, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = record_queries(monkeypatch)
    assert services(client_for(world, "alice")).status_code == 200
    counter = [q for q in seen if q.startswith("SELECT") and "http_requests" in q]
    assert len(counter) == 2  # requests, then 5xx; grouped, not one per service
    assert all(q.startswith("SELECT sum(count) AS ") for q in counter)
    assert all(q.endswith("GROUP BY service") for q in counter)
    assert "status::tag =~ /^5/" in counter[1]
    # Latency points are not counted for errors when the counter has them.
    assert not [q for q in seen if "count(duration_ms) AS errors" in q]


def test_services_page_says_where_rates_come_from(world: World) -> None:
    client = Client()
    client.force_login(world.users["alice"])
    response = client.get("/services/")
    assert b'id="requests-source"' in response.content
    assert b'"request_counter": "http_requests.count"' in response.content
