"""A vectorised reader for the common shape of OTLP protobuf metrics requests.

Decoding with protobuf (upb, in C) is cheap; walking the decoded messages from
Python is not: about ten attribute reads per data point, several µs. This reader
reads the protobuf bytes level by level with ``vector_protobuf`` (requests,
resource metrics, scopes, metrics, gauges and sums, data points, attributes), each
level for all its messages at once. A data point's tags are its resource's
attributes overlaid by its own: points with the same resource and the same
attribute bytes share one tag set, decoded once.

It reads gauges and sums with string attributes. Anything else (histograms,
summaries, non-string attribute values, a data point without time or value or with
both value kinds, repeated singular fields, a field type clash, a refused tag key)
makes it decline with ``None``; the caller then reads the body through protobuf, so
errors keep their wording and the fast path never reads a body differently.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from crisp.core.batch import TIME_COLUMN, FieldType, PointBatch
from crisp.protocols.tag_sets import build_batch
from crisp.protocols.vector_protobuf import (
    WIRE_I64,
    WIRE_LEN,
    WIRE_VARINT,
    ByteArray,
    Decline,
    Fields,
    IntArray,
    fixed64,
    message_fields,
    padded,
    strings,
)

VALUE_FIELD = "value"
NO_RECORDED_VALUE = 1
INT64_MAX = 2**63 - 1
# Metric fields: name 1, gauge 5, sum 7, histogram 9, exponential histogram 10,
# summary 11. Data point fields: time 3, as_double 4, as_int 6, attributes 7, flags 8.
_GAUGE = 5
_SUM = 7
_OTHER_KINDS = (9, 10, 11)
_REFUSED_KEYS = frozenset({"", TIME_COLUMN, VALUE_FIELD})


def read_points(body: bytes) -> PointBatch | None:
    """The points of an ``ExportMetricsServiceRequest`` body, or ``None`` to decline."""
    try:
        return _read(body)
    except Decline:
        return None


def _read(body: bytes) -> PointBatch:
    buf = padded(body)
    top = message_fields(buf, np.zeros(1, dtype=np.int64), np.array([len(body)]))
    resources = top.where(1, WIRE_LEN)
    if not len(resources.parent):
        raise Decline
    level = message_fields(buf, resources.start, resources.end)
    resource = level.where(1, WIRE_LEN).at_most_one()
    scopes = level.where(2, WIRE_LEN)
    resource_attributes = message_fields(buf, resource.start, resource.end).where(1, WIRE_LEN)
    resource_tags = [dict[str, str]() for _ in range(len(resources.parent))]
    owners = resource.parent[resource_attributes.parent].tolist()
    for owner, (key, value) in zip(owners, _key_values(buf, resource_attributes), strict=True):
        resource_tags[owner][key] = value  # a later key wins, as protobuf's reader has it

    metrics = message_fields(buf, scopes.start, scopes.end).where(2, WIRE_LEN)
    metric_resource = scopes.parent[metrics.parent]
    metric_level = message_fields(buf, metrics.start, metrics.end)
    if np.isin(metric_level.number, _OTHER_KINDS).any():
        raise Decline
    names = metric_level.where(1, WIRE_LEN).at_most_one()
    data = metric_level.take(np.isin(metric_level.number, (_GAUGE, _SUM)))
    data.at_most_one()
    if (data.wire_type != WIRE_LEN).any():
        raise Decline
    # Every metric with data needs a name (an error the scalar reader words).
    if not np.isin(data.parent, names.parent).all():
        raise Decline
    name_of_metric: list[str] = [""] * len(metrics.parent)
    for metric, name in zip(
        names.parent.tolist(), strings(buf, names.start, names.end).to_pylist(), strict=True
    ):
        name_of_metric[metric] = name

    points = message_fields(buf, data.start, data.end).where(1, WIRE_LEN)
    point_metric = data.parent[points.parent]
    fields = message_fields(buf, points.start, points.end)
    count = len(points.parent)
    times = _one_per_point(fields, 3, WIRE_I64, count)
    doubles = _one_per_point(fields, 4, WIRE_I64, count)
    ints = _one_per_point(fields, 6, WIRE_I64, count)
    flags = fields.where(8, WIRE_VARINT).at_most_one()
    recorded = np.ones(count, dtype=bool)
    recorded[flags.parent] = (flags.value & np.uint64(NO_RECORDED_VALUE)) == 0
    has_double = doubles >= 0
    has_int = ints >= 0
    # No time, no value, two values: errors; the scalar reader words them.
    if ((times < 0) | (has_double == has_int))[recorded].any():
        raise Decline
    raw_times = fixed64(buf, fields.start[np.maximum(times, 0)])
    if (raw_times[recorded] == 0).any() or (raw_times[recorded] > INT64_MAX).any():
        raise Decline
    raw_values = fixed64(buf, fields.start[np.where(has_double, doubles, np.maximum(ints, 0))])

    point_sets, tag_sets = _point_tag_sets(
        body, buf, fields, count, metric_resource[point_metric], resource_tags
    )
    chosen = np.flatnonzero(recorded)
    if not len(chosen):
        return PointBatch()
    return _batch(
        name_of_metric,
        point_metric[chosen],
        point_sets[chosen],
        tag_sets,
        raw_times[chosen].astype(np.int64),
        raw_values[chosen],
        has_double[chosen],
    )


def _batch(
    name_of_metric: list[str],
    point_metric: IntArray,
    point_sets: IntArray,
    tag_sets: list[dict[str, str]],
    times: IntArray,
    raw_values: npt.NDArray[np.uint64],
    is_double: npt.NDArray[np.bool_],
) -> PointBatch:
    """The points, grouped by measurement in order of first appearance."""
    known: dict[str, int] = {}
    metric_code = np.fromiter(
        (known.setdefault(name, len(known)) for name in name_of_metric),
        dtype=np.int64,
        count=len(name_of_metric),
    )
    raw_codes = metric_code[point_metric]
    uniques, firsts = np.unique(raw_codes, return_index=True)
    by_appearance = np.argsort(firsts)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[by_appearance] = np.arange(len(uniques), dtype=np.int64)
    codes = rank[np.searchsorted(uniques, raw_codes)]
    names = list(known)
    measurement_names = [names[int(code)] for code in uniques[by_appearance]]
    rows = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(measurement_names))
    doubles = np.bincount(codes, weights=is_double, minlength=len(measurement_names))
    if ((doubles > 0) & (doubles < sizes)).any():
        raise Decline  # floats and integers in one measurement: a type clash
    bounds = np.zeros(len(measurement_names) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    sorted_values = raw_values[rows]
    float_column = pa.array(sorted_values.view("<f8"), type=pa.float64())
    int_column = pa.array(sorted_values.view("<i8"), type=pa.int64())
    measurements: list[tuple[str, FieldType]] = []
    values: list[pa.Array] = []
    for position, name in enumerate(measurement_names):
        start = int(bounds[position])
        size = int(sizes[position])
        if doubles[position]:
            measurements.append((name, FieldType.FLOAT))
            values.append(float_column.slice(start, size))
        else:
            measurements.append((name, FieldType.INTEGER))
            values.append(int_column.slice(start, size))
    return build_batch(
        VALUE_FIELD, tag_sets, measurements, bounds, point_sets[rows], times[rows], values
    )


def _one_per_point(fields: Fields, number: int, wire_type: int, count: int) -> IntArray:
    """Index into ``fields`` of each point's field ``number``, -1 where absent."""
    chosen = fields.where(number, wire_type).at_most_one()
    index = np.full(count, -1, dtype=np.int64)
    index[chosen.parent] = np.flatnonzero(fields.number == number)
    return index


