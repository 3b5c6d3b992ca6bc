"""Vectorised protobuf reading of remote-write ``TimeSeries``, ``Label`` and ``Sample``.

Helpers of ``columnar``: each function reads one level of the message for every
item at once with NumPy, and raises ``Decline`` for anything outside the canonical
encoding (see ``columnar``), which the scalar reader then handles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from crisp.protocols.vector_protobuf import (
    LENGTH_BYTES,
    ByteArray,
    Decline,
    IntArray,
    strings,
    varints,
)

# Rounds of the all-series walk; the fields left after them (series with many
# samples) are read one by one, so one long series cannot cost one round per sample.
MAX_ROUNDS = 48
NS_PER_MS = 1_000_000
MIN_TIMESTAMP_MS = -(2**63) // NS_PER_MS + 1
MAX_TIMESTAMP_MS = (2**63 - 1) // NS_PER_MS
_TAG_SERIES = 0x0A  # WriteRequest.timeseries
_TAG_LABEL = 0x0A  # Label.name
_TAG_LABEL_VALUE = 0x12
_TAG_DOUBLE = 0x09
_TAG_TIMESTAMP = 0x10



def series_bounds(data: bytes) -> tuple[list[int], list[int]]:
    """Payload (start, end) of each ``WriteRequest.timeseries``; declines anything else."""
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    size = len(data)
    # One Python step per series (the rest is vectorised), so lengths of one and two
    # varint bytes, nearly all series, are decoded inline.
    try:
        while position < size:
            if data[position] != _TAG_SERIES:
                raise Decline  # metadata, unknown fields: the scalar reader skips them
            length = data[position + 1]
            if length < 0x80:
                start = position + 2
            else:
                high = data[position + 2]
                if high < 0x80:
                    length = (length & 0x7F) | (high << 7)
                    start = position + 3
                else:
                    length, start = _scalar_varint(data, position + 1)
            position = start + length
            starts.append(start)
            ends.append(position)
    except IndexError:
        raise Decline from None
    if position != size:
        raise Decline
    return starts, ends


def _scalar_varint(data: bytes, position: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 7 * LENGTH_BYTES, 7):
        if position >= len(data):
            break
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
    raise Decline


def series_fields(
    buf: ByteArray, starts: IntArray, ends: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """(series, field number, payload start, payload end) of every field of every series.

    Fields of one series come out in their order in the body.
    """
    found: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    series = np.arange(len(starts), dtype=np.int64)
    cursor = starts
    open_ = cursor < ends
    series, cursor, limit = series[open_], cursor[open_], ends[open_]
    for _ in range(MAX_ROUNDS):
        if not len(series):
            break
        keys = buf[cursor]
        # Every TimeSeries field Crisp reads or skips (labels, samples, exemplars,
        # histograms) is length-delimited with a one-byte key.
        if ((keys & 7) != 2).any() or (keys >= 0x80).any():
            raise Decline
        lengths, sizes = varints(buf, cursor + 1, LENGTH_BYTES)
        if not sizes.all():
            raise Decline
        payload_starts = cursor + 1 + sizes
        payload_ends = payload_starts + lengths.astype(np.int64)
        if (payload_ends > limit).any():
            raise Decline
        found.append((series, (keys >> 3).astype(np.int64), payload_starts, payload_ends))
        more = payload_ends < limit
        series, cursor, limit = series[more], payload_ends[more], limit[more]
    if len(series):
        found.append(_rest_of_fields(buf, series, cursor, limit))
    if not found:
        raise Decline  # only empty series: nothing to gain
    series_all, numbers, field_starts, field_ends = (
        np.concatenate(part) for part in zip(*found, strict=True)
    )
    # Rounds are field-major; a stable sort by series restores each series' order.
    order = np.argsort(series_all, kind="stable")
    return series_all[order], numbers[order], field_starts[order], field_ends[order]


def _rest_of_fields(
    buf: ByteArray, series: IntArray, cursors: IntArray, limits: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The fields left after ``MAX_ROUNDS``, read one at a time."""
    data = buf.tobytes()
    out_series: list[int] = []
    numbers: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for one, cursor, limit in zip(series.tolist(), cursors.tolist(), limits.tolist(), strict=True):
        while cursor < limit:
            key = data[cursor]
            if key & 7 != 2 or key >= 0x80:
                raise Decline
            length = data[cursor + 1]
            start = cursor + 2
            if length >= 0x80:
                length, start = _scalar_varint(data, cursor + 1)
            end = start + length
            if end > limit:
                raise Decline
            out_series.append(one)
            numbers.append(key >> 3)
            starts.append(start)
            ends.append(end)
            cursor = end
    return (
        np.array(out_series, dtype=np.int64),
        np.array(numbers, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
    )


def labels(
    buf: ByteArray, starts: IntArray, ends: IntArray
) -> tuple[pa.StringArray, pa.StringArray, IntArray]:
    """Label names and values of ``Label { name = 1; value = 2; }`` payloads, in order."""
    name_lengths, name_sizes = varints(buf, starts + 1, LENGTH_BYTES)
    name_starts = starts + 1 + name_sizes
    name_ends = name_starts + name_lengths.astype(np.int64)
    # proto3 leaves an empty value out: the label is then just its name.
    has_value = name_ends < ends
    value_lengths, value_sizes = varints(buf, name_ends + 1, LENGTH_BYTES)
    value_starts = np.where(has_value, name_ends + 1 + value_sizes, name_ends)
    value_ends = np.where(has_value, value_starts + value_lengths.astype(np.int64), name_ends)
    canonical = (
        (buf[starts] == _TAG_LABEL)
        & (name_sizes > 0)
        & (name_ends > name_starts)  # an empty name is an error: the scalar reader's
        & (~has_value | ((buf[np.minimum(name_ends, len(buf) - 1)] == _TAG_LABEL_VALUE)
                         & (value_sizes > 0)))
        & (value_ends == ends)
    )
    if not canonical.all():
        raise Decline
    return (
        strings(buf, name_starts, name_ends),
        strings(buf, value_starts, value_ends),
        value_ends - value_starts,
    )


def samples(
    buf: ByteArray, starts: IntArray, ends: IntArray
) -> tuple[npt.NDArray[np.float64], IntArray]:
    """Values and ms timestamps of ``Sample { double value = 1; int64 timestamp = 2; }``."""
    # proto3 leaves out a 0.0 value and a 0 timestamp; both are common (counters at 0).
    has_value = (starts < ends) & (buf[starts] == _TAG_DOUBLE)
    value_ends = np.where(has_value, starts + 9, starts)
    has_time = (value_ends < ends) & (buf[np.minimum(value_ends, len(buf) - 1)] == _TAG_TIMESTAMP)
    raw_times, time_sizes = varints(buf, value_ends + 1, 10)
    time_ends = np.where(has_time, value_ends + 1 + time_sizes, value_ends)
    if not ((time_ends == ends) & (~has_time | (time_sizes > 0))).all():
        raise Decline
    gather = (starts + 1)[:, None] + np.arange(8, dtype=np.int64)
    doubles = np.ascontiguousarray(buf[np.minimum(gather, len(buf) - 1)]).view("<f8")[:, 0]
    values = np.where(has_value, doubles, 0.0)
    times = np.where(has_time, raw_times, 0).astype(np.uint64).view(np.int64)
    if len(times) and (times.min() < MIN_TIMESTAMP_MS or times.max() > MAX_TIMESTAMP_MS):
        raise Decline
    return values, times
