"""Reading one untrusted Arrow IPC stream message by message, refusing what could hurt.

pyarrow verifies each message's flatbuffer and ``RecordBatch.validate(full=True)``
checks offsets, lengths and UTF-8, so malformed data raises instead of crashing. What
neither bounds is memory: an IPC body may hold LZ4/ZSTD-compressed buffers whose
declared size is far beyond the request (a few kB of zeros claiming gigabytes).
Crisp never writes compressed buffers (use ``Content-Encoding: gzip``, which
``read_body`` caps), so a record batch whose metadata declares compression is refused
before it is decompressed. Dictionary batches are refused too: no column of a point
table is dictionary-encoded.

The check reads the flatbuffer by hand (Arrow's ``Message.fbs``): ``Message`` field 1
is the header type, field 2 the header; in a ``RecordBatch`` header, field 3 is the
``BodyCompression`` table, absent when buffers are plain.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pyarrow as pa

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")

# Message.fbs: MessageHeader union values and field slots.
_HEADER_RECORD_BATCH = 3
_MESSAGE_HEADER_TYPE_SLOT = 1
_MESSAGE_HEADER_SLOT = 2
_RECORD_BATCH_COMPRESSION_SLOT = 3


class IPCError(ValueError):
    """The stream is not one this endpoint accepts; the message says why."""


def read_stream(data: pa.Buffer) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The stream's schema and a reader of its record batches (validated in full).

    Raises :class:`IPCError` (or ``pa.ArrowException`` from pyarrow, which callers
    also turn into a 400) for anything malformed.
    """
    reader = pa.ipc.MessageReader.open_stream(pa.BufferReader(data))
    try:
        first = reader.read_next_message()
    except StopIteration:
        raise IPCError("empty Arrow IPC stream: no schema message") from None
    if first.type != "schema":
        raise IPCError(f"Arrow IPC stream starts with a {first.type} message, not a schema")
    schema = pa.ipc.read_schema(first)
    return schema, _batches(reader, schema)


def _batches(reader: pa.ipc.MessageReader, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            message = reader.read_next_message()
        except StopIteration:
            return
        if message.type != "record batch":
            raise IPCError(f"unexpected {message.type} message: only record batches may follow")
        if declares_compression(message.metadata.to_pybytes()):
            raise IPCError(
                "compressed IPC buffers are not accepted; send them uncompressed "
                "(Content-Encoding: gzip compresses the whole body)"
            )
        batch = pa.ipc.read_record_batch(message, schema)
        batch.validate(full=True)
        yield batch


def declares_compression(metadata: bytes) -> bool:
    """Whether a record-batch message's flatbuffer names a ``BodyCompression``.

    Bounds are checked at every step: a metadata buffer this cannot read is refused.
    """
    message = _table(metadata, _u32(metadata, 0))
    header_type = _field_position(metadata, message, _MESSAGE_HEADER_TYPE_SLOT)
    if header_type is None or _byte(metadata, header_type) != _HEADER_RECORD_BATCH:
        raise IPCError("record batch message without a record batch header")
    header = _field_position(metadata, message, _MESSAGE_HEADER_SLOT)
    if header is None:
        raise IPCError("record batch message without a header")
    batch = _table(metadata, header + _u32(metadata, header))
    return _field_position(metadata, batch, _RECORD_BATCH_COMPRESSION_SLOT) is not None


def _table(buf: bytes, position: int) -> int:
    _check(buf, position, 4)
    return position


def _field_position(buf: bytes, table: int, slot: int) -> int | None:
    """Where field ``slot`` of the table at ``table`` is stored, None when absent."""
    vtable = table - _i32(buf, table)
    vtable_size = _u16(buf, vtable)
    entry = 4 + 2 * slot
    if entry + 2 > vtable_size:
        return None
    offset = _u16(buf, vtable + entry)
    return None if offset == 0 else table + offset


def _check(buf: bytes, position: int, size: int) -> None:
    if position < 0 or position + size > len(buf):
        raise IPCError("unreadable IPC message metadata")


def _u32(buf: bytes, position: int) -> int:
    _check(buf, position, 4)
    return int(_U32.unpack_from(buf, position)[0])


def _i32(buf: bytes, position: int) -> int:
    _check(buf, position, 4)
    return int(_I32.unpack_from(buf, position)[0])


def _u16(buf: bytes, position: int) -> int:
    _check(buf, position, 2)
    return int(_U16.unpack_from(buf, position)[0])


def _byte(buf: bytes, position: int) -> int:
    _check(buf, position, 1)
    return buf[position]
