"""The body of ``POST /api/crisp/write_arrow``: a point batch as Arrow IPC, no text.

Layout (little-endian), the measurement part of the collector's spool record
(``crisp.collector.records``), so the collector sends what it already keeps::

    u32 count
    count × ( u16 len | measurement name (UTF-8) | u64 len | Arrow IPC stream )

Each IPC stream holds one measurement's table in ``crisp.core.batch``'s shape:
``time`` int64 never null, tags ``string``, fields float64/int64/uint64/bool/string,
each column's role in its ``crisp.kind`` field metadata.

:func:`decode_points` reads an untrusted body and checks everything storage relies
on (framing, names, schema, types, limits, and each record batch in full, see
``ipc_messages``), raising :class:`ColumnarBodyError` whose message names the
measurement and column at fault. The tables it returns carry only the canonical
metadata, so nothing a client adds travels into the WAL or Parquet.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pyarrow as pa

from crisp.core.batch import (
    KIND_FIELD,
    KIND_TAG,
    KIND_TIME,
    TIME_COLUMN,
    FieldType,
    MeasurementBatch,
    PointBatch,
    column_kind,
    tag_field,
    time_field,
    value_field,
)
from crisp.influxapi.ipc_messages import IPCError, read_stream
from crisp.storage.buffer import SEQ_COLUMN

CONTENT_TYPE = "application/vnd.crisp.points+arrow"
IPC_ALIGNMENT = 64  # what Arrow allocates with; IPC pads buffers to 8

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class ColumnarBodyError(ValueError):
    """The body is malformed or breaks a limit; ``str()`` is the 400's message."""


@dataclass(frozen=True)
class ColumnarLimits:
    """Per-measurement bounds, those line protocol puts on one line
    (``crisp.protocols.line_protocol.limits``): a table past them is refused whole."""

    max_tags: int = 256
    max_fields: int = 1024
    max_name_bytes: int = 65535


DEFAULT_COLUMNAR_LIMITS = ColumnarLimits()


def encode_points(batch: PointBatch) -> bytes:
    """The body for ``batch``; measurements without rows are left out."""
    measurements = [m for m in batch if m.table.num_rows]
    parts = [_U32.pack(len(measurements))]
    for measurement in measurements:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, measurement.table.schema) as writer:
            writer.write_table(measurement.table)
        ipc = sink.getvalue()
        parts += [_name16(measurement.measurement), _U64.pack(ipc.size), ipc.to_pybytes()]
    return b"".join(parts)


def decode_points(body: bytes, limits: ColumnarLimits = DEFAULT_COLUMNAR_LIMITS) -> PointBatch:
    """The batch an untrusted body holds, checked; :class:`ColumnarBodyError` if not."""
    data = pa.py_buffer(body)
    if len(body) < _U32.size:
        raise ColumnarBodyError("body too short: it must start with a u32 measurement count")
    (count,) = _U32.unpack_from(body, 0)
    pos = _U32.size
    batch = PointBatch()
    for index in range(count):
        name, pos = _read_name(body, pos, index)
        if name in batch.measurements:
            raise ColumnarBodyError(f'measurement "{name}" appears twice in the body')
        size, pos = _read_size(body, pos, name)
        table = _read_table(name, aligned(data.slice(pos, size)), limits)
        pos += size
        batch.measurements[name] = MeasurementBatch(name, table)
    if pos != len(body):
        raise ColumnarBodyError(
            f"{len(body) - pos} bytes after the last of the {count} measurements the body "
            "announces"
        )
    return batch


def aligned(data: pa.Buffer) -> pa.Buffer:
    """``data``, copied to fresh (64-byte aligned) memory unless it starts aligned.

    An IPC stream aligns its buffers relative to its own start; one that starts at
    any byte of a larger body yields arrays at odd addresses, which Acero (the
    engine's group-by) must realign, warning on every call, and which other kernels
    may read slowly or not at all. The copy costs a memcpy of the stream.
    """
    if data.address % IPC_ALIGNMENT == 0:
        return data
    copy = pa.allocate_buffer(data.size)
    pa.FixedSizeBufferWriter(copy).write(data)
    return copy


def _read_name(body: bytes, pos: int, index: int) -> tuple[str, int]:
    if pos + _U16.size > len(body):
        raise ColumnarBodyError(f"body ends before measurement {index + 1}'s name")
    (size,) = _U16.unpack_from(body, pos)
    pos += _U16.size
    if pos + size > len(body):
        raise ColumnarBodyError(f"body ends inside measurement {index + 1}'s name")
    try:
        name = body[pos : pos + size].decode("utf-8")
    except UnicodeDecodeError:
        raise ColumnarBodyError(f"measurement {index + 1}'s name is not valid UTF-8") from None
    if not name:
        raise ColumnarBodyError(f"measurement {index + 1} has an empty name")
    return name, pos + size


