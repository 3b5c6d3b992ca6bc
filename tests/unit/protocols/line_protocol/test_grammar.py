"""Behaviour: concrete bodies → the Arrow tables they must produce."""

from __future__ import annotations

import pyarrow as pa
import pytest

from crisp.core.batch import FieldType, ParseResult, measurement_schema
from crisp.protocols.line_protocol import parse_line_protocol

NOW = 1_700_000_000_000_000_000


def parse(body: bytes, **kwargs: object) -> ParseResult:
    return parse_line_protocol(body, default_time_ns=NOW, **kwargs)  # type: ignore[arg-type]


def only_rows(body: bytes, **kwargs: object) -> list[dict[str, object]]:
    result = parse(body, **kwargs)
    assert result.errors == []
    (measurement,) = result.batch
    rows: list[dict[str, object]] = measurement.table.to_pylist()
    return rows


def test_one_measurement_becomes_one_typed_table() -> None:
    body = (
        b"cpu,host=a,region=eu usage=1.5,count=3i,big=18446744073709551615u,"
        b'ok=true,note="hi" 1000\n'
    )
    result = parse(body)
    assert result.errors == []
    table = result.batch.measurements["cpu"].table
    expected_schema = measurement_schema(
        ["host", "region"],
        {
            "usage": FieldType.FLOAT,
            "count": FieldType.INTEGER,
            "big": FieldType.UNSIGNED,
            "ok": FieldType.BOOLEAN,
            "note": FieldType.STRING,
        },
    )
    assert table.schema.equals(expected_schema, check_metadata=True)
    assert table.to_pylist() == [
        {
            "time": 1000,
            "host": "a",
            "region": "eu",
            "big": 2**64 - 1,
            "count": 3,
            "note": "hi",
            "ok": True,
            "usage": 1.5,
        }
    ]


def test_points_of_several_measurements_split_into_tables_with_nulls_for_gaps() -> None:
    body = b"cpu,host=a v=1 1\nmem free=2i 2\ncpu,zone=z w=2 3\n"
    result = parse(body)
    assert result.errors == []
    assert list(result.batch.measurements) == ["cpu", "mem"]
    assert result.batch.measurements["cpu"].table.to_pylist() == [
        {"time": 1, "host": "a", "zone": None, "v": 1.0, "w": None},
        {"time": 3, "host": None, "zone": "z", "v": None, "w": 2.0},
    ]
    assert result.batch.measurements["mem"].table.column("free").type == pa.int64()


def test_tags_are_sorted_and_order_in_line_does_not_matter() -> None:
    rows = only_rows(b"m,z=1,a=2,m=3 v=1 5\nm,a=2,m=3,z=1 v=2 6")
    assert [list(row) for row in rows] == [["time", "a", "m", "z", "v"]] * 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1.0),
        ("1.5", 1.5),
        ("-1e3", -1000.0),
        ("1E+3", 1000.0),
        ("1e-3", 0.001),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("007", 7.0),
        ("-0", -0.0),
    ],
)
def test_float_spellings(text: str, expected: float) -> None:
    assert only_rows(f"m v={text}".encode())[0]["v"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12i", 12),
        ("-12i", -12),
        ("9223372036854775807i", 2**63 - 1),
        ("-9223372036854775808i", -(2**63)),
    ],
)
def test_integer_spellings(text: str, expected: int) -> None:
    assert only_rows(f"m v={text}".encode())[0]["v"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(s, True) for s in ("t", "T", "true", "True", "TRUE")]
    + [(s, False) for s in ("f", "F", "false", "False", "FALSE")],
)
def test_boolean_spellings(text: str, expected: bool) -> None:
    assert only_rows(f"m v={text}".encode())[0]["v"] is expected


def test_unsigned_values() -> None:
    assert only_rows(b"m v=0u,w=12u")[0] == {"time": NOW, "v": 0, "w": 12}


