"""A ``PointBatch`` back to InfluxDB line protocol, for sinks that speak ``/write``.

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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.collector.lp_rows import Encoded, encode_rows, escape_key, escape_measurement
from crisp.core.batch import (
    KIND_FIELD,
    KIND_TAG,
    TIME_COLUMN,
    MeasurementBatch,
    PointBatch,
    column_kind,
)

# Rows below which a group of measurements is written row by row: Arrow compute's
# per-call cost (tens of µs, ~10 calls per column) outweighs Python's per row.
VECTOR_MIN_ROWS = 200


def encode_batch(batch: PointBatch) -> Encoded:
    """Line protocol for every point of ``batch``, nanosecond timestamps, tags sorted.

    Measurements with the same columns (every metric of a remote-write or OTLP body:
    a hundred measurements of one sample per series) are encoded together, column by
    column with Arrow compute, when they have enough rows to pay for its per-call
    cost; smaller groups are written row by row (``lp_rows``). Lines come out in
    the batch's measurement order either way.
    """
    groups: dict[tuple[tuple[str, str, bytes], ...], list[MeasurementBatch]] = {}
    for measurement in batch:
        if measurement.table.num_rows:
            signature = tuple(
                (f.name, str(f.type), column_kind(f)) for f in measurement.table.schema
            )
            groups.setdefault(signature, []).append(measurement)
    parts: dict[str, bytes] = {}
    total = Encoded(b"", 0)
    for members in groups.values():
        if sum(m.table.num_rows for m in members) >= VECTOR_MIN_ROWS:
            encoded = _encode_together(members, parts)
        else:
            encoded = Encoded(b"", 0)
            for member in members:
                one = encode_rows(member)
                parts[member.measurement] = one.body
                encoded = _plus(encoded, one)
        total = _plus(total, encoded)
    body = b"".join(parts.get(m.measurement, b"") for m in batch)
    return Encoded(body, total.points, total.dropped_values, total.dropped_points)


def _plus(left: Encoded, right: Encoded) -> Encoded:
    return Encoded(
        b"",
        left.points + right.points,
        left.dropped_values + right.dropped_values,
        left.dropped_points + right.dropped_points,
    )


def _encode_together(members: list[MeasurementBatch], parts: dict[str, bytes]) -> Encoded:
    """Measurements of identical columns, encoded as one table; each one's lines
    go to ``parts``."""
    table = pa.concat_tables([m.table for m in members])
    sizes = np.array([m.table.num_rows for m in members], dtype=np.int64)
    rows = int(sizes.sum())
    names = pa.array([escape_measurement(m.measurement) for m in members], type=pa.string())
    columns = sorted(table.schema, key=lambda f: f.name)
    series: list[pa.Array | str] = [names.take(np.repeat(np.arange(len(members)), sizes))]
    tag_names = [column.name for column in columns if column_kind(column) == KIND_TAG]
    if tag_names:
        series.append(_tags_text(table, tag_names))
    fields: pa.Array | None = None
    dropped_values = 0
    for column in columns:
        if column_kind(column) != KIND_FIELD:
            continue
        text, dropped = _field_text(_array(table, column.name))
        dropped_values += dropped
        pair = pc.binary_join_element_wise(escape_key(column.name) + "=", text, "")
        fields = pair if fields is None else _join_present(fields, pair)
    if fields is None:
        return Encoded(b"", 0, dropped_values, rows)
    present = pc.is_valid(fields).to_numpy(zero_copy_only=False)
    kept = int(present.sum())
    times = pc.cast(_array(table, TIME_COLUMN), pa.string())
    lines = pc.binary_join_element_wise(
        pc.binary_join_element_wise(*series, ""), " ", fields, " ", times, "\n", ""
    )
    if kept < rows:
        lines = lines.filter(pa.array(present))
    data, offsets = _text_bytes(lines)
    # Each measurement's lines are one run: cut the bytes at the runs' ends.
    starts = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum(np.add.reduceat(present, np.cumsum(sizes) - sizes), out=starts[1:])
    cuts = offsets[starts].tolist()
    for index, member in enumerate(members):
        parts[member.measurement] = data[cuts[index] : cuts[index + 1]]
    return Encoded(b"", kept, dropped_values, rows - kept)


def _array(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _tags_text(table: pa.Table, keys: list[str]) -> pa.Array:
    """``,key=value...`` of each row (sorted keys, null and empty tags left out).

    Rows share few tag combinations (a host's tags over all its metrics), so each
    distinct combination is written once, in Python, and Arrow repeats it.
    """
    codes: list[np.ndarray] = []
    values: list[list[str | None]] = []
    for key in keys:
        encoded = pc.dictionary_encode(_array(table, key))
        values.append(encoded.dictionary.to_pylist())
        codes.append(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False))
    combinations, inverse = _distinct_rows(codes, [len(options) for options in values])
    prefixes = ["," + escape_key(key) + "=" for key in keys]
    texts = [
        "".join(
            prefix + escape_key(text)
            for prefix, options, code in zip(prefixes, values, combination, strict=True)
            if code >= 0 and (text := options[code])
        )
        for combination in combinations.tolist()
    ]
    return pa.array(texts, type=pa.string()).take(inverse)


def _distinct_rows(
    codes: list[np.ndarray], cardinalities: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of the code columns (-1 = absent), and each row's index."""
    radix = 1
    for cardinality in cardinalities:
        radix *= cardinality + 1
    if radix >= 2**62:  # too many combinations for one int64 code: compare rows
        combinations, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        return combinations, inverse.reshape(-1)
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for column, cardinality in zip(codes, cardinalities, strict=True):
        combined = combined * (cardinality + 1) + (column + 1)
    distinct, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    del distinct
    return np.stack(codes, axis=1)[first], inverse.reshape(-1)


def _field_text(values: pa.Array) -> tuple[pa.Array, int]:
    """Each value as line protocol writes it (null where absent or not writable), and
    how many present values cannot be written (NaN, ±Inf)."""
    kind = values.type
    if pa.types.is_floating(kind):
        finite = pc.is_finite(values)
        dropped = pc.sum(pc.invert(finite)).as_py() or 0
        text = pc.cast(values, pa.string())
        # Arrow writes 2.0 as "2"; ".0" keeps it a float to every reader's eye.
        bare = pc.invert(pc.match_substring_regex(text, "[.e]"))
        text = pc.if_else(bare, pc.binary_join_element_wise(text, ".0", ""), text)
        return pc.if_else(finite, text, pa.scalar(None, pa.string())), dropped
    if pa.types.is_signed_integer(kind):
        return pc.binary_join_element_wise(pc.cast(values, pa.string()), "i", ""), 0
    if pa.types.is_unsigned_integer(kind):
        return pc.binary_join_element_wise(pc.cast(values, pa.string()), "u", ""), 0
    if pa.types.is_boolean(kind):
        return pc.if_else(values, "true", "false"), 0
    text = pc.cast(values, pa.string())
    if pc.any(pc.match_substring_regex(text, '[\\\\"\n]')).as_py():
        text = pc.replace_substring_regex(text, '([\\\\"])', "\\\\\\1")
        text = pc.replace_substring(text, "\n", "\\n")
    return pc.binary_join_element_wise('"', text, '"', ""), 0


def _join_present(left: pa.Array, right: pa.Array) -> pa.Array:
    """``left,right`` where both are present, else whichever is (null if neither)."""
    both = pc.binary_join_element_wise(left, right, ",")
    return pc.coalesce(both, left, right)


def _text_bytes(lines: pa.Array) -> tuple[bytes, np.ndarray]:
    """The UTF-8 bytes of all strings of ``lines`` (no nulls), back to back, and
    where each string starts in them (one more offset: the end)."""
    _, offset_buffer, data = lines.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ].astype(np.int64)
    start, end = int(offsets[0]), int(offsets[-1])
    body = data[start:end].to_pybytes() if data is not None else b""
    return body, offsets - start
