"""A vectorised reader for the common shape of remote-write requests.

The scalar reader (``wire`` + ``parser``) costs one Python step per label and per
sample: about 40 µs per sample of a Prometheus-shaped body (one sample per series,
a dozen labels). This reader walks every series at once with NumPy (``vector_wire``:
round *k* reads the *k*-th field of every series still open), then groups series
by tag set: senders sort labels, so ``__name__`` comes first and the labels after
it are one byte range per series, which many series of a body share (every metric
of one target). Each distinct range is decoded once. Each measurement's table is
then a slice of one table sorted by measurement, its tag columns picked by a
presence matrix.

It only reads bodies it can read exactly as the scalar reader does, and returns
``None`` for anything else: field keys of more than one byte or other wire types
than length-delimited inside a series, labels or samples not in the canonical
field order, bad UTF-8, and every body with a series the scalar reader would
reject (no ``__name__``, duplicate or empty label names, a ``time`` or ``value``
label, a timestamp beyond int64 ns). The caller then runs the scalar reader, so
errors keep their wording and the fast path never reads a body differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
from crisp.protocols.remote_write.vector_wire import (
    NS_PER_MS,
    labels,
    samples,
    series_bounds,
    series_fields,
)
from crisp.protocols.vector_protobuf import ByteArray, Decline, IntArray, padded

NAME_LABEL = "__name__"
VALUE_FIELD = "value"
_FORBIDDEN_TAGS = frozenset({"", "time", VALUE_FIELD, NAME_LABEL})
# The (tag set x label name) matrix is declined beyond this many cells (a body with
# thousands of distinct label names is not Prometheus-shaped).
MAX_CELLS = 4_000_000


@dataclass
class _TagSets:
    """Each series' measurement and tag set, the tag sets as label rows."""

    measurements: pa.StringArray  # one per series
    series_set: IntArray  # one per series: which tag set
    set_count: int
    label_set: IntArray  # one per label row: which tag set
    names: pa.StringArray
    values: pa.StringArray
    value_lengths: IntArray


def read_points(data: bytes) -> PointBatch | None:
    """The points of a decompressed ``WriteRequest``, or ``None`` to decline."""
    try:
        return _read(data)
    except Decline:
        return None


def _read(data: bytes) -> PointBatch:
    starts, ends = series_bounds(data)
    if not starts:
        raise Decline
    buf = padded(data)
    series, numbers, field_starts, field_ends = series_fields(
        buf, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    )
    is_label = numbers == 1
    is_sample = numbers == 2
    sample_values, times_ms = samples(buf, field_starts[is_sample], field_ends[is_sample])
    tag_sets = _shared_tag_sets(data, buf, len(starts), series, is_label, field_starts, field_ends)
    if tag_sets is None:
        tag_sets = _series_tag_sets(buf, len(starts), series, is_label, field_starts, field_ends)
    return _assemble(len(starts), tag_sets, series[is_sample], sample_values, times_ms)


def _shared_tag_sets(
    data: bytes,
    buf: ByteArray,
    series_count: int,
    series: IntArray,
    is_label: npt.NDArray[np.bool_],
    field_starts: IntArray,
    field_ends: IntArray,
) -> _TagSets | None:
    """Tag sets decoded once per distinct byte range; ``None`` if labels are unsorted."""
    first = np.searchsorted(series, np.arange(series_count, dtype=np.int64))
    label_counts = np.bincount(series[is_label], minlength=series_count)
    rank = np.arange(len(series), dtype=np.int64) - first[series]
    # Labels must lead each series and ``__name__`` lead the labels.
    if (label_counts == 0).any() or not (is_label == (rank < label_counts[series])).all():
        return None
    heads, measurements, head_lengths = labels(buf, field_starts[first], field_ends[first])
    if not pc.all(pc.equal(heads, NAME_LABEL)).as_py():
        return None
    if (head_lengths == 0).any():
        raise Decline  # an empty measurement: the scalar reader words the error
    set_starts = field_ends[first].tolist()
    set_ends = field_ends[first + label_counts - 1].tolist()
    known: dict[bytes, int] = {}
    series_set = np.fromiter(
        (
            known.setdefault(data[start:end], len(known))
            for start, end in zip(set_starts, set_ends, strict=True)
        ),
        dtype=np.int64,
        count=series_count,
    )
    # The labels after ``__name__`` of each tag set's first series.
    _, representatives = np.unique(series_set, return_index=True)
    rest_counts = label_counts[representatives] - 1
    label_set = np.repeat(np.arange(len(representatives), dtype=np.int64), rest_counts)
    offsets = np.zeros(len(representatives) + 1, dtype=np.int64)
    np.cumsum(rest_counts, out=offsets[1:])
    fields = (
        np.repeat(first[representatives] + 1 - offsets[:-1], rest_counts)
        + np.arange(int(offsets[-1]), dtype=np.int64)
    )
    names, values, value_lengths = labels(buf, field_starts[fields], field_ends[fields])
    return _TagSets(
        measurements, series_set, len(known), label_set, names, values, value_lengths
    )