@pytest.mark.parametrize(
    ("body", "measurement", "tags", "field_key"),
    [
        (rb"my\ cpu,my\,tag=a\ b\,c\=d v=1", "my cpu", {"my,tag": "a b,c=d"}, "v"),
        (rb"cpu,t\=k=v f\=1\ \,x=1", "cpu", {"t=k": "v"}, "f=1 ,x"),
        (rb"m\=x v=1", r"m\=x", {}, "v"),  # measurement does not escape '='
        (rb"m\x,t=a\b v=1", r"m\x", {"t": r"a\b"}, "v"),  # other backslashes are literal
        # As in InfluxDB 1.x a separator after a backslash is escaped, so "\\," reads as a
        # literal backslash and an escaped comma: a name cannot end with a backslash.
        (rb"m\\,t=a v=1", "m\\,t=a", {}, "v"),
        (rb"m,t=a\\\,b v=1", "m", {"t": r"a\\,b"}, "v"),
        (b'm"x,t="y" v=1', 'm"x', {"t": '"y"'}, "v"),  # quotes only matter in field values
        ("mé,ключ=値 v=1".encode(), "mé", {"ключ": "値"}, "v"),
    ],
)
def test_escapes_in_names(
    body: bytes, measurement: str, tags: dict[str, str], field_key: str
) -> None:
    result = parse(body)
    assert result.errors == []
    (batch,) = result.batch
    assert batch.measurement == measurement
    row = batch.table.to_pylist()[0]
    assert {k: row[k] for k in batch.tag_keys} == tags
    assert list(batch.field_types) == [field_key]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'"plain"', "plain"),
        (r'""', ""),
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"keep\n\t"', r"keep\n\t"),
        (r'"a, b=c d"', "a, b=c d"),
        (r'"ends with \\"', "ends with \\"),
        ('"é 😀"', "é 😀"),
    ],
)
def test_string_values_and_their_escapes(text: str, expected: str) -> None:
    assert only_rows(f"m s={text},n=1i".encode())[0]["s"] == expected


@pytest.mark.parametrize(
    ("precision", "multiplier"),
    [
        ("ns", 1),
        ("n", 1),
        ("u", 1_000),
        ("us", 1_000),
        ("µ", 1_000),
        ("ms", 10**6),
        ("s", 10**9),
        ("m", 60 * 10**9),
        ("h", 3600 * 10**9),
    ],
)
def test_precision_scales_timestamps_to_nanoseconds(precision: str, multiplier: int) -> None:
    rows = only_rows(b"m v=1 7\nm v=2 -3", precision=precision)
    assert [row["time"] for row in rows] == [7 * multiplier, -3 * multiplier]


@pytest.mark.parametrize("precision", ["", "ns ", "sec", "mu", "H", "d"])
def test_unknown_precision_is_a_value_error(precision: str) -> None:
    with pytest.raises(ValueError, match="invalid precision"):
        parse(b"m v=1", precision=precision)


def test_missing_timestamp_takes_default_time_for_every_point() -> None:
    rows = only_rows(b"m v=1\nm v=2 5\nm v=3", precision="s")
    assert [row["time"] for row in rows] == [NOW, 5 * 10**9, NOW]


def test_comments_blank_lines_crlf_and_surrounding_whitespace_are_tolerated() -> None:
    body = b"# header\r\n\r\n   \n  m,t=a v=1 1  \r\n\t# indented comment\nm,t=b v=2 2\t\r\n"
    assert [row["t"] for row in only_rows(body)] == ["a", "b"]


def test_several_spaces_between_sections() -> None:
    assert only_rows(b"m,t=a   v=1   9")[0] == {"time": 9, "t": "a", "v": 1.0}


def test_empty_body_gives_empty_batch() -> None:
    result = parse(b"")
    assert result.errors == []
    assert len(result.batch) == 0


def test_duplicate_field_key_keeps_last_value_of_same_type() -> None:
    # InfluxDB 1.x stores the later value; only a type change is an error.
    assert only_rows(b"m v=1,v=2")[0]["v"] == 2.0


def test_field_type_is_first_come_per_measurement_only() -> None:
    result = parse(b"a v=1\nb v=1i\nb v=2i")
    assert result.errors == []
    assert result.batch.measurements["a"].field_types == {"v": FieldType.FLOAT}
    assert result.batch.measurements["b"].field_types == {"v": FieldType.INTEGER}


def test_many_points_of_one_series_share_one_parsed_key() -> None:
    lines = [f"cpu,host=h{i % 3} v={i}i {i}" for i in range(300)]
    rows = only_rows("\n".join(lines).encode())
    assert [row["v"] for row in rows] == list(range(300))
    assert [row["host"] for row in rows] == [f"h{i % 3}" for i in range(300)]
