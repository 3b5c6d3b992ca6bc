"""One sample line of the Prometheus text format: ``name{label="v",...} value [ts]``.

Grammar from the exposition format 0.0.4 and OpenMetrics 1.0: blanks and tabs separate
tokens; label values are double-quoted with the escapes ``\\\\``, ``\\"`` and ``\\n``;
values are Go floats (``NaN``, ``+Inf``, ``-Inf`` included); an OpenMetrics exemplar
(`` # {...} value [ts]``) may follow and is dropped.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# One `name="value"` pair and what follows it: `,` (maybe then `}`) or `}`.
_LABEL_PAIR = re.compile(
    r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(,[ \t]*)?'
)
# Fast path for the common line (no escapes, no exemplar, no oddities): one regex
# instead of a scan; anything it does not match goes to the careful parser, which
# also words the error. Label values here contain neither quotes nor backslashes.
# Each blank run has exactly one quantifier able to take it, and those are
# possessive (*+): a failing line then costs linear time, not quadratic.
_FAST_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*+[ \t]*+=[ \t]*+"[^"\\]*+"[ \t]*+'
_FAST_LINE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*+)"
    rf"(?:[ \t]*+\{{[ \t]*+((?:{_FAST_LABEL}(?:,[ \t]*+{_FAST_LABEL})*+(?:,[ \t]*+)?)?)\}})?"
    r"[ \t]++([^ \t]++)(?:[ \t]++([^ \t#]++))?[ \t]*+\Z"
)
_FAST_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"([^"]*)"')
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_BLANKS = re.compile(r"[ \t]+")
_INT = re.compile(r"[+-]?[0-9]+\Z")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


class SampleError(Exception):
    """A sample line is malformed; the message is the reason shown to the client."""


class Sample(NamedTuple):
    # A NamedTuple, not a frozen dataclass: built once per line, and its
    # construction costs a third as much.
    name: str
    labels: dict[str, str]
    value: float
    time_ns: int | None


def parse_sample(line: str, *, seconds_timestamps: bool) -> Sample:
    """Read one sample line (already stripped of leading blanks and the newline)."""
    fast = _FAST_LINE.match(line)
    if fast is not None:
        name, label_text, value_token, time_token = fast.groups()
        labels: dict[str, str] = {}
        if label_text:
            pairs = _FAST_PAIR.findall(label_text)
            labels = dict(pairs)
            if len(labels) != len(pairs) or "__name__" in labels:
                return _parse_sample_slowly(line, seconds_timestamps)
        value = parse_value(value_token)
        time_ns = None if time_token is None else _parse_timestamp(time_token, seconds_timestamps)
        return Sample(name, labels, value, time_ns)
    return _parse_sample_slowly(line, seconds_timestamps)


def _parse_sample_slowly(line: str, seconds_timestamps: bool) -> Sample:
    match = METRIC_NAME.match(line)
    if match is None:
        raise SampleError("expected a metric name")
    name = match.group()
    position = match.end()
    labels: dict[str, str] = {}
    rest = line[position:].lstrip(" \t")
    if rest.startswith("{"):
        labels, rest = _parse_labels(rest)
    elif rest and position < len(line) and line[position] not in " \t":
        raise SampleError(f"invalid character {line[position]!r} in metric name")
    # Only blanks and tabs separate tokens; str.split() would also split on \x1c etc.
    tokens = _BLANKS.split(rest.strip(" \t"))
    if tokens == [""]:
        tokens = []
    if "#" in tokens:
        # OpenMetrics exemplar: Crisp stores samples only, so drop it.
        tokens = tokens[: tokens.index("#")]
    if not tokens:
        raise SampleError("expected a value after the metric name and labels")
    if len(tokens) > 2:
        raise SampleError(f"unexpected text after the timestamp: {clip(' '.join(tokens[2:3]))!r}")
    value = parse_value(tokens[0])
    time_ns = None
    if len(tokens) == 2:
        time_ns = _parse_timestamp(tokens[1], seconds_timestamps)
    return Sample(name, labels, value, time_ns)


def _parse_labels(text: str) -> tuple[dict[str, str], str]:
    """Labels from ``{...}`` at the start of text, and the text after the ``}``."""
    labels: dict[str, str] = {}
    position = 1
    while True:
        closing = _skip_blanks(text, position)
        if closing < len(text) and text[closing] == "}":
            return labels, text[closing + 1 :]
        match = _LABEL_PAIR.match(text, position)
        if match is None:
            raise SampleError(f"invalid label syntax at {clip(text[position:], 20)!r}")
        key, raw_value, comma = match.groups()
        if key in labels:
            raise SampleError(f'duplicate label "{clip(key)}"')
        if key == "__name__":
            raise SampleError('label "__name__" is not allowed in braces here')
        labels[key] = unescape(raw_value) if "\\" in raw_value else raw_value
        position = match.end()
        if comma is None:
            closing = position
            if closing >= len(text) or text[closing] != "}":
                raise SampleError("expected ',' or '}' after a label value")


def unescape(raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped = _ESCAPES.get(match.group(1))
        if escaped is None:
            raise SampleError(f"invalid escape sequence '\\{match.group(1)}' in label value")
        return escaped

    return _ESCAPE.sub(replace, raw)


def parse_value(token: str) -> float:
    # Python's float() also takes "1_000", which Go's ParseFloat rejects.
    if "_" in token:
        raise SampleError(f"invalid sample value {clip(token)!r}")
    try:
        return float(token)
    except ValueError:
        raise SampleError(f"invalid sample value {clip(token)!r}") from None


def _parse_timestamp(token: str, seconds: bool) -> int:
    if seconds:
        # OpenMetrics: float seconds; Decimal keeps nanoseconds exact.
        try:
            decimal = Decimal(token)
        except InvalidOperation:
            raise SampleError(f"invalid timestamp {clip(token)!r}") from None
        if not decimal.is_finite() or "_" in token:
            raise SampleError(f"invalid timestamp {clip(token)!r}")
        # Checked before int(): "1e999999999" would otherwise build a giant integer.
        if decimal.adjusted() > 12:
            raise SampleError(f"timestamp {clip(token)} is out of the int64 nanosecond range")
        time_ns = int(decimal.scaleb(9))
    elif token.isdigit() and token.isascii() and len(token) < 19:
        # Fast path for the usual plain positive milliseconds.
        time_ns = int(token) * NS_PER_MS
    else:
        if _INT.match(token) is None:
            raise SampleError(f"invalid timestamp {clip(token)!r}: expected integer milliseconds")
        # int() refuses over 4300 digits; anything over 20 is out of range anyway.
        if len(token) > 21:
            raise SampleError(f"timestamp {clip(token)} is out of the int64 nanosecond range")
        time_ns = int(token) * NS_PER_MS
    if not INT64_MIN <= time_ns <= INT64_MAX:
        raise SampleError(f"timestamp {clip(token)} is out of the int64 nanosecond range")
    return time_ns


def clip(text: str, limit: int = 40) -> str:
    """Input quoted in an error, cut so a huge token cannot bloat the response."""
    return text if len(text) <= limit else text[:limit] + "..."


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t":
        position += 1
    return position