def _key_values(buf: ByteArray, attributes: Fields) -> list[tuple[str, str]]:
    """(key, string value) of ``KeyValue`` payloads; declines other value kinds."""
    level = message_fields(buf, attributes.start, attributes.end)
    keys = level.where(1, WIRE_LEN).at_most_one()
    values = level.where(2, WIRE_LEN).at_most_one()
    any_level = message_fields(buf, values.start, values.end)
    if (any_level.number != 1).any() or (any_level.wire_type != WIRE_LEN).any():
        raise Decline  # bool, int, double, bytes, arrays: rendered by ``attributes``
    texts = any_level.at_most_one()
    count = len(attributes.parent)
    key_text: list[str] = [""] * count
    value_text: list[str] = [""] * count
    for index, text in zip(
        keys.parent.tolist(), strings(buf, keys.start, keys.end).to_pylist(), strict=True
    ):
        key_text[index] = text
    owners = values.parent[texts.parent].tolist()
    for index, text in zip(owners, strings(buf, texts.start, texts.end).to_pylist(), strict=True):
        value_text[index] = text
    return list(zip(key_text, value_text, strict=True))


def _point_tag_sets(
    body: bytes,
    buf: ByteArray,
    fields: Fields,
    count: int,
    point_resource: IntArray,
    resource_tags: list[dict[str, str]],
) -> tuple[IntArray, list[dict[str, str]]]:
    """Each point's tag set and the sets (without empty values): resource tags
    overlaid by the point's attributes."""
    attributes = fields.where(7, WIRE_LEN)
    positions = np.flatnonzero(fields.number == 7)
    per_point = np.bincount(attributes.parent, minlength=count)
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(per_point, out=offsets[1:])
    has = per_point > 0
    first = positions[offsets[:-1][has]]
    last = positions[offsets[1:][has] - 1]
    # A point's attributes must be one run of fields to be keyed by their bytes.
    if (last - first + 1 != per_point[has]).any():
        raise Decline
    heads = np.zeros(count, dtype=np.int64)
    ends = np.zeros(count, dtype=np.int64)
    heads[has] = fields.head[first]
    ends[has] = fields.end[last]
    known: dict[tuple[int, bytes], int] = {}
    keyed = np.fromiter(
        (
            known.setdefault((resource, body[head:end]), len(known))
            for resource, head, end in zip(
                point_resource.tolist(), heads.tolist(), ends.tolist(), strict=True
            )
        ),
        dtype=np.int64,
        count=count,
    )
    _, representatives = np.unique(keyed, return_index=True)
    chosen = np.zeros(count, dtype=bool)
    chosen[representatives] = True
    own = attributes.take(chosen[attributes.parent])
    own_tags: dict[int, list[tuple[str, str]]] = {}
    for point, pair in zip(own.parent.tolist(), _key_values(buf, own), strict=True):
        own_tags.setdefault(point, []).append(pair)
    tag_sets: list[dict[str, str]] = []
    for point in representatives.tolist():
        tags = dict(resource_tags[int(point_resource[point])])
        for key, value in own_tags.get(point, ()):
            tags[key] = value
        if _REFUSED_KEYS.intersection(tags):
            raise Decline  # a refused tag key: the scalar reader words the error
        tag_sets.append({key: value for key, value in tags.items() if value != ""})
    return keyed, tag_sets