def _series_tag_sets(
    buf: ByteArray,
    series_count: int,
    series: IntArray,
    is_label: npt.NDArray[np.bool_],
    field_starts: IntArray,
    field_ends: IntArray,
) -> _TagSets:
    """One tag set per series, for labels in any order."""
    label_series = series[is_label]
    names, values, value_lengths = labels(buf, field_starts[is_label], field_ends[is_label])
    is_name = pc.equal(names, NAME_LABEL).to_numpy(zero_copy_only=False)
    name_series = label_series[is_name]
    # Exactly one ``__name__`` per series (the scalar reader lets a second one win).
    if len(name_series) != series_count or (np.diff(name_series) != 1).any():
        raise Decline
    if (value_lengths[is_name] == 0).any():
        raise Decline
    rest = ~is_name
    return _TagSets(
        values.filter(pa.array(is_name)),
        np.arange(series_count, dtype=np.int64),
        series_count,
        label_series[rest],
        names.filter(pa.array(rest)),
        values.filter(pa.array(rest)),
        value_lengths[rest],
    )


def _assemble(
    series_count: int,
    tag_sets: _TagSets,
    sample_series: IntArray,
    sample_values: npt.NDArray[np.float64],
    times_ms: IntArray,
) -> PointBatch:
    encoded = pc.dictionary_encode(tag_sets.names)
    name_ids = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    keys: list[str] = encoded.dictionary.to_pylist()
    if _FORBIDDEN_TAGS & set(keys) or tag_sets.set_count * len(keys) > MAX_CELLS:
        raise Decline
    # One cell per (tag set, label name): the label row, -1 where absent.
    cells = np.full((tag_sets.set_count, len(keys)), -1, dtype=np.int64)
    label_set = tag_sets.label_set
    cells[label_set, name_ids] = np.arange(len(label_set), dtype=np.int64)
    if np.count_nonzero(cells >= 0) != len(label_set):
        raise Decline  # a label name twice in one series
    # An empty label value means "no tag", as in the scalar reader.
    empty = tag_sets.value_lengths == 0
    cells[label_set[empty], name_ids[empty]] = -1

    kept = np.bincount(sample_series, minlength=series_count) > 0
    if not kept.any():
        return PointBatch()
    # Measurements are numbered in order of first appearance, as the scalar reader's.
    codes = pc.dictionary_encode(tag_sets.measurements.filter(pa.array(kept)))
    measurement_names: list[str] = codes.dictionary.to_pylist()
    series_measurement = np.full(series_count, -1, dtype=np.int64)
    series_measurement[kept] = codes.indices.to_numpy(zero_copy_only=False)
    sample_measurement = series_measurement[sample_series]
    rows = np.lexsort((sample_series, sample_measurement))
    bounds = np.zeros(len(measurement_names) + 1, dtype=np.int64)
    np.cumsum(np.bincount(sample_measurement, minlength=len(measurement_names)), out=bounds[1:])

    row_cells = cells[tag_sets.series_set[sample_series[rows]]]
    present = np.logical_or.reduceat(row_cells >= 0, bounds[:-1], axis=0)
    tag_ids = sorted(range(len(keys)), key=keys.__getitem__)
    tag_columns: dict[int, pa.Array] = {}
    for key_id in tag_ids:
        if present[:, key_id].any():
            column = row_cells[:, key_id]
            absent = column < 0
            # Arrow's take is several times slower with null indices: only when needed.
            indices = pa.array(column, mask=absent) if absent.any() else column
            tag_columns[key_id] = tag_sets.values.take(indices)
    times = pa.array(times_ms[rows] * NS_PER_MS, type=pa.int64())
    field = pa.array(sample_values[rows], type=pa.float64())

    batch = PointBatch()
    for code, name in enumerate(measurement_names):
        start = int(bounds[code])
        length = int(bounds[code + 1]) - start
        present_ids = [key_id for key_id in tag_ids if present[code, key_id]]
        arrays = [times.slice(start, length)]
        arrays += [tag_columns[key_id].slice(start, length) for key_id in present_ids]
        arrays.append(field.slice(start, length))
        schema = _schema(tuple(keys[key_id] for key_id in present_ids))
        batch.measurements[name] = MeasurementBatch(
            name, pa.Table.from_arrays(arrays, schema=schema)
        )
    return batch


@lru_cache(maxsize=4096)
def _schema(tag_keys: tuple[str, ...]) -> pa.Schema:
    return measurement_schema(list(tag_keys), {VALUE_FIELD: FieldType.FLOAT})
