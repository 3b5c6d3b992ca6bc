"""A line protocol body → ``ParseResult``: the good points plus one error per bad line.

Bodies of a few dozen lines or more whose lines all have one shape (one measurement,
the same fields in the same order: generated traffic) are parsed by ``uniform_lines``
with NumPy; other bodies of that size go through the vectorised path
(``columnar_lines``): Arrow compute kernels over the whole body for the common lines
(no escapes), every other line through the per-line parsers (``single_line``). Small
bodies, bodies that are not valid UTF-8 and bodies with type conflicts between lines
are parsed line by line, in order, which is what defines the result; the vectorised
path only exists to produce the same result faster.
"""

from __future__ import annotations

from collections.abc import Iterator

from crisp.core.batch import LineError, ParseResult
from crisp.protocols.line_protocol.columnar_lines import parse_vectorised
from crisp.protocols.line_protocol.columns import BatchColumns
from crisp.protocols.line_protocol.limits import DEFAULT_LIMITS, LineProtocolLimits
from crisp.protocols.line_protocol.precision import precision_multiplier
from crisp.protocols.line_protocol.single_line import (
    SURROUNDING_WHITESPACE,
    LineParser,
    shorten,
)
from crisp.protocols.line_protocol.uniform_lines import parse_uniform

# Below this many lines the fixed cost of a few dozen Arrow kernel calls outweighs them.
VECTORISE_MIN_LINES = 64


def _numbered_lines(body: bytes, errors: list[LineError]) -> Iterator[tuple[int, str]]:
    """(1-based number, decoded line); lines that are not UTF-8 become errors."""
    # UTF-8 never puts 0x0A inside a multi-byte character, so byte lines and text
    # lines coincide and the numbering stays right.
    for number, raw in enumerate(body.split(b"\n"), start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = shorten(raw.decode("utf-8", errors="replace").strip(SURROUNDING_WHITESPACE))
            errors.append(LineError(number, shown, "invalid UTF-8"))


def parse_sequentially(
    numbered_lines: Iterator[tuple[int, str]],
    line_parser: LineParser,
    default_time_ns: int,
    errors: list[LineError],
) -> ParseResult:
    """The reference behaviour: each line in order, first type of a field wins."""
    columns = BatchColumns()
    for number, raw_line in numbered_lines:
        parsed = line_parser.parse(number, raw_line)
        if parsed is None:
            continue
        if isinstance(parsed, LineError):
            errors.append(parsed)
            continue
        time_ns = default_time_ns if parsed.time_ns is None else parsed.time_ns
        reason = columns.add(parsed, time_ns)
        if reason is not None:
            errors.append(
                LineError(number, shorten(raw_line.strip(SURROUNDING_WHITESPACE)), reason)
            )
    errors.sort(key=lambda error: error.line_number)
    return ParseResult(columns.to_point_batch(), errors)


def parse_line_protocol(
    body: bytes,
    *,
    precision: str = "ns",
    default_time_ns: int,
    limits: LineProtocolLimits = DEFAULT_LIMITS,
) -> ParseResult:
    """Parse an InfluxDB line protocol body into columnar points.

    Like InfluxDB 1.x, good lines are kept when others fail: every rejected line gets a
    ``LineError`` and the rest are in ``batch``. Points without a timestamp get
    ``default_time_ns`` (the receive time, the same for the whole body). Within one
    body the first type seen for a measurement's field wins; later lines giving that
    field another type are rejected as a field type conflict. A name cannot be both a
    tag and a field of one measurement (one column per name): the later line is
    rejected.

    Raises ``ValueError`` only for an unknown ``precision``.
    """
    multiplier = precision_multiplier(precision)
    line_parser = LineParser(multiplier, limits)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        errors: list[LineError] = []
        return parse_sequentially(
            _numbered_lines(body, errors), line_parser, default_time_ns, errors
        )
    # Arrow's plain string arrays address at most 2 GiB; no sane write body comes close.
    if len(body) < 2**31:
        result = parse_uniform(body, line_parser, default_time_ns, VECTORISE_MIN_LINES)
        if result is not None:
            return result
        if text.count("\n") >= VECTORISE_MIN_LINES:
            result = parse_vectorised(text, line_parser, default_time_ns)
            if result is not None:
                return result
    numbered = enumerate(text.split("\n"), start=1)
    return parse_sequentially(numbered, line_parser, default_time_ns, [])
