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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from crisp.core.batch import TIME_COLUMN, FieldType, PointBatch
from crisp.protocols.otlp.points import format_bound
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
_HISTOGRAM = 9
_SUMMARY = 11
_OTHER_KINDS = (10,)  # exponential histograms: read through protobuf
# Rows one data point makes at most, for ordering: a histogram's buckets, count, sum.
# Bucket counts are bounded by the body size (8 bytes each), so 2**32 leaves room.
_SUBROWS = 2**32
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
    data = metric_level.take(np.isin(metric_level.number, (_GAUGE, _SUM, _HISTOGRAM, _SUMMARY)))
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
    count = len(points.parent)
    kind = data.number[points.parent]
    is_number = (kind == _GAUGE) | (kind == _SUM)
    mixed = not bool(is_number.all())
    all_fields = message_fields(buf, points.start, points.end)
    field_kind = kind[all_fields.parent]
    # Data point messages number their fields by kind: read each kind's apart.
    # Gauges and sums alone (the common body) skip the split.
    numbers = all_fields.take(is_number[all_fields.parent]) if mixed else all_fields
    histograms = all_fields.take(field_kind == _HISTOGRAM)
    summaries = all_fields.take(field_kind == _SUMMARY)
    raw_times = np.zeros(count, dtype=np.uint64)
    has_time = np.zeros(count, dtype=bool)
    recorded = np.ones(count, dtype=bool)
    for part, flags_number in ((numbers, 8), (histograms, 10), (summaries, 8)):
        index = _one_per_point(part, 3, WIRE_I64, count)
        present = index >= 0
        raw_times[present] = fixed64(buf, part.start[index[present]])
        has_time |= present
        flags = part.where(flags_number, WIRE_VARINT).at_most_one()
        recorded[flags.parent] = (flags.value & np.uint64(NO_RECORDED_VALUE)) == 0
    doubles = _one_per_point(numbers, 4, WIRE_I64, count)
    ints = _one_per_point(numbers, 6, WIRE_I64, count)
    has_double = doubles >= 0
    has_int = ints >= 0
    # No time, no value, two values: errors; the scalar reader words them.
    if (~has_time | (is_number & (has_double == has_int)))[recorded].any():
        raise Decline
    if (raw_times[recorded] == 0).any() or (raw_times[recorded] > INT64_MAX).any():
        raise Decline
    value_index = np.where(has_double, doubles, ints)
    raw_values = np.zeros(count, dtype=np.uint64)
    raw_values[value_index >= 0] = fixed64(buf, numbers.start[value_index[value_index >= 0]])

    # Attributes are field 7 of number and summary points, field 9 of histogram points.
    attribute_fields = all_fields
    if mixed:
        # Keyed by their byte range from first to last, which may then span other
        # fields: equal ranges still mean equal attributes, only less sharing.
        attribute_fields = all_fields.take(
            np.where(field_kind == _HISTOGRAM, all_fields.number == 9, all_fields.number == 7)
        )
        attribute_fields.number = np.full(len(attribute_fields.number), 7, dtype=np.int64)
    point_sets, tag_sets = _point_tag_sets(
        body, buf, attribute_fields, count, metric_resource[point_metric], resource_tags
    )
    chosen_numbers = np.flatnonzero(recorded & is_number)
    rows = _Rows(
        sort_key=[chosen_numbers * _SUBROWS],
        name=[point_metric[chosen_numbers]],
        tag_set=[point_sets[chosen_numbers]],
        time=[raw_times[chosen_numbers].astype(np.int64)],
        raw=[raw_values[chosen_numbers]],
        is_double=[has_double[chosen_numbers]],
    )
    if mixed:
        names_of_rows = list(name_of_metric)
        context = _PointContext(buf, count, point_metric, point_sets, tag_sets, raw_times, rows)
        chosen = np.flatnonzero(recorded & (kind == _HISTOGRAM))
        if len(chosen):
            base = _suffixed(names_of_rows, name_of_metric, point_metric[chosen],
                             ("_bucket", "_count", "_sum"))  # fmt: skip
            _histogram_rows(context, histograms, chosen, base)
        chosen = np.flatnonzero(recorded & (kind == _SUMMARY))
        if len(chosen):
            base = _suffixed(names_of_rows, name_of_metric, point_metric[chosen],
                             ("_count", "_sum"))  # fmt: skip
            _summary_rows(context, summaries, chosen, base)
        name_of_metric = names_of_rows
    if not sum(len(part) for part in rows.sort_key):
        return PointBatch()
    # Number points alone are in order already.
    order = (
        np.argsort(np.concatenate(rows.sort_key), kind="stable")
        if mixed
        else np.arange(len(chosen_numbers))
    )
    return _batch(
        name_of_metric,
        np.concatenate(rows.name)[order],
        np.concatenate(rows.tag_set)[order],
        tag_sets,
        np.concatenate(rows.time)[order],
        np.concatenate(rows.raw)[order],
        np.concatenate(rows.is_double)[order],
    )