def _read_size(body: bytes, pos: int, name: str) -> tuple[int, int]:
    if pos + _U64.size > len(body):
        raise ColumnarBodyError(f'body ends before the size of measurement "{name}"\'s data')
    (size,) = _U64.unpack_from(body, pos)
    pos += _U64.size
    if size > len(body) - pos:
        raise ColumnarBodyError(
            f'measurement "{name}" announces {size} bytes of Arrow IPC, the body has '
            f"{len(body) - pos} left"
        )
    return size, pos


def _read_table(name: str, ipc: pa.Buffer, limits: ColumnarLimits) -> pa.Table:
    try:
        schema, batches = read_stream(ipc)
        canonical = canonical_schema(name, schema, limits)
        columns: list[list[pa.Array]] = [[] for _ in canonical]
        for record_batch in batches:
            for position, column in enumerate(record_batch.columns):
                columns[position].append(column)
    except IPCError as error:
        raise ColumnarBodyError(f'measurement "{name}": {error}') from None
    except UnicodeDecodeError:
        raise ColumnarBodyError(f'measurement "{name}": a column name is not valid UTF-8') from None
    except (pa.ArrowException, OSError, MemoryError) as error:
        # pyarrow's own reading and validation: the message says what broke.
        raise ColumnarBodyError(f'measurement "{name}": invalid Arrow IPC: {error}') from None
    chunked = [
        pa.chunked_array(chunks, type=f.type)
        for chunks, f in zip(columns, canonical, strict=True)
    ]
    table = pa.Table.from_arrays(chunked, schema=canonical)
    if table.column(TIME_COLUMN).null_count:
        raise ColumnarBodyError(f'measurement "{name}": null in the "time" column')
    return table


def canonical_schema(name: str, schema: pa.Schema, limits: ColumnarLimits) -> pa.Schema:
    """``schema`` with only the metadata storage reads, in the same column order;
    :class:`ColumnarBodyError` for anything a point table cannot be."""
    if len(name.encode("utf-8")) > limits.max_name_bytes:
        raise ColumnarBodyError(f"measurement name longer than {limits.max_name_bytes} bytes")
    seen: set[str] = set()
    fields: list[pa.Field] = []
    tags = values = 0
    for column in schema:
        key = column.name
        _check_column_name(name, key, seen, limits)
        kind = column_kind(column)
        if key == TIME_COLUMN:
            if kind not in (KIND_TIME, b"") or column.type != pa.int64():
                raise ColumnarBodyError(
                    f'measurement "{name}": column "time" must be the int64 timestamp '
                    f"(got {kind.decode(errors='replace') or 'no kind'}, {column.type})"
                )
            fields.append(time_field())
        elif kind == KIND_TAG:
            if column.type != pa.string():
                raise ColumnarBodyError(
                    f'measurement "{name}": tag "{key}" must be string, not {column.type}'
                )
            tags += 1
            fields.append(tag_field(key))
        elif kind == KIND_FIELD:
            fields.append(value_field(key, _field_type(name, key, column.type)))
            values += 1
        else:
            raise ColumnarBodyError(
                f'measurement "{name}": column "{key}" has no crisp.kind metadata '
                "(tag or field)"
            )
    if TIME_COLUMN not in seen:
        raise ColumnarBodyError(f'measurement "{name}": no "time" column')
    if not values:
        raise ColumnarBodyError(f'measurement "{name}": no field columns')
    if tags > limits.max_tags:
        raise ColumnarBodyError(f'measurement "{name}": too many tags ({tags} > {limits.max_tags})')
    if values > limits.max_fields:
        raise ColumnarBodyError(
            f'measurement "{name}": too many fields ({values} > {limits.max_fields})'
        )
    return pa.schema(fields)


def _check_column_name(name: str, key: str, seen: set[str], limits: ColumnarLimits) -> None:
    if not key:
        raise ColumnarBodyError(f'measurement "{name}": a column has an empty name')
    if key in seen:
        raise ColumnarBodyError(f'measurement "{name}": column "{key}" appears twice')
    if key == SEQ_COLUMN:
        raise ColumnarBodyError(f'measurement "{name}": column name "{key}" is reserved')
    if len(key.encode("utf-8")) > limits.max_name_bytes:
        raise ColumnarBodyError(
            f'measurement "{name}": a column name is longer than {limits.max_name_bytes} bytes'
        )
    seen.add(key)


def _field_type(name: str, key: str, arrow_type: pa.DataType) -> FieldType:
    try:
        return FieldType.from_arrow(arrow_type)
    except ValueError:
        raise ColumnarBodyError(
            f'measurement "{name}": field "{key}" has type {arrow_type}; use float64, '
            "int64, uint64, bool or string"
        ) from None


def _name16(name: str) -> bytes:
    raw = name.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError(f"measurement name longer than 65535 bytes: {name[:40]!r}...")
    return _U16.pack(len(raw)) + raw
