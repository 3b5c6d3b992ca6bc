"""Write-ahead log: append-only segment files with group commit.

Layout (see docs/storage-format.md): ``wal/<20-digit segment id>.wal`` files, each an
8-byte magic followed by records framed as ``u32 length | u32 crc32 | payload``. A
write is acknowledged only once its record is on disk (fsync policy "always"), but
many concurrent writers share one fsync: the first waiting writer becomes the leader,
writes every queued record, fsyncs once and releases them all. Writers that arrive
during that fsync queue up for the next round, so the fsync rate stays bounded while
throughput scales with concurrency.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.durable import fsync_dir
from crisp.core.framing import FRAME, frame, frame_end
from crisp.storage.api import StorageError

log = logging.getLogger(__name__)

SEGMENT_MAGIC = b"CRWAL001"
RECORD_WRITE = 1  # read only: each table's IPC stream compressed buffer by buffer
RECORD_LINES = 2
RECORD_WRITE_PACKED = 3  # what writes log now: plain IPC streams, compressed together
_HEADER = struct.Struct("<BQ")  # record type, first sequence number
_LINES_HEADER = struct.Struct("<qQ")  # default time of the body's points, body length
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class WalCorruption(StorageError):
    """A damaged record before the end of the log: refusing to guess what was lost."""


@dataclass(frozen=True)
class WalWrite:
    """A decoded write record: one database/rp, one Arrow table per measurement."""

    seq: int
    database: str
    rp: str
    tables: dict[str, pa.Table]


# Record type 1: each table's IPC stream with its buffers compressed by zstd level 1.
# Still read (WALs written before type 3); no longer written.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))

# Record type 3: the tables' plain IPC streams (string columns dictionary-encoded)
# compressed together, once, by zstd level 1. Per-buffer compression paid a fixed cost
# per column of every table: a remote-write body of 101 one-metric measurements took
# 129 ms to encode (104 to decode) at 144 bytes per value; together 20 ms at 3.5 bytes.
# A TSBS cpu-only 5,000-line write: 5.0 -> 4.3 ms, 2.23 -> 2.10 bytes per value.
_RECORD_CODEC = pa.Codec("zstd", compression_level=1)


def _wal_table(table: pa.Table, encoded: Mapping[str, pa.Array] | None = None) -> pa.Table:
    """Dictionary-encode string columns (tags repeat a few values thousands of times).

    ``encoded``: columns the caller already encoded (``pc.dictionary_encode``), by name.
    """
    if not any(f.type == pa.string() for f in table.schema):
        return table
    done = encoded or {}
    columns = [
        table.column(i)
        if f.type != pa.string()
        else done[f.name]
        if f.name in done
        else pc.dictionary_encode(table.column(i))
        for i, f in enumerate(table.schema)
    ]
    schema = pa.schema(
        [f.with_type(c.type) for f, c in zip(table.schema, columns, strict=True)],
        metadata=table.schema.metadata,
    )
    return pa.Table.from_arrays(columns, schema=schema)


def _plain_table(table: pa.Table) -> pa.Table:
    """Undo ``_wal_table``: dictionary columns back to their value type, metadata kept."""
    if not any(pa.types.is_dictionary(f.type) for f in table.schema):
        return table
    columns = [
        table.column(i).cast(f.type.value_type)
        if pa.types.is_dictionary(f.type)
        else table.column(i)
        for i, f in enumerate(table.schema)
    ]
    schema = pa.schema(
        [f.with_type(c.type) for f, c in zip(table.schema, columns, strict=True)],
        metadata=table.schema.metadata,
    )
    return pa.Table.from_arrays(columns, schema=schema)


@dataclass(frozen=True)
class WalLines:
    """A line-protocol body logged before it is parsed (``Engine.write_lines``).

    ``seq`` is the first of as many sequence numbers as the body has lines (an upper
    bound on its points), so a later parse numbers its rows without asking anyone.
    """

    seq: int
    database: str
    rp: str
    precision: str
    default_time_ns: int
    body: bytes

    @property
    def seq_span(self) -> int:
        return lines_in(self.body)


def lines_in(body: bytes) -> int:
    return body.count(b"\n") + 1


# Raw bodies: zstd level 1, measured on TSBS cpu-only 500-line bodies at ~0.3 ms and
# 4 bytes per field value (the parsed Arrow form is 1.6 but costs ~2 ms to encode).
_LINES_CODEC = pa.Codec("zstd", compression_level=1)


def encode_lines(record: WalLines) -> bytes:
    return b"".join(
        [
            _HEADER.pack(RECORD_LINES, record.seq),
            _str16(record.database),
            _str16(record.rp),
            _str16(record.precision),
            _LINES_HEADER.pack(record.default_time_ns, len(record.body)),
            _LINES_CODEC.compress(record.body, asbytes=True),
        ]
    )


def _decode_lines(payload: bytes, seq: int) -> WalLines:
    pos = _HEADER.size
    database, pos = _read_str16(payload, pos)
    rp, pos = _read_str16(payload, pos)
    precision, pos = _read_str16(payload, pos)
    default_time_ns, size = _LINES_HEADER.unpack_from(payload, pos)
    pos += _LINES_HEADER.size
    body = _LINES_CODEC.decompress(payload[pos:], decompressed_size=size, asbytes=True)
    return WalLines(seq, database, rp, precision, default_time_ns, body)


def decode_record(payload: bytes) -> WalWrite | WalLines:
    kind, seq = _HEADER.unpack_from(payload, 0)
    if kind == RECORD_LINES:
        return _decode_lines(payload, seq)
    return decode_write(payload)


def encode_write(
    seq: int,
    database: str,
    rp: str,
    tables: dict[str, pa.Table],
    encoded_columns: Mapping[str, Mapping[str, pa.Array]] | None = None,
) -> bytes:
    """A record of type 3. ``encoded_columns``: per measurement, string columns already
    dictionary-encoded (``series_summary.summarize_and_encode`` makes them for the
    tags), not redone."""
    parts: list[bytes] = []
    for name, table in tables.items():
        encoded = _wal_table(table, (encoded_columns or {}).get(name))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, encoded.schema) as writer:
            writer.write_table(encoded)
        ipc = sink.getvalue().to_pybytes()
        parts += [_str16(name), _U64.pack(len(ipc)), ipc]
    body = b"".join(parts)
    return b"".join(
        [
            _HEADER.pack(RECORD_WRITE_PACKED, seq),
            _str16(database),
            _str16(rp),
            _U32.pack(len(tables)),
            _U64.pack(len(body)),
            _RECORD_CODEC.compress(body, asbytes=True),
        ]
    )


def decode_write(payload: bytes) -> WalWrite:
    kind, seq = _HEADER.unpack_from(payload, 0)
    if kind not in (RECORD_WRITE, RECORD_WRITE_PACKED):
        raise StorageError(f"unknown WAL record type {kind}")
    pos = _HEADER.size
    database, pos = _read_str16(payload, pos)
    rp, pos = _read_str16(payload, pos)
    (count,) = _U32.unpack_from(payload, pos)
    pos += _U32.size
    if kind == RECORD_WRITE_PACKED:
        (size,) = _U64.unpack_from(payload, pos)
        pos += _U64.size
        payload = _RECORD_CODEC.decompress(payload[pos:], decompressed_size=size, asbytes=True)
        pos = 0
    tables: dict[str, pa.Table] = {}
    for _ in range(count):
        name, pos = _read_str16(payload, pos)
        (size,) = _U64.unpack_from(payload, pos)
        pos += _U64.size
        with pa.ipc.open_stream(pa.py_buffer(payload[pos : pos + size])) as reader:
            tables[name] = _plain_table(reader.read_all())
        pos += size
    return WalWrite(seq, database, rp, tables)


def _str16(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _U16.pack(len(raw)) + raw


def _read_str16(buf: bytes, pos: int) -> tuple[str, int]:
    (size,) = _U16.unpack_from(buf, pos)
    pos += _U16.size
    return buf[pos : pos + size].decode("utf-8"), pos + size


def segment_name(segment_id: int) -> str:
    return f"{segment_id:020d}.wal"


def list_segments(directory: Path) -> list[int]:
    ids = []
    for path in directory.glob("*.wal"):
        if path.stem.isdigit():
            ids.append(int(path.stem))
    return sorted(ids)


def read_segment(path: Path, *, is_last: bool) -> Iterator[bytes]:
    """Yield the payloads of a segment; truncate a torn tail of the last segment.

    A record that runs past the end of the file, or whose CRC fails while nothing
    follows it, is what a crash during append leaves behind: it was never
    acknowledged, so it is cut off. A bad record with more data after it, or any bad
    record in an older (closed, fsynced) segment, is real corruption and is raised.
    """
    data = path.read_bytes()
    if len(data) < len(SEGMENT_MAGIC) or not data.startswith(SEGMENT_MAGIC):
        if is_last and SEGMENT_MAGIC.startswith(data[: len(SEGMENT_MAGIC)]):
            # Crash while creating the segment: it never held a record.
            log.warning("WAL segment %s: removing, crash before its header was written", path)
            path.unlink()
            return
        raise WalCorruption(f"WAL segment {path} has no valid header")
    pos = len(SEGMENT_MAGIC)
    while pos < len(data):
        end, problem = frame_end(data, pos)
        if problem is not None:
            if end >= len(data) and is_last:
                _truncate(path, pos, len(data))
                return
            raise WalCorruption(
                f"WAL segment {path} is corrupt at byte {pos}: {problem}; "
                f"{len(data) - pos} bytes follow. Move the segment away to start without it "
                f"(its unpersisted writes are lost)."
            )
        yield data[pos + FRAME.size : end]
        pos = end


def _truncate(path: Path, pos: int, size: int) -> None:
    log.warning(
        "WAL segment %s: dropping torn tail of %d bytes at offset %d (crash during append)",
        path,
        size - pos,
        pos,
    )
    with open(path, "r+b") as f:
        f.truncate(pos)
        f.flush()
        os.fsync(f.fileno())


class _Entry:
    __slots__ = ("apply", "done", "error", "payload")

    def __init__(self, payload: bytes, apply: Callable[[], None]) -> None:
        self.payload = payload
        self.apply = apply
        self.done = False
        self.error: BaseException | None = None


class Wal:
    """The open log: replay once, then append with group commit."""

    def __init__(
        self,
        directory: Path,
        *,
        fsync_always: bool,
        segment_max_bytes: int,
        on_fsync: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._fsync_always = fsync_always
        self._segment_max_bytes = segment_max_bytes
        self._on_fsync = on_fsync
        self._cv = threading.Condition()
        self._pending: list[_Entry] = []
        self._leader = False
        self._closed = False
        # Held while writing to the open segment; rotation takes it so that "records in
        # closed segments" and "rows in the swapped-out buffer" are the same set.
        self.io_lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._segment_id = 0
        self._segment_bytes = 0
        self._dirty = False
        self.fsync_count = 0
        self.records_written = 0

    # -- recovery ----------------------------------------------------------------------

    def replay(self, first_segment: int) -> Iterator[bytes]:
        """Payloads of every segment ≥ first_segment; older segments are deleted."""
        segments = list_segments(self.directory)
        for seg in segments:
            if seg < first_segment:
                (self.directory / segment_name(seg)).unlink(missing_ok=True)
        live = [s for s in segments if s >= first_segment]
        for index, seg in enumerate(live):
            yield from read_segment(
                self.directory / segment_name(seg), is_last=index == len(live) - 1
            )

    def open(self, min_segment: int) -> None:
        """Start appending to a fresh segment after every existing one."""
        existing = list_segments(self.directory)
        self._open_segment(max([min_segment - 1, *existing]) + 1)

    def _open_segment(self, segment_id: int) -> None:
        path = self.directory / segment_name(segment_id)
        f = open(path, "xb")  # noqa: SIM115 - lives until rotation/close
        f.write(SEGMENT_MAGIC)
        f.flush()
        os.fsync(f.fileno())
        fsync_dir(self.directory)
        self._file = f
        self._segment_id = segment_id
        self._segment_bytes = len(SEGMENT_MAGIC)

    @property
    def segment_id(self) -> int:
        return self._segment_id

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob("*.wal"))

    # -- appending ---------------------------------------------------------------------

    def append(self, payload: bytes, apply: Callable[[], None]) -> None:
        """Append one record; return once it is durable and ``apply`` has run.

        ``apply`` (putting the rows in the buffer) runs in log order under ``io_lock``,
        right after the fsync that made the record durable.
        """
        entry = _Entry(payload, apply)
        with self._cv:
            if self._closed:
                raise StorageError("storage engine is closed")
            self._pending.append(entry)
            while not entry.done:
                if self._leader:
                    self._cv.wait()
                    continue
                self._leader = True
                batch, self._pending = self._pending, []
                error: BaseException | None = None
                self._cv.release()
                try:
                    self._commit(batch)
                except BaseException as exc:
                    error = exc
                finally:
                    self._cv.acquire()
                    self._leader = False
                    for done in batch:
                        done.done = True
                        done.error = error
                    self._cv.notify_all()
        if entry.error is not None:
            raise StorageError(f"WAL append failed: {entry.error}") from entry.error

    def _commit(self, batch: list[_Entry]) -> None:
        with self.io_lock:
            f = self._file
            if f is None:
                raise StorageError("WAL is not open")
            data = b"".join(frame(e.payload) for e in batch)
            f.write(data)
            f.flush()
            self._segment_bytes += len(data)
            self.records_written += len(batch)
            if self._fsync_always:
                self._fsync_locked()
            else:
                self._dirty = True
            for e in batch:
                e.apply()
            if self._segment_bytes >= self._segment_max_bytes:
                self._rotate_locked()

    def _fsync_locked(self) -> None:
        assert self._file is not None
        started = time.perf_counter()
        os.fsync(self._file.fileno())
        self._dirty = False
        self.fsync_count += 1
        self._on_fsync(time.perf_counter() - started)

    def sync(self) -> None:
        """fsync the open segment if it has unsynced records ("interval" policy)."""
        with self.io_lock:
            if self._dirty and self._file is not None:
                self._fsync_locked()

    def rotate_locked(self) -> int:
        """Close the open segment and start the next; caller holds ``io_lock``.

        Returns the new segment id: every record in older segments is already applied.
        """
        self._rotate_locked()
        return self._segment_id

    def _rotate_locked(self) -> None:
        if self._file is not None:
            if self._dirty or not self._fsync_always:
                self._fsync_locked()
            self._file.close()
        self._open_segment(self._segment_id + 1)

    def remove_segments_before(self, segment_id: int) -> None:
        removed = False
        for seg in list_segments(self.directory):
            if seg < segment_id:
                (self.directory / segment_name(seg)).unlink(missing_ok=True)
                removed = True
        if removed:
            fsync_dir(self.directory)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            while self._leader:
                self._cv.wait()
        with self.io_lock:
            if self._file is not None:
                if self._dirty:
                    self._fsync_locked()
                self._file.close()
                self._file = None
