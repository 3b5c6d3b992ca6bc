"""Property tests: the parser against an independent reference, and under fuzzing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisp.core.batch import TIME_COLUMN, LineError, ParseResult
from crisp.protocols.line_protocol import DEFAULT_LIMITS, parse_line_protocol
from crisp.protocols.line_protocol.line_syntax import (
    LineSyntaxError,
    SeriesKeyCache,
    parse_escaped_line,
    parse_plain_line,
)
from crisp.protocols.line_protocol.parser import VECTORISE_MIN_LINES

from . import reference_parser
from .helpers import points_by_measurement, reference_by_measurement
from .strategies import PRECISIONS, mutated_bodies, valid_bodies

DEFAULT_TIME = 1_700_000_000_123_456_789
PROPERTY_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _both(body: bytes, precision: str) -> tuple[ParseResult, reference_parser.RefResult]:
    result = parse_line_protocol(body, precision=precision, default_time_ns=DEFAULT_TIME)
    reference = reference_parser.parse_body(body, PRECISIONS[precision], DEFAULT_TIME)
    return result, reference


@PROPERTY_SETTINGS
@given(valid_bodies())
def test_valid_bodies_parse_like_the_reference(case: tuple[bytes, str]) -> None:
    body, precision = case
    result, reference = _both(body, precision)
    assert result.errors == []
    assert reference.error_lines == []
    assert points_by_measurement(result) == reference_by_measurement(reference)


@PROPERTY_SETTINGS
@given(mutated_bodies())
def test_damaged_bodies_fail_on_the_same_lines_as_the_reference(case: tuple[bytes, str]) -> None:
    body, precision = case
    result, reference = _both(body, precision)
    assert [error.line_number for error in result.errors] == reference.error_lines
    assert points_by_measurement(result) == reference_by_measurement(reference)


@PROPERTY_SETTINGS
@given(st.one_of(valid_bodies(), mutated_bodies()))
def test_plain_path_agrees_with_full_grammar_path(case: tuple[bytes, str]) -> None:
    body, precision = case
    multiplier = PRECISIONS[precision]
    cache = SeriesKeyCache(DEFAULT_LIMITS)
    for raw in body.decode("utf-8").split("\n"):
        line = raw.strip(" \t\r")
        if not line or line.startswith("#") or "\\" in line:
            continue
        plain = parse_plain_line(line, cache, multiplier, DEFAULT_LIMITS)
        try:
            full = parse_escaped_line(line, multiplier, DEFAULT_LIMITS)
        except LineSyntaxError:
            assert plain is None
        else:
            # None only hands the line to the full grammar (a string holding a separator).
            assert plain is None or plain == full


def _check_result_shape(body: bytes, result: ParseResult) -> None:
    line_count = body.count(b"\n") + 1
    for error in result.errors:
        assert isinstance(error, LineError)
        assert 1 <= error.line_number <= line_count
        assert error.reason
        assert len(error.line) <= 100
    for measurement in result.batch:
        assert measurement.table.schema.field(TIME_COLUMN).nullable is False
        assert measurement.table.column(TIME_COLUMN).null_count == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(sorted(PRECISIONS)))
def test_arbitrary_bytes_never_raise(body: bytes, precision: str) -> None:
    result = parse_line_protocol(body, precision=precision, default_time_ns=0)
    _check_result_shape(body, result)


_LP_ALPHABET = st.sampled_from(
    [
        b"a",
        b"b",
        b"1",
        b"-",
        b".",
        b"e",
        b"i",
        b"u",
        b"t",
        b",",
        b"=",
        b" ",
        b"\\",
        b'"',
        b"\n",
        b"\r",
        b"\t",
        b"#",
        b"\xff",
        b"\xc3\xa9",
        b"time",
        b"true",
        b"9223372036854775808",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LP_ALPHABET, max_size=60).map(b"".join))
def test_line_protocol_shaped_noise_never_raises_and_matches_reference(body: bytes) -> None:
    result = parse_line_protocol(body, default_time_ns=0)
    _check_result_shape(body, result)
    reference = reference_parser.parse_body(body, 1, 0)
    assert [error.line_number for error in result.errors] == reference.error_lines
    assert points_by_measurement(result) == reference_by_measurement(reference)


@PROPERTY_SETTINGS
@given(st.one_of(valid_bodies(plain=True, max_lines=20), mutated_bodies(plain=True, max_lines=20)))
def test_large_bodies_through_the_vectorised_path_match_the_reference(
    case: tuple[bytes, str],
) -> None:
    body, precision = case
    # Repeating the body crosses the size where the public entry point vectorises.
    large = b"\n".join([body] * (VECTORISE_MIN_LINES // (body.count(b"\n") + 1) + 1))
    assert large.count(b"\n") >= VECTORISE_MIN_LINES
    result, reference = _both(large, precision)
    assert [error.line_number for error in result.errors] == reference.error_lines
    assert points_by_measurement(result) == reference_by_measurement(reference)
