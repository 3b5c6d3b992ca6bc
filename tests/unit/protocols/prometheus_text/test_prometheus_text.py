"""The Prometheus text parser: grammar, mapping, errors per line, fuzzing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType, ParseResult
from crisp.protocols.prometheus_text import parse_prometheus_text, sample_line

NOW = 1_700_000_000_000_000_000
MS = 1_000_000


def parse(text: str, **extra: str) -> ParseResult:
    return parse_prometheus_text(text.encode(), default_time_ns=NOW, extra_labels=extra)


def rows(result: ParseResult, name: str) -> list[dict[str, object]]:
    table = result.batch.measurements[name].table
    return list(table.to_pylist())


MSDOS = (
    r'msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",'
    r'error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9'
)
EXPOSITION = """\
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A free comment
MSDOS_LINE
metric_without_timestamp_and_labels 12.47
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
""".replace("MSDOS_LINE", MSDOS)


def test_reference_exposition() -> None:
    result = parse(EXPOSITION)
    assert result.errors == []
    requests = result.batch.measurements["http_requests_total"]
    assert requests.tag_keys == ["code", "method"]
    assert requests.field_types == {"value": FieldType.FLOAT}
    assert rows(result, "http_requests_total") == [
        {"time": 1395066363000 * MS, "code": "200", "method": "post", "value": 1027.0},
        {"time": 1395066363000 * MS, "code": "400", "method": "post", "value": 3.0},
    ]
    assert rows(result, "msdos_file_access_time_seconds") == [
        {
            "time": NOW,
            "error": 'Cannot find file:\n"FILE.TXT"',
            "path": "C:\\DIR\\FILE.TXT",
            "value": 1.458255915e9,
        }
    ]
    assert rows(result, "metric_without_timestamp_and_labels") == [{"time": NOW, "value": 12.47}]
    assert rows(result, "rpc_duration_seconds") == [
        {"time": NOW, "quantile": "0.5", "value": 4773.0}
    ]
    buckets = rows(result, "http_request_duration_seconds_bucket")
    assert [row["le"] for row in buckets] == ["0.05", "+Inf"]
    assert set(result.batch.measurements) >= {
        "rpc_duration_seconds_sum",
        "rpc_duration_seconds_count",
        "http_request_duration_seconds_sum",
        "http_request_duration_seconds_count",
    }


def test_special_values() -> None:
    result = parse("a NaN\nb +Inf\nc -Inf\nd -0.5e-3\n")
    assert result.errors == []
    assert math.isnan(rows(result, "a")[0]["value"])  # type: ignore[arg-type]
    assert rows(result, "b")[0]["value"] == math.inf
    assert rows(result, "c")[0]["value"] == -math.inf
    assert rows(result, "d")[0]["value"] == -0.0005


def test_blank_tolerance_trailing_comma_and_crlf() -> None:
    result = parse('  m { a = "1" , b="2", } 3 -5\r\n\t\n')
    assert result.errors == []
    assert rows(result, "m") == [{"time": -5 * MS, "a": "1", "b": "2", "value": 3.0}]


def test_extra_labels_are_added_and_win() -> None:
    result = parse('m{job="own",x="1"} 1\nm 2\n', job="push", instance="h:1")
    assert result.errors == []
    assert rows(result, "m") == [
        {"time": NOW, "instance": "h:1", "job": "push", "x": "1", "value": 1.0},
        {"time": NOW, "instance": "h:1", "job": "push", "x": None, "value": 2.0},
    ]


def test_empty_label_value_is_no_label() -> None:
    result = parse('m{a=""} 1\n')
    assert rows(result, "m") == [{"time": NOW, "value": 1.0}]


def test_openmetrics_seconds_timestamps_and_exemplars() -> None:
    text = (
        "# TYPE foo counter\n"
        'foo_total{a="b"} 17 1520879607.789 # {trace_id="x"} 1 1520879607.7\n'
        "foo_created 1520430000.123\n"
        "# EOF\n"
    )
    result = parse(text)
    assert result.errors == []
    assert rows(result, "foo_total") == [{"time": 1520879607_789_000_000, "a": "b", "value": 17.0}]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("1metric 1", "metric name"),
        ("m{a=1} 1", "label syntax"),
        ('m{a="1" b="2"} 1', "expected ','"),
        ('m{a="1",a="2"} 1', "duplicate"),
        ('m{a="\\t"} 1', "escape"),
        ("m", "expected a value"),
        ("m abc", "invalid sample value"),
        ("m 1_0", "invalid sample value"),
        ("m 1 1.5", "integer milliseconds"),
        ("m 1 99999999999999999", "range"),
        ("m 1 2 3", "unexpected text"),
        ('m{value="x"} 1', "also a field"),
        ('m{time="x"} 1', "reserved"),
        ("m-x 1", "invalid character"),
        ("# TYPE m bogus", "TYPE"),
        ("# TYPE 1m counter", "metric name"),
        ('m{__name__="x"} 1', "__name__"),
    ],
)
def test_bad_lines_are_reported_and_others_kept(line: str, fragment: str) -> None:
    result = parse(f"good 1\n{line}\ngood 2\n")
    assert [e.line_number for e in result.errors] == [2]
    assert fragment in result.errors[0].reason
    assert result.batch.num_points == 2


def test_invalid_utf8_line_is_reported_alone() -> None:
    body = b'good 1\nm{a="\xff"} 1\ngood 2\n'
    result = parse_prometheus_text(body, default_time_ns=NOW)
    assert [e.line_number for e in result.errors] == [2]
    assert result.batch.num_points == 2


def test_wrong_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match="label name"):
        parse_prometheus_text(b"m 1", default_time_ns=NOW, extra_labels={"bad-name": "x"})
    with pytest.raises(ValueError, match="default_time_ns"):
        parse_prometheus_text(b"m 1", default_time_ns=1.5)  # type: ignore[arg-type]


names = st.sampled_from(["m", "up", "a_b:c", "value", "x_bucket"])
label_values = st.text(max_size=6)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            names,
            st.dictionaries(st.sampled_from(["a", "b", "le"]), label_values, max_size=3),
            st.floats(allow_nan=False),
            st.none() | st.integers(min_value=-(10**12), max_value=10**12),
        ),
        max_size=8,
    )
)
def test_fuzz_round_trip(samples: list[tuple[str, dict[str, str], float, int | None]]) -> None:
    lines = []
    for name, labels, value, timestamp in samples:
        rendered = ",".join(f'{k}="{escape(v)}"' for k, v in labels.items())
        suffix = "" if timestamp is None else f" {timestamp}"
        lines.append(f"{name}{{{rendered}}} {value!r}{suffix}")
    result = parse("\n".join(lines))
    assert result.errors == []
    for name, labels, value, timestamp in samples:
        expected_time = NOW if timestamp is None else timestamp * MS
        expected_tags = {k: v for k, v in labels.items() if v}
        table_rows = rows(result, name)
        assert any(
            row["value"] == value
            and row["time"] == expected_time
            and {k: v for k, v in row.items() if k not in ("time", "value") and v} == expected_tags
            for row in table_rows
        )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet='m{}="\\,# \n\t01.eE+-InfNa_', max_size=60))
def test_fuzz_never_raises(body: bytes | str) -> None:
    raw = body.encode() if isinstance(body, str) else body
    result = parse_prometheus_text(raw, default_time_ns=NOW, extra_labels={"job": "j"})
    assert isinstance(result, ParseResult)


def outcome(line: str, fast: bool) -> object:
    parse_line = sample_line.parse_sample if fast else sample_line._parse_sample_slowly
    try:
        sample = parse_line(line, seconds_timestamps=False)
    except sample_line.SampleError:
        return "error"
    return repr(sample)  # repr: NaN != NaN, but its text compares equal


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='ab_:{}="\\, \t#01.+-eNInf', max_size=30))
def test_fast_path_agrees_with_careful_parser(line: str) -> None:
    assert outcome(line, fast=True) == outcome(line, fast=False)


@pytest.mark.parametrize(
    "line",
    ['m{a="1",b="2"} 1 2', 'm{a="1" b="2"} 1', "m{} 1", 'm { a = "1" , } 1', 'm{a="1",a="2"} 1'],
)
def test_fast_path_agrees_on_examples(line: str) -> None:
    assert outcome(line, fast=True) == outcome(line, fast=False)
