"""The collector's spool: append-only, fsynced segment files read back in order.

A request is acknowledged once its record is here (fsynced), so a crash or a sink
outage never loses an acknowledged point. Concurrent requests share one fsync (group
commit): the first append starts a flush task that writes everything queued, fsyncs
once in a worker thread and releases all those requests; appends arriving meanwhile
queue for the next round, so the fsync rate stays bounded while throughput scales
with concurrency (the pattern of ``crisp.storage.wal``, in asyncio form).

Layout: ``<dir>/<20-digit id>.spool``, each an 8-byte magic then frames
``u32 length | u32 crc32 | payload``. ``<dir>/cursor`` holds the delivered position
(``segment offset``); it is written without fsync because losing it only makes the
delivery loop resend records, and storage treats a resend as an overwrite (same
series and time), so it cannot duplicate points.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crisp.core.durable import fsync_dir
from crisp.core.framing import FRAME, frame, frame_end

log = logging.getLogger(__name__)

SEGMENT_MAGIC = b"CRSPL001"
SEGMENT_SUFFIX = ".spool"
CURSOR_FILE = "cursor"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
RETRY_AFTER_SECONDS = 5


class SpoolError(Exception):
    """The spool cannot take the write (I/O error, closed); the request is not acknowledged."""


class SpoolFull(SpoolError):
    """Accepting this write would pass ``spool_max_bytes``: answer 429, keep nothing."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the collector's spool is full ({limit} bytes): the sink is not keeping up "
            f"or is down; retry after {RETRY_AFTER_SECONDS} s"
        )
        self.retry_after = RETRY_AFTER_SECONDS


@dataclass(frozen=True, order=True)
class Position:
    """Where a record starts (or the reader stands): segment id and byte offset."""

    segment: int
    offset: int


def segment_name(segment_id: int) -> str:
    return f"{segment_id:020d}{SEGMENT_SUFFIX}"


