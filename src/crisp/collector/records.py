"""The spool's record payload: one request's good points for one database/rp.

Arrow IPC per measurement keeps field types exact (int vs uint vs float) through the
spool, which line protocol would also do but at the cost of a parse on replay.
Layout: ``u16 len | db`` ``u16 len | rp`` ``u32 count`` then per measurement
``u16 len | name`` ``u64 len | Arrow IPC stream``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pyarrow as pa

from crisp.core.batch import MeasurementBatch, PointBatch
from crisp.influxapi.columnar_body import aligned

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class SpoolRecord:
    database: str
    rp: str | None
    batch: PointBatch


def encode_record(database: str, rp: str | None, batch: PointBatch) -> bytes:
    parts = [_str16(database), _str16(rp or ""), _U32.pack(len(batch.measurements))]
    for measurement in batch:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, measurement.table.schema) as writer:
            writer.write_table(measurement.table)
        ipc = sink.getvalue().to_pybytes()
        parts += [_str16(measurement.measurement), _U64.pack(len(ipc)), ipc]
    return b"".join(parts)


def decode_record(payload: bytes) -> SpoolRecord:
    database, pos = _read_str16(payload, 0)
    rp, pos = _read_str16(payload, pos)
    (count,) = _U32.unpack_from(payload, pos)
    pos += _U32.size
    batch = PointBatch()
    data = pa.py_buffer(payload)
    for _ in range(count):
        name, pos = _read_str16(payload, pos)
        (size,) = _U64.unpack_from(payload, pos)
        pos += _U64.size
        # Aligned: the streams sit at any byte of the record (see ``aligned``).
        with pa.ipc.open_stream(aligned(data.slice(pos, size))) as reader:
            batch.add(MeasurementBatch(name, reader.read_all()))
        pos += size
    return SpoolRecord(database, rp or None, batch)


def _str16(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError(f"name longer than 65535 bytes: {text[:40]!r}...")
    return _U16.pack(len(raw)) + raw


def _read_str16(buf: bytes, pos: int) -> tuple[str, int]:
    (size,) = _U16.unpack_from(buf, pos)
    pos += _U16.size
    return buf[pos : pos + size].decode("utf-8"), pos + size
