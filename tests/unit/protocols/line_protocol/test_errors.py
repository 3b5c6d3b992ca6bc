"""Behaviour: bad lines become ``LineError``s with line number and reason; good lines stay."""

from __future__ import annotations

import pytest

from crisp.core.batch import LineError, ParseResult
from crisp.protocols.line_protocol import LineProtocolLimits, parse_line_protocol

NOW = 1_700_000_000_000_000_000


def parse(body: bytes, **kwargs: object) -> ParseResult:
    return parse_line_protocol(body, default_time_ns=NOW, **kwargs)  # type: ignore[arg-type]


def single_error(body: bytes, **kwargs: object) -> LineError:
    result = parse(body, **kwargs)
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"cpu", "missing fields"),
        (b"cpu,host=a", "missing fields"),
        (b"cpu,host=a ", "missing fields"),
        (b",host=a v=1", "missing measurement"),
        (b"cpu,=a v=1", "missing tag key"),
        (b"cpu,host v=1", "missing tag value"),
        (b"cpu,host= v=1", "missing tag value"),
        (b"cpu,host=a=b v=1", "invalid tag format"),
        (b"cpu,host=a,host=b v=1", 'duplicate tag key "host"'),
        (b"cpu,time=a v=1", 'invalid tag key "time": it names the timestamp column'),
        (b"cpu time=1", 'invalid field key "time": it names the timestamp column'),
        (b"cpu,host=a host=1", 'tag key "host" is also used as a field key'),
        (b"cpu =1", "missing field key"),
        (b"cpu v=1,=2", "missing field key"),
        (b"cpu v", "invalid field format"),
        (b"cpu v=1,w", "invalid field format"),
        (b"cpu v=1,", "invalid field format"),
        (b"cpu v=1, w=2", "invalid field format"),
        (b'cpu v="a"b', "invalid field format"),
        (b"cpu v=", "missing field value"),
        (b"cpu v=,w=1", "missing field value"),
        (b'cpu v="abc', "unbalanced quotes"),
        (b'cpu v="abc\\"', "unbalanced quotes"),
        (b"cpu v=1.1.1", "invalid number"),
        (b"cpu v=+1", "invalid number"),
        (b"cpu v=1e", "invalid number"),
        (b"cpu v=.", "invalid number"),
        (b"cpu v=-", "invalid number"),
        (b"cpu v=0x10", "invalid number"),
        (b"cpu v=1_000", "invalid number"),
        (b"cpu v=NaN", "invalid number"),
        (b"cpu v=nan", "invalid number"),
        (b"cpu v=inf", "invalid number"),
        (b"cpu v=-Inf", "invalid number"),
        (b"cpu v=1.5i", "invalid number"),
        (b"cpu v=1e3i", "invalid number"),
        (b"cpu v=-1u", "invalid number"),
        (b"cpu v=1iu", "invalid number"),
        (b"cpu v=abc", "invalid number"),
        (b"cpu v=tru", "invalid boolean"),
        (b"cpu v=tRUE", "invalid boolean"),
        (b"cpu v=Fals", "invalid boolean"),
        (b"cpu v=9223372036854775808i", "integer out of range"),
        (b"cpu v=-9223372036854775809i", "integer out of range"),
        (b"cpu v=18446744073709551616u", "unsigned integer out of range"),
        (b"cpu v=1e999", "float out of range"),
        (
            b"cpu v=1,v=2i",
            'field type conflict: field "v" is type integer, already float in this line',
        ),
        (b"cpu v=1 12a", "invalid timestamp"),
        (b"cpu v=1 1.5", "invalid timestamp"),
        (b"cpu v=1 -", "invalid timestamp"),
        (b"cpu v=1 +5", "invalid timestamp"),
        (b"cpu v=1 1 2", "invalid timestamp: unexpected text after it"),
        (b"cpu v=1 9223372036854775808", "invalid timestamp: out of range for int64 nanoseconds"),
        (b"cpu\tv=1", "missing fields"),
    ],
)
def test_reasons(line: bytes, reason: str) -> None:
    error = single_error(b"ok v=1\n" + line + b"\nok v=2")
    assert error == LineError(2, line.decode().strip(), reason)


def test_timestamp_out_of_range_only_after_scaling() -> None:
    assert parse(b"m v=1 9223372036", precision="s").errors == []
    error = single_error(b"m v=1 9223372037", precision="s")
    assert error.reason == "invalid timestamp: out of range for int64 nanoseconds"