class Spool:
    """Open a spool directory (recovering a torn tail) and append/read/acknowledge."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        on_fsync: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._on_fsync = on_fsync
        # Guards _sizes and _acked: the writer thread, the reader thread and the event
        # loop all touch them.
        self._lock = threading.Lock()
        self._sizes: dict[int, int] = {}
        self._recover()
        self._acked = self._read_cursor()
        for segment_id in [s for s in self._sizes if s < self._acked.segment]:
            self._remove_segment(segment_id)
        # Never append to a segment written before a restart: its tail was just checked,
        # new records go to a fresh one so old segments are read-only from here on.
        self._active_id = max(self._sizes, default=0) + 1
        self._file: BinaryIO = self._open_segment(self._active_id)
        self._end = Position(self._active_id, len(SEGMENT_MAGIC))
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._pending_bytes = 0
        self._writing_bytes = 0  # taken by the flush in progress, not yet in _sizes
        self._flusher: asyncio.Task[None] | None = None
        self._data = asyncio.Event()
        self._closed = False
        self._broken: BaseException | None = None

    # ------------------------------------------------------------------ writing

    @property
    def size_bytes(self) -> int:
        """Record bytes not yet delivered (segment headers are not counted)."""
        with self._lock:
            total = sum(size - len(SEGMENT_MAGIC) for size in self._sizes.values())
            if self._acked.segment in self._sizes:
                total -= self._acked.offset - len(SEGMENT_MAGIC)
            return total

    def check_room(self, size: int) -> None:
        """Raise :class:`SpoolFull` unless ``size`` more bytes fit under the cap."""
        queued = self._pending_bytes + self._writing_bytes
        if self.size_bytes + queued + size + FRAME.size > self.max_bytes:
            raise SpoolFull(self.max_bytes)

    async def append(self, payload: bytes) -> None:
        """Return once ``payload`` is fsynced; raise :class:`SpoolError` if it is not."""
        if self._closed:
            raise SpoolError("the collector is shutting down")
        if self._broken is not None:
            raise SpoolError(f"the spool failed and takes no writes: {self._broken}")
        self.check_room(len(payload))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        framed = frame(payload)
        self._pending.append((framed, done))
        self._pending_bytes += len(framed)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_loop())
        await done

    async def _flush_loop(self) -> None:
        try:
            while self._pending:
                entries, self._pending = self._pending, []
                self._writing_bytes, self._pending_bytes = self._pending_bytes, 0
                try:
                    await asyncio.to_thread(self._write_and_sync, [e[0] for e in entries])
                except Exception as error:  # any I/O failure: none of these is acknowledged
                    log.exception("spool write failed; %d requests get 503", len(entries))
                    for _, done in entries:
                        if not done.done():
                            done.set_exception(SpoolError(f"spool write failed: {error}"))
                    continue
                finally:
                    self._writing_bytes = 0
                for _, done in entries:
                    if not done.done():  # the client may have gone; the record stays
                        done.set_result(None)
                self._data.set()
        finally:
            self._flusher = None

    def _write_and_sync(self, frames: list[bytes]) -> None:
        start = self._end.offset
        try:
            self._file.write(b"".join(frames))
            self._file.flush()
            started = time.monotonic()
            os.fsync(self._file.fileno())
            self._on_fsync(time.monotonic() - started)
        except OSError:
            self._recover_from_write_error(start)
            raise
        size = start + sum(len(f) for f in frames)
        with self._lock:
            self._sizes[self._active_id] = size
        self._end = Position(self._active_id, size)
        if size >= self._segment_bytes:
            self._rotate()

    def _recover_from_write_error(self, committed: int) -> None:
        # After a failed write/fsync the file's tail is unknown (a later fsync may not
        # report the lost pages again): cut it back to what was acknowledged and move on
        # to a new segment, so no record is ever appended after garbage.
        try:
            os.ftruncate(self._file.fileno(), committed)
            os.fsync(self._file.fileno())
        except OSError as error:
            self._broken = error
            return
        with contextlib.suppress(OSError):  # its buffer may still hold the failed bytes
            self._file.close()
        try:
            self._rotate(reopen_only=True)
        except OSError as error:
            self._broken = error

    def _rotate(self, *, reopen_only: bool = False) -> None:
        if not reopen_only:
            self._file.close()
        self._active_id += 1
        self._file = self._open_segment(self._active_id)
        self._end = Position(self._active_id, len(SEGMENT_MAGIC))

    def _open_segment(self, segment_id: int) -> BinaryIO:
        path = self.directory / segment_name(segment_id)
        handle = open(path, "xb")  # noqa: SIM115  # kept open across calls
        handle.write(SEGMENT_MAGIC)
        handle.flush()
        os.fsync(handle.fileno())
        fsync_dir(self.directory)
        with self._lock:
            self._sizes[segment_id] = len(SEGMENT_MAGIC)
        return handle

    # ------------------------------------------------------------------ reading

    @property
    def end(self) -> Position:
        """Position just past the last fsynced record."""
        return self._end

    @property
    def acknowledged(self) -> Position:
        """Where delivery resumes: everything before it reached the sink."""
        return self._acked

    async def wait_for_data(self, position: Position, timeout: float) -> None:
        """Return when records exist past ``position`` or after ``timeout`` seconds."""
        if position < self._end:
            return
        self._data.clear()
        if position < self._end:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._data.wait(), timeout)

    def wake(self) -> None:
        """End a ``wait_for_data`` early (shutdown)."""
        self._data.set()

    def read(self, position: Position, max_bytes: int) -> tuple[list[bytes], Position]:
        """Fsynced payloads from ``position`` on (about ``max_bytes``), and where they end.

        Blocking file I/O: call it in a worker thread. A damaged record in a closed
        segment (disk corruption, not a crash: crashes only tear the last segment) is
        logged and its segment set aside as ``*.corrupt`` for an operator; delivery goes
        on with the next segment rather than stall forever.
        """
        end = self._end
        payloads: list[bytes] = []
        total = 0
        while total < max_bytes and position < end:
            limit = end.offset if position.segment == end.segment else None
            path = self.directory / segment_name(position.segment)
            try:
                handle = open(path, "rb")  # noqa: SIM115  # closed below
            except FileNotFoundError:
                position = self._next_segment(position.segment, end)
                continue
            with handle:
                if limit is None:
                    limit = os.fstat(handle.fileno()).st_size
                if position.offset < len(SEGMENT_MAGIC):
                    position = Position(position.segment, len(SEGMENT_MAGIC))
                handle.seek(position.offset)
                offset = position.offset
                while offset < limit and total < max_bytes:
                    payload = _read_frame(handle, limit - offset)
                    if payload is None:
                        break
                    payloads.append(payload)
                    offset += FRAME.size + len(payload)
                    total += len(payload)
            if offset < limit and total < max_bytes:
                if position.segment == end.segment:
                    # The active segment, written by this process: never set aside. Stop
                    # before the bad frame (only failing disks get here).
                    position = Position(position.segment, offset)
                    break
                self._set_aside(path, offset)
                position = self._next_segment(position.segment, end)
            elif offset >= limit and position.segment < end.segment:
                position = self._next_segment(position.segment, end)
            else:
                position = Position(position.segment, offset)
        return payloads, position

    def _next_segment(self, segment_id: int, end: Position) -> Position:
        with self._lock:
            later = [s for s in self._sizes if segment_id < s <= end.segment]
        following = min(later, default=end.segment)
        if following == end.segment and segment_id >= end.segment:
            return end
        return Position(following, len(SEGMENT_MAGIC))

    def _set_aside(self, path: Path, offset: int) -> None:
        log.error(
            "spool segment %s is damaged at byte %d: moved to %s.corrupt; the records "
            "after that byte are not delivered (inspect or discard it by hand)",
            path,
            offset,
            path.name,
        )
        path.rename(path.with_name(path.name + ".corrupt"))
        with self._lock:
            self._sizes.pop(int(path.name.split(".")[0]), None)

    def acknowledge(self, position: Position) -> None:
        """The sink has everything before ``position``: drop the segments it covers."""
        self._acked = position
        tmp = self.directory / (CURSOR_FILE + ".tmp")
        tmp.write_text(f"{position.segment} {position.offset}\n")
        tmp.replace(self.directory / CURSOR_FILE)
        with self._lock:
            done = [s for s in self._sizes if s < position.segment]
        for segment_id in done:
            self._remove_segment(segment_id)

    def _remove_segment(self, segment_id: int) -> None:
        (self.directory / segment_name(segment_id)).unlink(missing_ok=True)
        with self._lock:
            self._sizes.pop(segment_id, None)

    # ------------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        """Refuse new appends, let queued ones finish, close the active segment."""
        self._closed = True
        while self._flusher is not None:
            await asyncio.sleep(0.005)
        self._file.close()

    def _recover(self) -> None:
        ids = sorted(
            int(p.name.split(".")[0])
            for p in self.directory.glob("*" + SEGMENT_SUFFIX)
            if p.name.split(".")[0].isdigit()
        )
        for segment_id in ids:
            self._sizes[segment_id] = (self.directory / segment_name(segment_id)).stat().st_size
        if ids:
            self._truncate_torn_tail(ids[-1])

    def _truncate_torn_tail(self, segment_id: int) -> None:
        # Only the newest segment can end mid-record after a crash (kill -9 during an
        # append): such a record was never acknowledged, so it is cut off.
        path = self.directory / segment_name(segment_id)
        data = path.read_bytes()
        if not data.startswith(SEGMENT_MAGIC):
            log.warning("spool segment %s has no header (crash at creation): removed", path)
            self._remove_segment(segment_id)
            return
        offset = len(SEGMENT_MAGIC)
        while offset < len(data):
            end, problem = frame_end(data, offset)
            if problem is not None:
                break
            offset = end
        if offset < len(data):
            log.warning(
                "spool segment %s: dropping torn tail of %d bytes at offset %d "
                "(crash during an append that was never acknowledged)",
                path,
                len(data) - offset,
                offset,
            )
            with open(path, "r+b") as handle:
                handle.truncate(offset)
                handle.flush()
                os.fsync(handle.fileno())
            self._sizes[segment_id] = offset

    def _read_cursor(self) -> Position:
        first = min(self._sizes, default=1)
        fallback = Position(first, len(SEGMENT_MAGIC))
        try:
            segment_text, offset_text = (self.directory / CURSOR_FILE).read_text().split()
            cursor = Position(int(segment_text), int(offset_text))
        except (FileNotFoundError, ValueError):
            return fallback
        if cursor.segment not in self._sizes:
            # The segment it names was delivered and removed: resume at the next one.
            later = [s for s in self._sizes if s > cursor.segment]
            return Position(min(later), len(SEGMENT_MAGIC)) if later else fallback
        return cursor


def _read_frame(handle: BinaryIO, available: int) -> bytes | None:
    """The next payload, or None when the frame is incomplete or fails its CRC."""
    if available < FRAME.size:
        return None
    header = handle.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    length, crc = FRAME.unpack(header)
    if FRAME.size + length > available:
        return None
    payload = handle.read(length)
    if len(payload) < length or zlib.crc32(payload) != crc:
        return None
    return payload
