"""/api/v3/query_sql: SQL over one measurement, sandboxed."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.unit.influxapi.conftest import NOW_NS

S = 10**9
WINDOW = {"start": str(NOW_NS - 3600 * S), "end": str(NOW_NS + S)}


@pytest.fixture
def loaded(client: TestClient, db: str) -> TestClient:
    lines = [
        f"cpu,host=a,region=eu usage=1.5 {NOW_NS - 60 * S + 123}",
        f"cpu,host=b,region=us usage=2.5 {NOW_NS - 30 * S}",
        f"cpu,host=a,region=eu usage=3.5 {NOW_NS - 10 * S}",
        f"cpu,host=old usage=99 {NOW_NS - 7200 * S}",
        f"mem,host=a free=7i {NOW_NS - 10 * S}",
    ]
    response = client.post("/write", params={"db": db}, content="\n".join(lines).encode())
    assert response.status_code == 204
    return client


def sql(client: TestClient, q: str, **extra: str) -> tuple[int, object]:
    response = client.post("/api/v3/query_sql", json={"db": "app", "q": q, **WINDOW, **extra})
    body = response.json() if extra.get("format", "json") == "json" else response.text
    return response.status_code, body


def test_aggregates_with_plain_sql_inside_the_time_window(loaded: TestClient) -> None:
    status, body = sql(
        loaded, "SELECT host, avg(usage) AS mean FROM cpu GROUP BY host ORDER BY host"
    )
    assert status == 200
    # The point two hours old is outside the window: the query cannot see it.
    assert body == [{"host": "a", "mean": 2.5}, {"host": "b", "mean": 2.5}]


def test_time_is_a_timestamp_rendered_with_nanoseconds(loaded: TestClient) -> None:
    status, body = sql(loaded, "SELECT time, usage FROM cpu WHERE host = 'a' ORDER BY time LIMIT 1")
    assert status == 200
    assert body == [{"time": "2025-12-31T23:59:00.000000123Z", "usage": 1.5}]


def test_csv_and_jsonl_formats(loaded: TestClient) -> None:
    status, text = sql(loaded, "SELECT host FROM cpu ORDER BY host", format="csv")
    assert status == 200
    assert text.splitlines() == ['"host"', '"a"', '"a"', '"b"']
    _, lines = sql(loaded, "SELECT count(*) AS n FROM cpu", format="jsonl")
    assert lines == '{"n": 3}\n'


def test_get_with_url_parameters_works_too(loaded: TestClient) -> None:
    response = loaded.get(
        "/api/v3/query_sql", params={"db": "app", "q": "SELECT count(*) AS n FROM mem", **WINDOW}
    )
    assert response.json() == [{"n": 1}]


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "table functions are not allowed"),
        ("SELECT * FROM cpu, glob('/work/*')", "table functions are not allowed"),
        ("SELECT (SELECT count(*) FROM read_parquet('x')) FROM cpu", "table functions"),
        ("SELECT * FROM query('SELECT 1')", "table functions are not allowed"),
        ("COPY cpu TO '/tmp/out.csv'", "only SELECT statements are allowed"),
        ("ATTACH '/tmp/x.db'", "only SELECT statements are allowed"),
        ("SELECT 1; SELECT 2", "exactly one SELECT"),
        ("SELECT * FROM cpu JOIN mem USING (host)", "exactly one measurement"),
        ("SELECT * FROM main.cpu", "qualified table names"),
        ("SELECT getenv('HOME') FROM cpu", "function not allowed"),
        ("SELECT current_setting('allowed_directories') FROM cpu", "function not allowed"),
        ("SELECT * FROM points", "measurement not found: points"),
        ("SELECT * FROM nope", "measurement not found: nope"),
        ("SELEC 1", "error parsing SQL"),
    ],
)
def test_refused_queries_say_why(loaded: TestClient, q: str, message: str) -> None:
    status, body = sql(loaded, q)
    assert status == 400
    assert message in body["error"]  # type: ignore[index]


def test_ctes_and_subqueries_over_the_measurement_are_fine(loaded: TestClient) -> None:
    q = (
        "WITH per_host AS (SELECT host, max(usage) AS peak FROM cpu GROUP BY host) "
        "SELECT max(peak) AS top FROM per_host"
    )
    assert sql(loaded, q) == (200, [{"top": 3.5}])


def test_missing_database_parameters_and_bad_times(loaded: TestClient) -> None:
    missing = loaded.post("/api/v3/query_sql", json={"db": "nope", "q": "SELECT 1 FROM cpu"})
    assert missing.status_code == 404
    assert loaded.post("/api/v3/query_sql", json={"q": "SELECT 1"}).status_code == 400
    bad_time = loaded.post(
        "/api/v3/query_sql", json={"db": "app", "q": "SELECT 1 FROM cpu", "start": "yesterday"}
    )
    assert bad_time.status_code == 400
    assert "start" in bad_time.json()["error"]