def test_good_lines_are_kept_around_bad_ones_and_errors_are_numbered() -> None:
    body = b"m v=1 1\nm v=oops 2\n# c\n\nm v=3 3\nm,t= v=4 4\nm v=5 5\n"
    result = parse(body)
    assert [(e.line_number, e.reason) for e in result.errors] == [
        (2, "invalid number"),
        (6, "missing tag value"),
    ]
    assert [row["v"] for row in result.batch.measurements["m"].table.to_pylist()] == [1, 3, 5]


def test_field_type_conflict_rejects_later_lines_first_type_wins() -> None:
    body = b"cpu x=1.5 1\ncpu x=2i 2\ncpu x=3 3\ncpu,h=a x=true,y=1 4"
    result = parse(body)
    assert [str(e) for e in result.errors] == [
        'line 2: field type conflict: field "x" is type integer, already float in this batch'
        " ('cpu x=2i 2')",
        'line 4: field type conflict: field "x" is type boolean, already float in this batch'
        " ('cpu,h=a x=true,y=1 4')",
    ]
    table = result.batch.measurements["cpu"].table
    # The rejected line contributes nothing, not even its tag or its other field.
    assert table.column_names == ["time", "x"]
    assert table.column("x").to_pylist() == [1.5, 3.0]


def test_tag_and_field_cannot_share_a_name_across_lines_of_a_measurement() -> None:
    body = b"m,k=a v=1\nm k=2\nn k=2\nn,k=a v=1\n"
    result = parse(body)
    assert [(e.line_number, e.reason) for e in result.errors] == [
        (2, 'field key "k" is already a tag of measurement "m" in this batch'),
        (4, 'tag key "k" is already a field of measurement "n" in this batch'),
    ]
    assert result.batch.num_points == 2


def test_line_too_long() -> None:
    limits = LineProtocolLimits(max_line_bytes=20)
    body = b"m v=1\nm,t=" + b"x" * 30 + b" v=1\nm v=2"
    result = parse(body, limits=limits)
    assert [(e.line_number, e.reason) for e in result.errors] == [
        (2, "line too long (38 bytes > 20)")
    ]
    assert result.batch.num_points == 2


def test_line_length_counts_bytes_not_characters() -> None:
    limits = LineProtocolLimits(max_line_bytes=12)
    assert parse(b'm v="abcd"', limits=limits).errors == []
    error = single_error('m v="éééé"'.encode(), limits=limits)
    assert error.reason == "line too long (14 bytes > 12)"


def test_default_line_limit_is_64_kib() -> None:
    line = b"m v=" + b"1" * 70_000
    assert single_error(line).reason == "line too long (70004 bytes > 65536)"


def test_too_many_tags() -> None:
    tags = ",".join(f"t{i}=v" for i in range(300))
    error = single_error(f"m,{tags} v=1".encode())
    assert error.reason == "too many tags (300 > 256)"
    limits = LineProtocolLimits(max_tags=300)
    assert parse(f"m,{tags} v=1".encode(), limits=limits).errors == []


def test_too_many_fields() -> None:
    limits = LineProtocolLimits(max_fields=3)
    error = single_error(b"m a=1,b=2,c=3,d=4", limits=limits)
    assert error.reason == "too many fields (4 > 3)"


@pytest.mark.parametrize("name", ["max_line_bytes", "max_tags", "max_fields"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        LineProtocolLimits(**{name: 0})


def test_invalid_utf8_rejects_only_that_line() -> None:
    result = parse(b"m v=1\nm,t=\xff\xfe v=2\nm v=3")
    assert [(e.line_number, e.reason) for e in result.errors] == [(2, "invalid UTF-8")]
    assert result.batch.num_points == 2


def test_error_shows_a_shortened_line() -> None:
    line = b"m v=" + b"x" * 500
    error = single_error(line)
    assert error.reason == "invalid number"
    assert len(error.line) == 100
    assert error.line.endswith("...")
    assert error.line.startswith("m v=xxx")


def test_newline_inside_a_string_is_not_supported() -> None:
    # InfluxDB 2.x documents newlines in string values as unsupported; splitting on
    # every newline keeps the line numbering a user sees in their editor.
    result = parse(b'm s="a\nb"')
    assert [(e.line_number, e.reason) for e in result.errors] == [
        (1, "unbalanced quotes"),
        (2, "missing fields"),
    ]
