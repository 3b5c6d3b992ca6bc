"""CSV export of an explore query: the API format and the page's download link."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from crisp.console.explore.csvexport import series_csv
from tests.unit.console.fixtures import World, client_for

pytestmark = pytest.mark.django_db

QUERY = {
    "database": "metrics",
    "measurement": "api_latency",
    "field": "duration_ms",
    "aggregate": "max",
    "start": "-10m",
    "interval": "1h",
    "group_by": ["service"],
}


def rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_post_with_format_csv(world: World) -> None:
    response = client_for(world, "alice").post("/api/query/?format=csv", QUERY, format="json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="api_latency-max.csv"'
    table = rows(response)
    assert list(table[0]) == ["time", "service", "max"]
    by_service: dict[str, float] = {}
    for row in table:
        assert row["time"].endswith("Z")
        if row["max"]:
            by_service[row["service"]] = max(by_service.get(row["service"], 0), float(row["max"]))
    # The quotes of the odd service name survive CSV quoting.
    assert by_service == {"checkout": 100.0, 'o\'brien "q"': 7.0}


def test_get_with_the_model_in_q_is_the_download_link(world: World) -> None:
    client = client_for(world, "alice")
    url = "/api/query/?" + f"format=csv&q={json.dumps(QUERY)}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert {row["service"] for row in rows(response)} == {"checkout", 'o\'brien "q"'}
    as_json = client.get("/api/query/", {"q": json.dumps(QUERY)})
    assert as_json.json()["series"][0]["columns"] == ["time", "max"]


def test_accept_header_selects_csv(world: World) -> None:
    response = client_for(world, "alice").post(
        "/api/query/", QUERY, format="json", HTTP_ACCEPT="text/csv"
    )
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("q", "message"),
    [(None, "required"), ("{not json", "not valid JSON"), ("[1]", "JSON object")],
)
def test_bad_q_is_a_json_400(world: World, q: str | None, message: str) -> None:
    params = {"format": "csv"} | ({"q": q} if q is not None else {})
    response = client_for(world, "alice").get("/api/query/", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert message in json.dumps(response.json()["fields"])


def test_csv_errors_stay_json(world: World) -> None:
    secret = {**QUERY, "database": "secret", "measurement": "cpu", "field": "usage"}
    response = client_for(world, "alice").post("/api/query/?format=csv", secret, format="json")
    assert response.status_code == 403
    assert "secret" in response.json()["error"]
    bad = client_for(world, "alice").post(
        "/api/query/?format=csv", {**QUERY, "start": "-1h", "end": "-2h"}, format="json"
    )
    assert bad.status_code == 400
    assert "empty" in bad.json()["error"]


def test_formula_like_tag_values_are_defused() -> None:
    text = series_csv(
        [
            {
                "name": "m",
                "tags": {"host": '=HYPERLINK("http://evil")', "zone": "-1+2"},
                "columns": ["time", "mean"],
                "values": [["2024-01-01T00:00:00Z", -1.5], ["2024-01-01T00:01:00Z", None]],
            }
        ]
    )
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["time", "host", "zone", "mean"]
    assert table[1] == ["2024-01-01T00:00:00Z", '\'=HYPERLINK("http://evil")', "'-1+2", "-1.5"]
    assert table[2][3] == ""  # an empty bucket is an empty cell, numbers stay numbers


@pytest.mark.parametrize(
    ("measurement", "filename"),
    [
        ("api_latency", "api_latency-max.csv"),
        ('x"; filename=evil.exe\r\nX-Hdr: 1', "x_filename_evil.exe_X-Hdr_1-max.csv"),
        ("../../etc/passwd", "etc_passwd-max.csv"),
    ],
)
def test_download_names_are_safe(measurement: str, filename: str) -> None:
    from crisp.console.explore.api.views import csv_filename
    from crisp.console.explore.querymodel import ExploreQuery

    assert csv_filename(ExploreQuery("db", measurement, "f", aggregate="max")) == filename
