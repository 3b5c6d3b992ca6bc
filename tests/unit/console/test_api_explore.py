"""Query, metadata and latency endpoints: answers and errors (always JSON)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from crisp.console.explore.backend import HTTPBackend
from tests.unit.console.conftest import use_backend
from tests.unit.console.fixtures import World, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(world: World) -> APIClient:
    return client_for(world, "alice")


def query(client: APIClient, **body: Any) -> Any:
    base = {"database": "metrics", "measurement": "api_latency", "field": "duration_ms"}
    return client.post("/api/query/", {**base, **body}, format="json")


def test_query_groups_by_tag(alice: APIClient) -> None:
    response = query(alice, aggregate="max", group_by=["service"], start="-10m", interval="1h")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["interval"] == "1h"
    by_service = {s["tags"]["service"]: s for s in body["series"]}
    assert set(by_service) == {"checkout", 'o\'brien "q"'}
    values = [row[1] for row in by_service["checkout"]["values"] if row[1] is not None]
    assert max(values) == 100.0
    assert by_service["checkout"]["values"][0][0].endswith("Z")  # RFC3339


def test_query_filter_with_quotes_matches_exactly(alice: APIClient) -> None:
    response = query(
        alice,
        aggregate="count",
        interval="1h",
        start="-10m",
        filters=[{"tag": "service", "op": "=", "value": 'o\'brien "q"'}],
    )
    # The last 10 minutes may straddle an hour boundary: count across both buckets.
    counts = [row[1] for s in response.json()["series"] for row in s["values"] if row[1]]
    assert sum(counts) == 1


def test_query_regex_filter(alice: APIClient) -> None:
    response = query(
        alice,
        aggregate="count",
        interval="1h",
        start="-10m",
        filters=[{"tag": "endpoint", "op": "=~", "value": "^/pa"}],
    )
    counts = [row[1] for s in response.json()["series"] for row in s["values"] if row[1]]
    assert sum(counts) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"aggregate": "median"}, "invalid request"),
        ({"start": "last week"}, "invalid request"),
        ({"interval": "1y"}, "invalid request"),
        ({"filters": [{"tag": "service", "op": "LIKE", "value": "x"}]}, "invalid request"),
        ({"filters": [{"tag": "service", "op": "=~", "value": "("}]}, "invalid regex"),
        ({"start": "-1h", "end": "-2h"}, "empty"),
        ({"start": "-30d", "interval": "1s"}, "interval too small"),
    ],
)
def test_query_input_errors(alice: APIClient, body: dict[str, Any], message: str) -> None:
    response = query(alice, **body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_unknown_field_type_error_is_a_400_with_message(alice: APIClient) -> None:
    response = query(alice, measurement="nope")
    # An unknown measurement has no data, not an error, as in InfluxDB.
    assert response.status_code == 200
    assert response.json()["series"] == []


def test_meta_endpoints(alice: APIClient) -> None:
    params = "db=metrics&measurement=api_latency"
    assert alice.get("/api/meta/measurements/?db=metrics").json() == ["api_latency"]
    assert alice.get(f"/api/meta/tags/?{params}").json() == ["endpoint", "service"]
    assert alice.get(f"/api/meta/fields/?{params}").json() == {"duration_ms": "float"}
    values = alice.get(f"/api/meta/tag-values/?{params}&key=service").json()
    assert values == ["checkout", 'o\'brien "q"']


@pytest.mark.parametrize(
    "url",
    ["/api/meta/measurements/", "/api/meta/tags/?db=metrics", "/api/meta/tag-values/?db=metrics"],
)
def test_meta_missing_parameters(alice: APIClient, url: str) -> None:
    response = alice.get(url)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid request"


def test_latency(alice: APIClient) -> None:
    response = alice.get("/api/metrics/latency/?service=checkout&percentile=0.5&range=-1h")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"service", "percentile", "value_ms", "time"}
    assert body["service"] == "checkout"
    assert body["percentile"] == 0.5
    assert body["value_ms"] == 30.0


def test_latency_service_with_quotes(alice: APIClient) -> None:
    response = alice.get("/api/metrics/latency/", {"service": 'o\'brien "q"'})
    assert response.status_code == 200
    assert response.json()["value_ms"] == 7.0


def test_latency_missing_service_is_400(alice: APIClient) -> None:
    response = alice.get("/api/metrics/latency/")
    assert response.status_code == 400
    assert response.json() == {"error": "Query parameter 'service' is required."}


def test_latency_without_data_is_404(alice: APIClient) -> None:
    response = alice.get("/api/metrics/latency/?service=nobody")
    assert response.status_code == 404
    assert "No latency data" in response.json()["error"]


def test_latency_outside_range_is_404(alice: APIClient) -> None:
    response = alice.get("/api/metrics/latency/?service=checkout&range=-30s")
    assert response.status_code == 404


@pytest.mark.parametrize("percentile", ["0", "1", "1.5", "abc"])
def test_latency_bad_percentile(alice: APIClient, percentile: str) -> None:
    response = alice.get(f"/api/metrics/latency/?service=x&percentile={percentile}")
    assert response.status_code == 400


# ---------------------------------------------------------------- backend failures


def _failing(settings: Any, handler: Any) -> None:
    use_backend(
        settings, HTTPBackend("http://storage.test", transport=httpx.MockTransport(handler))
    )


def _raise(error: Exception) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("handler", "status", "message"),
    [
        (_raise(httpx.ConnectError("refused")), 503, "unreachable"),
        (_raise(httpx.ReadTimeout("slow")), 504, "did not answer in time"),
        (lambda r: httpx.Response(500, text="boom"), 502, "error 500"),
        (lambda r: httpx.Response(401, json={"error": "bad token"}), 502, "credentials"),
        (lambda r: httpx.Response(400, json={"error": "error parsing query: x"}), 400, "parsing"),
        (
            lambda r: httpx.Response(
                200, json={"results": [{"statement_id": 0, "error": "query timeout exceeded"}]}
            ),
            504,
            "timed out",
        ),
        (
            lambda r: httpx.Response(
                200, json={"results": [{"statement_id": 0, "error": "max-series limit"}]}
            ),
            400,
            "max-series",
        ),
        (lambda r: httpx.Response(200, text="not json"), 502, "without results"),
    ],
)
@pytest.mark.parametrize("url", ["query", "latency", "databases"])
def test_backend_failures_are_json(
    settings: Any, alice: APIClient, handler: Any, status: int, message: str, url: str
) -> None:
    _failing(settings, handler)
    if url == "query":
        response = query(alice)
    elif url == "latency":
        response = alice.get("/api/metrics/latency/?service=checkout")
    else:
        response = alice.get("/api/meta/databases/")
    assert response.status_code == status
    assert message in response.json()["error"]
    assert "Traceback" not in response.content.decode()


def test_http_backend_against_a_closed_port(settings: Any, alice: APIClient) -> None:
    from tests.conftest import free_port

    use_backend(settings, HTTPBackend(f"http://127.0.0.1:{free_port()}", timeout=2))
    response = alice.get("/api/meta/databases/")
    assert response.status_code == 503
    assert "unreachable" in response.json()["error"]


class BrokenBackend(HTTPBackend):
    def query(self, influxql: str, database: str | None, params: Any = None) -> Any:
        raise RuntimeError("secret internals")


def test_unexpected_errors_are_json_without_details(settings: Any, alice: APIClient) -> None:
    use_backend(settings, BrokenBackend("http://unused.test"))
    response = query(alice)
    assert response.status_code == 500
    assert response.json() == {"error": "internal error; the console's log has the details"}
    assert b"secret internals" not in response.content
