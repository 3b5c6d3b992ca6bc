"""Bodies ``Engine.write_lines`` logged but has not parsed into the buffer yet.

Several threads parse them: the engine's lines thread, writers that find too much
pending (backpressure) and reads that need everything acknowledged before they
start. Each body is *claimed* by one parser so no two parse the same body; a read
that finds a body claimed waits for it instead. Adding and removing happen under
``Wal.io_lock`` (the caller's), which keeps "logged in a closed segment" and "in the
buffer a flush swaps out" the same set; claims and waiting use this object's own
condition, which is never held while taking ``io_lock``.
"""

from __future__ import annotations

import threading

from crisp.storage.wal import WalLines


class PendingLines:
    def __init__(self) -> None:
        self._records: dict[int, WalLines] = {}  # by first seq, in log order
        self._claimed: set[int] = set()
        self._cv = threading.Condition()
        self.bytes = 0

    def __bool__(self) -> bool:
        return bool(self._records)

    def snapshot(self) -> list[WalLines]:
        # list() of a dict view runs in C without releasing the GIL: no torn reads.
        return list(self._records.values())

    # -- under Wal.io_lock ------------------------------------------------------------

    def add(self, record: WalLines) -> None:
        self._records[record.seq] = record
        self.bytes += len(record.body)
        with self._cv:
            self._cv.notify_all()

    def contains(self, record: WalLines) -> bool:
        return record.seq in self._records

    def remove(self, record: WalLines) -> None:
        """Once its rows are in the buffer: "not pending" must mean "visible"."""
        del self._records[record.seq]
        self.bytes -= len(record.body)
        with self._cv:
            self._cv.notify_all()

    def take_all(self) -> list[WalLines]:
        """For a flush, which applies them itself before swapping the buffer out."""
        records = list(self._records.values())
        self._records.clear()
        self.bytes = 0
        with self._cv:
            self._cv.notify_all()
        return records

    # -- claims and waiting (never under io_lock) -------------------------------------

    def claim_next(self) -> WalLines | None:
        """The oldest body nobody is parsing, now claimed by the caller."""
        with self._cv:
            for record in self.snapshot():
                if record.seq not in self._claimed:
                    self._claimed.add(record.seq)
                    return record
        return None

    def claim(self, record: WalLines) -> bool:
        with self._cv:
            if record.seq in self._claimed:
                return False
            self._claimed.add(record.seq)
            return True

    def release(self, record: WalLines) -> None:
        with self._cv:
            self._claimed.discard(record.seq)
            self._cv.notify_all()

    def wait_gone(self, record: WalLines) -> None:
        """Until another thread's parse of ``record`` is in the buffer (or abandoned:
        then the caller may claim it)."""
        with self._cv:
            while record.seq in self._records and record.seq in self._claimed:
                self._cv.wait()

    def wait_for_work(self, timeout: float) -> None:
        with self._cv:
            if not any(seq not in self._claimed for seq in list(self._records)):
                self._cv.wait(timeout)

    def wake_all(self) -> None:
        with self._cv:
            self._cv.notify_all()
