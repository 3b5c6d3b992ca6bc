"""Prometheus text exposition (0.0.4) and OpenMetrics text into a ``PointBatch``.

Mapping, as InfluxDB and VictoriaMetrics store Prometheus data: one sample is one
point of measurement = metric name, one ``float`` field ``value``, labels as tags.
Histogram and summary series (``_bucket`` with ``le``, ``_sum``, ``_count``,
``quantile``) are plain samples under their own names, so PromQL-style queries find
them as Prometheus would. ``# HELP``/``# TYPE`` lines are checked but carry no data.

Timestamps: integer milliseconds in 0.0.4. A body whose last line is ``# EOF`` is
OpenMetrics, where timestamps are (possibly fractional) seconds. No timestamp means
``default_time_ns``.

``extra_labels`` (e.g. ``job``/``instance`` from a push URL) are added to every
sample and win over a sample's own label of the same name: the server-side identity
is authoritative, as with Prometheus' ``honor_labels: false``. An empty extra value
removes that label (empty label = no label in Prometheus).

Labels named ``value`` or ``time`` would collide with the field and the time
column, so such samples are rejected with an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crisp.core.batch import FieldType, LineError, ParseResult
from crisp.protocols.columns import PointColumns
from crisp.protocols.prometheus_text.sample_line import (
    LABEL_NAME,
    METRIC_NAME,
    SampleError,
    clip,
    parse_sample,
)

METRIC_TYPES = frozenset(
    {"counter", "gauge", "histogram", "summary", "untyped", "unknown"}
    | {"gaugehistogram", "stateset", "info"}
)
ECHO_LIMIT = 200
VALUE_FIELD = "value"


def parse_prometheus_text(
    body: bytes, *, default_time_ns: int, extra_labels: Mapping[str, str] = {}
) -> ParseResult:
    """Parse a text exposition body; one ``LineError`` per rejected line (1-based)."""
    if isinstance(default_time_ns, bool) or not isinstance(default_time_ns, int):
        raise ValueError(f"default_time_ns must be an int, not {type(default_time_ns).__name__}")
    extra = _checked_extra_labels(extra_labels)
    lines = _split_lines(body)
    seconds_timestamps = _is_openmetrics(body)
    columns = PointColumns()
    errors: list[LineError] = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, UnicodeDecodeError):
            errors.append(LineError(number, "", f"line is not valid UTF-8: {line.reason}"))
            continue
        text = line.rstrip("\r").lstrip(" \t")
        if not text:
            continue
        try:
            if text[0] == "#":
                _check_comment(text)
                continue
            sample = parse_sample(text, seconds_timestamps=seconds_timestamps)
        except SampleError as exc:
            errors.append(LineError(number, text[:ECHO_LIMIT], str(exc)))
            continue
        tags = {**sample.labels, **extra} if extra else sample.labels
        time_ns = default_time_ns if sample.time_ns is None else sample.time_ns
        reason = columns.add(
            sample.name, tags, {VALUE_FIELD: (FieldType.FLOAT, sample.value)}, time_ns
        )
        if reason is not None:
            errors.append(LineError(number, text[:ECHO_LIMIT], reason))
    return ParseResult(columns.to_point_batch(), errors)


def _checked_extra_labels(extra_labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in extra_labels.items():
        if not isinstance(key, str) or LABEL_NAME.match(key) is None:
            raise ValueError(f"extra label name {key!r} is not a valid Prometheus label name")
        if not isinstance(value, str):
            raise ValueError(f"extra label {key!r} must have a str value")
    return dict(extra_labels)


def _split_lines(body: bytes) -> Iterable[str | UnicodeDecodeError]:
    # Decoding once is fast; only a body with bad bytes is decoded line by line, so
    # a bad line is reported without losing the others.
    try:
        return body.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return [_decode_line(raw) for raw in body.split(b"\n")]


def _decode_line(raw: bytes) -> str | UnicodeDecodeError:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc


def _is_openmetrics(body: bytes) -> bool:
    # OpenMetrics requires "# EOF" as the last line; 0.0.4 never ends with it.
    return body.rstrip(b" \t\r\n").rsplit(b"\n", 1)[-1].strip() == b"# EOF"


def _check_comment(text: str) -> None:
    tokens = text[1:].split(None, 3)
    if len(tokens) < 2 or tokens[0] not in ("HELP", "TYPE"):
        return  # A free comment; "# UNIT" too, which Crisp does not use.
    if METRIC_NAME.fullmatch(tokens[1]) is None:
        raise SampleError(f"invalid metric name {clip(tokens[1])!r} in # {tokens[0]}")
    if tokens[0] == "TYPE" and (len(tokens) != 3 or tokens[2] not in METRIC_TYPES):
        raise SampleError(f"invalid # TYPE line: expected one of {sorted(METRIC_TYPES)}")