@dataclass
class _Rows:
    """Output rows in parts (number points, histogram buckets, counts, sums); the
    sort key puts them in the order the scalar reader adds them."""

    sort_key: list[IntArray]
    name: list[IntArray]  # index into the row names
    tag_set: list[IntArray]
    time: list[IntArray]
    raw: list[npt.NDArray[np.uint64]]
    is_double: list[npt.NDArray[np.bool_]]

    def add(
        self, key: IntArray, name: IntArray, tag_set: IntArray, time: IntArray,
        raw: npt.NDArray[np.uint64],
    ) -> None:  # fmt: skip
        self.sort_key.append(key)
        self.name.append(name)
        self.tag_set.append(tag_set)
        self.time.append(time)
        self.raw.append(raw)
        self.is_double.append(np.ones(len(key), dtype=bool))


@dataclass(frozen=True)
class _PointContext:
    """What the histogram and summary readers share: the points' metric, tag set and
    time, the tag sets (they add theirs) and the rows (they add theirs)."""

    buf: ByteArray
    count: int
    point_metric: IntArray
    point_sets: IntArray
    tag_sets: list[dict[str, str]]
    raw_times: npt.NDArray[np.uint64]
    rows: _Rows


def _suffixed(
    names: list[str], name_of_metric: list[str], metrics: IntArray, suffixes: tuple[str, ...]
) -> IntArray:
    """Per point, the index in ``names`` of its metric's name + ``suffixes[0]`` (the
    other suffixes follow it), appending the names once per metric."""
    first = np.zeros(len(name_of_metric), dtype=np.int64)
    for metric in np.unique(metrics).tolist():
        first[metric] = len(names)
        names += [name_of_metric[metric] + suffix for suffix in suffixes]
    codes: IntArray = first[metrics]
    return codes


