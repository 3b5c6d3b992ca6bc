"""The vectorised path must give exactly what the line-by-line path gives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisp.core.batch import ParseResult
from crisp.protocols.line_protocol import DEFAULT_LIMITS, parse_line_protocol
from crisp.protocols.line_protocol.columnar_lines import parse_vectorised
from crisp.protocols.line_protocol.parser import VECTORISE_MIN_LINES, parse_sequentially
from crisp.protocols.line_protocol.single_line import LineParser

from .strategies import PRECISIONS, mutated_bodies, valid_bodies

NOW = 1_700_000_000_000_000_000


def sequential(text: str, precision: str = "ns") -> ParseResult:
    parser = LineParser(PRECISIONS[precision], DEFAULT_LIMITS)
    return parse_sequentially(enumerate(text.split("\n"), start=1), parser, NOW, [])


def vectorised(text: str, precision: str = "ns") -> ParseResult | None:
    return parse_vectorised(text, LineParser(PRECISIONS[precision], DEFAULT_LIMITS), NOW)


def assert_same(actual: ParseResult, expected: ParseResult) -> None:
    assert actual.errors == expected.errors
    assert list(actual.batch.measurements) == list(expected.batch.measurements)
    for name, batch in expected.batch.measurements.items():
        table = actual.batch.measurements[name].table
        assert table.schema.equals(batch.table.schema, check_metadata=True), name
        assert table.to_pylist() == batch.table.to_pylist(), name


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        valid_bodies(plain=True, max_lines=20),
        mutated_bodies(plain=True, max_lines=20),
        valid_bodies(max_lines=10),
    )
)
def test_vectorised_equals_sequential(case: tuple[bytes, str]) -> None:
    body, precision = case
    text = body.decode("utf-8")
    result = vectorised(text, precision)
    if result is not None:  # None: a type conflict made line order matter
        assert_same(result, sequential(text, precision))


def test_mixed_body_through_public_api() -> None:
    lines = []
    for i in range(200):
        lines += [
            f"cpu,host=h{i % 7},dc=eu usage={i}.5,count={i}i,big={2**64 - 1 - i}u,up=t {i}",
            f'cpu,host=h{i % 7} note="n{i}, \\"q\\"",count={i}i {i}',
            rf"disk\ io,path=/a\,b reads={i}i",
            "",
            "# comment",
            f"mem free={i}u,neg=-{i}i,small={i}e-3 {-i}",
            f"mem free={i}i" if i % 50 == 0 else f"mem free={i}u",
            f"bad line {i}",
            f"big v=9223372036854775807i,w=-9223372036854775808i {9223372036854775807 - i}",
            f"long n=12345678901234567890123i {i}",
        ]
    text = "\n".join(lines)
    assert len(lines) > VECTORISE_MIN_LINES
    result = parse_line_protocol(text.encode(), default_time_ns=NOW)
    expected = sequential(text)
    assert_same(result, expected)
    assert {error.reason for error in expected.errors} == {
        'field type conflict: field "free" is type integer, already unsigned in this batch',
        "invalid field format",
        "integer out of range",
    }


def test_plain_body_stays_vectorised_and_matches() -> None:
    text = "\n".join(
        f"cpu,host=h{i % 5},rack={i % 3} a={i}i,b={i / 3},c={'t' if i % 2 else 'F'} {i * 10}"
        for i in range(500)
    )
    result = vectorised(text, "ms")
    assert result is not None
    assert result.errors == []
    assert_same(result, sequential(text, "ms"))
    table = result.batch.measurements["cpu"].table
    assert table.column("time").to_pylist()[:3] == [0, 10_000_000, 20_000_000]


def test_type_conflict_between_lines_falls_back_to_line_order() -> None:
    text = "\n".join(["m v=1i"] * 40 + ["m v=1"] + ["m v=2i"] * 40)
    assert vectorised(text) is None
    result = parse_line_protocol(text.encode(), default_time_ns=NOW)
    assert [(e.line_number, e.reason) for e in result.errors] == [
        (41, 'field type conflict: field "v" is type float, already integer in this batch')
    ]
    assert result.batch.num_points == 80


def test_repeated_field_and_tag_clash_lines_use_per_line_rules() -> None:
    text = "\n".join(["m,t=a v=1i,v=2i", "m,t=a t=1i", "m,t=a w=3i 1"] * 30)
    result = vectorised(text)
    assert result is not None
    assert_same(result, sequential(text))
    assert result.batch.measurements["m"].table.column("v").to_pylist()[:3] == [2, None, 2]


_TOKENS = st.sampled_from(
    [
        *("m", "a", "t", "1", "-", ".", "e", "i", "u", ",", "=", " ", "  ", "\\", '"', "#", "é"),
        *("\t", "\r", "time", "true", "1i", "2u", "9223372036854775808", "18446744073709551616"),
        *("m,t=a v=1 ", "m v=1i ", "m v=t ", "\n", "\n", "\n"),
    ]
)


@settings(max_examples=250, deadline=None)
@given(st.lists(_TOKENS, max_size=120).map("".join))
def test_vectorised_noise_never_raises_and_matches(text: str) -> None:
    result = vectorised(text)
    if result is not None:
        assert_same(result, sequential(text))


def test_values_at_type_and_time_bounds_match_line_by_line() -> None:
    bound = (2**63 - 1) // PRECISIONS["h"]
    lines = [
        f"m a={value},b={unsigned},c=1e{exponent} {stamp}"
        for value, unsigned, exponent, stamp in [
            ("9223372036854775807i", "18446744073709551615u", 308, bound),
            ("-9223372036854775808i", "0u", -400, -bound),
            ("9223372036854775808i", "18446744073709551616u", 309, bound + 1),
            ("-0i", "00u", 0, -bound - 1),
            ("99999999999999999999i", "99999999999999999999u", 5, "9223372036854775808"),
        ]
    ] * 20
    text = "\n".join(lines)
    result = vectorised(text, "h")
    assert result is not None
    expected = sequential(text, "h")
    assert_same(result, expected)
    assert {e.reason for e in expected.errors} == {
        "integer out of range",
        "invalid timestamp: out of range for int64 nanoseconds",
    }
