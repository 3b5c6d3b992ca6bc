"""The row-by-row line protocol encoder ``crisp.collector.lp_encode`` replaced, kept
as the reference its vectorised encoder is compared against.

(Original docstring:) A ``PointBatch`` back to InfluxDB line protocol, for sinks
that speak ``/write``.

Escaping follows the 1.x grammar that ``crisp.protocols.line_protocol`` parses:
measurement names escape ``,`` and space; tag keys, tag values and field keys escape
``,``, ``=`` and space; string field values escape ``\\`` and ``"``. Any other
backslash is literal in line protocol, so it is written as is.

What line protocol cannot carry, and what happens to it:

* NaN and ±Inf float values (Prometheus stale markers, OTLP): the value is left out,
  and a point left with no field is left out; both are counted, never silent.
* A newline inside a name, tag or string ends the line in every parser: it is written
  as the two characters ``\\n`` (lossy, but the rest of the batch stays readable).
* A name ending in a backslash would escape the separator after it; such a point is
  refused by the sink and ends in the dead-letter file with the sink's reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from crisp.core.batch import KIND_FIELD, KIND_TAG, TIME_COLUMN, PointBatch, column_kind

_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\n"})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\n"})
_STRING = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


@dataclass(frozen=True)
class Encoded:
    body: bytes
    points: int
    dropped_values: int = 0
    dropped_points: int = 0


def escape_measurement(name: str) -> str:
    return name.translate(_MEASUREMENT)


def escape_key(text: str) -> str:
    """Tag keys, tag values and field keys."""
    return text.translate(_KEY)


def _float(value: Any) -> str | None:
    if not math.isfinite(value):
        return None
    return repr(float(value))


def _integer(value: Any) -> str | None:
    return f"{value}i"


def _unsigned(value: Any) -> str | None:
    return f"{value}u"


def _boolean(value: Any) -> str | None:
    return "true" if value else "false"


def _string(value: Any) -> str | None:
    return '"' + str(value).translate(_STRING) + '"'


def _formatter(arrow_type: pa.DataType) -> Callable[[Any], str | None]:
    if pa.types.is_floating(arrow_type):
        return _float
    if pa.types.is_signed_integer(arrow_type):
        return _integer
    if pa.types.is_unsigned_integer(arrow_type):
        return _unsigned
    if pa.types.is_boolean(arrow_type):
        return _boolean
    return _string


def encode_batch(batch: PointBatch) -> Encoded:
    """Line protocol for every point of ``batch``, nanosecond timestamps, tags sorted."""
    lines: list[str] = []
    dropped_values = 0
    dropped_points = 0
    for measurement in batch:
        table = measurement.table
        name = escape_measurement(measurement.measurement)
        tags = [
            (escape_key(f.name), table.column(f.name).to_pylist())
            for f in sorted(table.schema, key=lambda f: f.name)
            if column_kind(f) == KIND_TAG
        ]
        fields = [
            (escape_key(f.name) + "=", _formatter(f.type), table.column(f.name).to_pylist())
            for f in sorted(table.schema, key=lambda f: f.name)
            if column_kind(f) == KIND_FIELD
        ]
        times = table.column(TIME_COLUMN).to_pylist()
        for row, time_ns in enumerate(times):
            series = name + "".join(
                f",{key}={escape_key(values[row])}"
                for key, values in tags
                if values[row] is not None and values[row] != ""
            )
            parts = []
            for prefix, format_value, values in fields:
                value = values[row]
                if value is None:
                    continue
                text = format_value(value)
                if text is None:
                    dropped_values += 1
                    continue
                parts.append(prefix + text)
            if not parts:
                dropped_points += 1
                continue
            lines.append(f"{series} {','.join(parts)} {time_ns}\n")
    return Encoded("".join(lines).encode("utf-8"), len(lines), dropped_values, dropped_points)
