"""Reading protobuf messages many at a time with NumPy.

Python reads a protobuf field in about a microsecond; a body of thousands of small
messages (remote-write series, OTLP data points) spends its time there. These
helpers read one nesting level for every message at once: ``message_fields`` walks
all given messages in rounds, round *k* reading the *k*-th field of every message
still open, so a level costs as many array passes as its longest message has
fields, not one Python step per field (the last few open messages are finished in
Python, so one long message cannot cost one round per field).

They read only what they can read exactly as protobuf does and raise ``Decline``
otherwise; callers then hand the body to their scalar reader, which also words
the errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]
PAD = 16  # zero bytes after the body, so reads near the end stay in bounds
# Lengths of more than four varint bytes (256 MiB) are not in a body that passed
# the size limit; longer ones are declined.
LENGTH_BYTES = 4
# Vector rounds go on while at least this many messages are open (see message_fields).
MIN_VECTOR = 64
WIRE_VARINT = 0
WIRE_I64 = 1
WIRE_LEN = 2
WIRE_I32 = 5


class Decline(Exception):
    """The body is not in the shape the vectorised reader handles."""


def padded(data: bytes) -> ByteArray:
    return np.frombuffer(data + bytes(PAD), dtype=np.uint8)


def varints(
    buf: ByteArray, positions: IntArray, max_bytes: int
) -> tuple[npt.NDArray[np.uint64], IntArray]:
    """The varint at each position and its size in bytes (0: longer than ``max_bytes``)."""
    positions = np.minimum(positions, len(buf) - 1)  # past the end: a zero, caught later
    first = buf[positions]
    if not (first >= 0x80).any():  # nearly always, for lengths
        return first.astype(np.uint64), np.ones(len(positions), dtype=np.int64)
    values = np.zeros(len(positions), dtype=np.uint64)
    sizes = np.zeros(len(positions), dtype=np.int64)
    going = np.arange(len(positions))
    for index in range(max_bytes):
        byte = buf[np.minimum(positions[going] + index, len(buf) - 1)]
        values[going] |= (byte & 0x7F).astype(np.uint64) << np.uint64(7 * index)
        ending = byte < 0x80
        sizes[going[ending]] = index + 1
        going = going[~ending]
        if not len(going):
            break
    return values, sizes


def strings(buf: ByteArray, starts: IntArray, ends: IntArray) -> pa.StringArray:
    """The byte ranges as UTF-8 strings; declines invalid UTF-8."""
    lengths = ends - starts
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(offsets), pa.py_buffer(buf[gather])
    )
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        raise Decline from None
    return array.cast(pa.string())


def fixed64(buf: ByteArray, starts: IntArray) -> npt.NDArray[np.uint64]:
    """The little-endian 8-byte value at each position (doubles: ``.view("<f8")``)."""
    gather = np.minimum(starts[:, None] + np.arange(8, dtype=np.int64), len(buf) - 1)
    return np.ascontiguousarray(buf[gather]).view("<u8")[:, 0]


@dataclass
class Fields:
    """Fields of many messages, grouped by message, each message's in body order.

    ``head`` is where the field's key is, ``start``/``end`` bound its payload (for
    varints, the varint itself); ``value`` is the varint's value (0 for other types).
    """

    parent: IntArray
    head: IntArray
    number: IntArray
    wire_type: IntArray
    start: IntArray
    end: IntArray
    value: npt.NDArray[np.uint64]

    def where(self, number: int, wire_type: int) -> Fields:
        """The fields numbered ``number``; declines one of another wire type."""
        chosen = self.number == number
        if (self.wire_type[chosen] != wire_type).any():
            raise Decline
        return self.take(chosen)

    def at_most_one(self) -> Fields:
        """These fields; declines a message with two (protobuf would merge or overwrite)."""
        if len(self.parent) > 1 and (np.diff(self.parent) == 0).any():
            raise Decline
        return self

    def take(self, chosen: npt.NDArray[np.bool_] | IntArray) -> Fields:
        return Fields(
            self.parent[chosen],
            self.head[chosen],
            self.number[chosen],
            self.wire_type[chosen],
            self.start[chosen],
            self.end[chosen],
            self.value[chosen],
        )


def message_fields(buf: ByteArray, starts: IntArray, ends: IntArray) -> Fields:
    """Every field of the messages ``buf[starts[i]:ends[i]]``, ``parent`` being ``i``.

    Field keys must be one byte (field numbers below 16) and wire types 0, 1, 2 or 5.
    """
    found: list[tuple[IntArray, ...]] = []
    parents = np.arange(len(starts), dtype=np.int64)
    open_ = starts < ends
    parents, cursor, limit = parents[open_], starts[open_], ends[open_]
    # A round costs the same for many messages as for one: past a few, Python's
    # one field at a time is cheaper.
    while len(parents) >= MIN_VECTOR:
        keys = buf[cursor].astype(np.int64)
        wire_types = keys & 7
        if (keys >= 0x80).any() or (keys < 8).any():
            raise Decline
        lengths, sizes = varints(buf, cursor + 1, 10)
        is_len = wire_types == WIRE_LEN
        if not (sizes > 0)[is_len | (wire_types == WIRE_VARINT)].all():
            raise Decline
        if (is_len & (sizes > LENGTH_BYTES)).any():
            raise Decline
        payload_starts = np.where(is_len, cursor + 1 + sizes, cursor + 1)
        payload_ends = np.select(
            [wire_types == WIRE_VARINT, is_len, wire_types == WIRE_I64, wire_types == WIRE_I32],
            [cursor + 1 + sizes, payload_starts + lengths.astype(np.int64),
             cursor + 9, cursor + 5],
            default=-1,
        )
        if (payload_ends < 0).any() or (payload_ends > limit).any():
            raise Decline
        values = np.where(wire_types == WIRE_VARINT, lengths, np.uint64(0))
        found.append((parents, cursor, keys >> 3, wire_types, payload_starts, payload_ends,
                      values.view(np.int64)))
        more = payload_ends < limit
        parents, cursor, limit = parents[more], payload_ends[more], limit[more]
    if len(parents):
        found.append(_in_python(buf.tobytes(), parents, cursor, limit))
    parent, head, number, wire_type, start, end, value = (
        np.concatenate(part) for part in zip(*found, strict=True)
    ) if found else (np.zeros(0, dtype=np.int64),) * 7
    order = np.argsort(parent, kind="stable")  # rounds are field-major
    return Fields(
        parent[order], head[order], number[order], wire_type[order], start[order], end[order],
        value[order].view(np.uint64),
    )


def _in_python(
    data: bytes, parents: IntArray, cursors: IntArray, limits: IntArray
) -> tuple[IntArray, ...]:
    """``message_fields``' columns for the given messages, one field at a time."""
    columns: tuple[list[int], ...] = ([], [], [], [], [], [], [])
    out_parent, out_head, out_number, out_wire, out_start, out_end, out_value = columns
    for parent, cursor, limit in zip(parents.tolist(), cursors.tolist(), limits.tolist(),
                                     strict=True):
        while cursor < limit:
            key = data[cursor]
            if key >= 0x80 or key < 8:
                raise Decline
            wire_type = key & 7
            value = 0
            if wire_type in (WIRE_VARINT, WIRE_LEN):
                value, start = _varint(data, cursor + 1, 10 if wire_type == WIRE_VARINT
                                       else LENGTH_BYTES)
                if wire_type == WIRE_VARINT:
                    start, end = cursor + 1, start
                else:
                    end = start + value
                    value = 0
            elif wire_type == WIRE_I64:
                start, end = cursor + 1, cursor + 9
            elif wire_type == WIRE_I32:
                start, end = cursor + 1, cursor + 5
            else:
                raise Decline
            if end > limit:
                raise Decline
            out_parent.append(parent)
            out_head.append(cursor)
            out_number.append(key >> 3)
            out_wire.append(wire_type)
            out_start.append(start)
            out_end.append(end)
            # Stored as int64 bits, as the vector rounds store them.
            out_value.append(value - (1 << 64) if value >= 1 << 63 else value)
            cursor = end
    return tuple(np.array(column, dtype=np.int64) for column in columns)


def _varint(data: bytes, position: int, max_bytes: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it."""
    result = 0
    for index in range(max_bytes):
        if position >= len(data):
            break
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return result & ((1 << 64) - 1), position
    raise Decline