def _as_float_bits(counts: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Counts as float64 bits; from 2**63 on, declined (numpy's rounding there is not
    guaranteed to be Python's ``float(int)``)."""
    if (counts >= np.uint64(2**63)).any():
        raise Decline
    bits: npt.NDArray[np.uint64] = counts.astype(np.float64).view(np.uint64)
    return bits


def _histogram_rows(
    context: _PointContext, fields: Fields, chosen: IntArray, base: IntArray
) -> None:
    """The rows of the recorded histogram points ``chosen`` as ``points.add_metric``
    makes them: ``<name>_bucket`` per bucket with tag ``le`` (cumulative counts),
    ``<name>_count``, and ``<name>_sum`` when the point has a sum; ``base`` is each
    point's ``_bucket`` name (``_count`` and ``_sum`` follow)."""
    buf, count = context.buf, context.count
    counts_field = _one_per_point(fields, 4, WIRE_I64, count)[chosen]
    sum_field = _one_per_point(fields, 5, WIRE_I64, count)[chosen]
    bucket_counts, bucket_sizes = _packed64(
        buf, fields, _one_per_point(fields, 6, WIRE_LEN, count)[chosen]
    )
    bounds, bound_sizes = _packed64(buf, fields, _one_per_point(fields, 7, WIRE_LEN, count)[chosen])
    with_buckets = (bucket_sizes > 0) | (bound_sizes > 0)
    # A count/bound mismatch is an error the scalar reader words. Totals of 2**63 and
    # more are declined: below, uint64 sums are exact and float() rounds as Python's.
    if (with_buckets & (bucket_sizes != bound_sizes + 1)).any():
        raise Decline
    owner = np.repeat(np.arange(len(chosen)), bucket_sizes)
    totals = np.bincount(owner, weights=bucket_counts.astype(np.float64), minlength=len(chosen))
    if (totals >= 2.0**63).any():
        raise Decline
    point_count = np.zeros(len(chosen), dtype=np.uint64)
    has_count = counts_field >= 0
    point_count[has_count] = fixed64(buf, fields.start[counts_field[has_count]])
    times = context.raw_times[chosen].astype(np.int64)
    sets = context.point_sets[chosen]

    # Buckets: key (point, k) for bucket k; count after them, then sum.
    firsts = np.zeros(len(chosen) + 1, dtype=np.int64)
    np.cumsum(bucket_sizes, out=firsts[1:])
    position = np.arange(len(owner), dtype=np.int64) - firsts[:-1][owner]
    running = np.cumsum(bucket_counts, dtype=np.uint64)
    before = np.concatenate([np.zeros(1, dtype=np.uint64), running])[firsts[:-1]][owner]
    cumulative = running - before
    # Each point's bounds, then +Inf for its last bucket.
    bound_firsts = np.zeros(len(chosen) + 1, dtype=np.int64)
    np.cumsum(bound_sizes, out=bound_firsts[1:])
    is_last = position == bucket_sizes[owner] - 1
    bound_values = np.full(len(owner), np.inf)
    inner = ~is_last
    bound_values[inner] = bounds.view("<f8")[bound_firsts[:-1][owner[inner]] + position[inner]]
    point_key = chosen * _SUBROWS
    rows = context.rows
    rows.add(
        point_key[owner] + position, base[owner],
        _derived_tag_sets(sets[owner], "le", bound_values, context.tag_sets),
        times[owner], _as_float_bits(cumulative),
    )  # fmt: skip
    rows.add(point_key + bucket_sizes, base + 1, sets, times, _as_float_bits(point_count))
    summed = np.flatnonzero(sum_field >= 0)
    rows.add(
        point_key[summed] + bucket_sizes[summed] + 1, base[summed] + 2, sets[summed],
        times[summed], fixed64(buf, fields.start[sum_field[summed]]),
    )  # fmt: skip


def _summary_rows(context: _PointContext, fields: Fields, chosen: IntArray, base: IntArray) -> None:
    """The rows of the recorded summary points ``chosen`` as ``points.add_metric``
    makes them: ``<name>`` per quantile with tag ``quantile``, ``<name>_count`` and
    ``<name>_sum``; ``base`` is each point's ``_count`` name (``_sum`` follows)."""
    buf, count = context.buf, context.count
    counts_field = _one_per_point(fields, 4, WIRE_I64, count)[chosen]
    sum_field = _one_per_point(fields, 5, WIRE_I64, count)[chosen]
    is_chosen = np.zeros(count, dtype=bool)
    is_chosen[chosen] = True
    quantiles = fields.where(6, WIRE_LEN)
    quantiles = quantiles.take(is_chosen[quantiles.parent])
    owner = quantiles.parent  # the point of each quantile, in body order
    inside = message_fields(buf, quantiles.start, quantiles.end)
    quantile_bits = _double_or_zero(buf, inside, 1, len(owner))
    value_bits = _double_or_zero(buf, inside, 2, len(owner))
    position = np.arange(len(owner), dtype=np.int64) - np.searchsorted(owner, owner)
    per_point = np.bincount(owner, minlength=count)[chosen]
    rows = context.rows
    rows.add(
        owner * _SUBROWS + position, context.point_metric[owner],
        _derived_tag_sets(context.point_sets[owner], "quantile", quantile_bits.view("<f8"),
                          context.tag_sets),
        context.raw_times[owner].astype(np.int64), value_bits,
    )  # fmt: skip
    point_count = np.zeros(len(chosen), dtype=np.uint64)
    has_count = counts_field >= 0
    point_count[has_count] = fixed64(buf, fields.start[counts_field[has_count]])
    sums = np.zeros(len(chosen), dtype=np.uint64)
    has_sum = sum_field >= 0
    sums[has_sum] = fixed64(buf, fields.start[sum_field[has_sum]])
    key = chosen * _SUBROWS + per_point
    times = context.raw_times[chosen].astype(np.int64)
    sets = context.point_sets[chosen]
    rows.add(key, base, sets, times, _as_float_bits(point_count))
    rows.add(key + 1, base + 1, sets, times, sums)


def _double_or_zero(
    buf: ByteArray, fields: Fields, number: int, count: int
) -> npt.NDArray[np.uint64]:
    """Each message's double field ``number`` as bits, 0 (0.0) where absent."""
    index = _one_per_point(fields, number, WIRE_I64, count)
    bits = np.zeros(count, dtype=np.uint64)
    bits[index >= 0] = fixed64(buf, fields.start[index[index >= 0]])
    return bits


def _packed64(
    buf: ByteArray, fields: Fields, index: IntArray
) -> tuple[npt.NDArray[np.uint64], IntArray]:
    """The 8-byte elements of packed fields ``fields[index]`` (-1: absent), all
    concatenated, and how many each field has."""
    present = index >= 0
    starts = np.zeros(len(index), dtype=np.int64)
    ends = np.zeros(len(index), dtype=np.int64)
    starts[present] = fields.start[index[present]]
    ends[present] = fields.end[index[present]]
    lengths = ends - starts
    if (lengths % 8).any():
        raise Decline  # not whole 8-byte values: protobuf refuses it with its own words
    sizes = lengths // 8
    offsets = np.zeros(len(index) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    total = int(offsets[-1])
    if not total:
        return np.zeros(0, dtype=np.uint64), sizes
    owner = np.repeat(np.arange(len(index)), sizes)
    element = np.arange(total, dtype=np.int64) - offsets[:-1][owner]
    return fixed64(buf, starts[owner] + 8 * element), sizes


def _derived_tag_sets(
    sets: IntArray, key: str, bounds: npt.NDArray[np.float64], tag_sets: list[dict[str, str]]
) -> IntArray:
    """Ids of each row's tag set (its point's plus ``key`` = the bound as Prometheus
    writes it), appended to ``tag_sets`` once per distinct (point tag set, bound)."""
    if not len(sets):
        return sets
    bits = bounds.view(np.uint64)
    distinct_bits, bound_codes = np.unique(bits, return_inverse=True)
    texts = [format_bound(float(v)) for v in distinct_bits.view("<f8").tolist()]
    pairs = sets * len(texts) + bound_codes.reshape(-1)
    distinct_pairs, pair_codes = np.unique(pairs, return_inverse=True)
    first = len(tag_sets)
    for pair in distinct_pairs.tolist():
        tag_sets.append({**tag_sets[pair // len(texts)], key: texts[pair % len(texts)]})
    ids: IntArray = first + pair_codes.reshape(-1).astype(np.int64)
    return ids


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
