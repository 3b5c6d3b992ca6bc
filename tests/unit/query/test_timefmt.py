"""Time literals in, epoch / RFC3339 out."""

from __future__ import annotations

import pytest

from crisp.query.errors import QueryError
from crisp.query.results import StatementResult
from crisp.query.timefmt import format_results, format_rfc3339, format_time, parse_time, zone

T = 1_577_836_800_000_000_000  # 2020-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2020-01-01T00:00:00Z", T),
        ("2020-01-01T00:00:00.000000001Z", T + 1),
        ("2020-01-01T01:00:00+01:00", T),
        ("2020-01-01 00:00:00", T),
        ("2020-01-01", T),
        ("1969-12-31T23:59:59.5Z", -500_000_000),
    ],
)
def test_parse_time(text: str, ns: int) -> None:
    assert parse_time(text) == ns


def test_parse_time_in_zone() -> None:
    assert parse_time("2020-01-01 01:00:00", zone("Europe/Paris")) == T
    with pytest.raises(QueryError):
        parse_time("yesterday")
    with pytest.raises(QueryError):
        zone("Mars/Olympus")


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (None, "2020-01-01T00:00:01.5Z"),
        ("ns", T + 1_500_000_000),
        ("u", (T + 1_500_000_000) // 1000),
        ("ms", (T + 1_500_000_000) // 10**6),
        ("s", T // 10**9 + 1),
        ("m", T // (60 * 10**9)),
        ("h", T // (3600 * 10**9)),
    ],
)
def test_format_time(epoch: str | None, expected: int | str) -> None:
    assert format_time(T + 1_500_000_000, epoch) == expected


def test_rfc3339_details() -> None:
    assert format_rfc3339(T) == "2020-01-01T00:00:00Z"
    assert format_rfc3339(-1) == "1969-12-31T23:59:59.999999999Z"
    assert format_rfc3339(T, zone("Europe/Paris")) == "2020-01-01T01:00:00+01:00"
    assert format_time(-1500, "u") == -1  # truncates toward zero like Go


def test_format_results_only_touches_time_columns() -> None:
    results: list[StatementResult] = [
        {
            "statement_id": 0,
            "series": [{"name": "m", "columns": ["time", "v"], "values": [[T, 1]]}],
        },
        {"statement_id": 1, "series": [{"columns": ["key"], "values": [["cpu"]]}]},
        {"statement_id": 2, "error": "x"},
    ]
    out = format_results(results, "s")
    assert out[0]["series"][0]["values"] == [[T // 10**9, 1]]
    assert out[1] == results[1]
    assert results[0]["series"][0]["values"] == [[T, 1]]  # input untouched
    assert format_results(results, None)[0]["series"][0]["values"] == [["2020-01-01T00:00:00Z", 1]]
