"""Running SQL under the statement's time budget.

A timer calls DuckDB's ``interrupt()`` so a runaway scan really stops, rather than
merely being abandoned by Python while it keeps a core busy. One watchdog thread per
process serves every timer: starting a thread per fetch cost about a millisecond.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

from crisp.query.errors import QueryError
from crisp.query.sql import Params

T = TypeVar("T")


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds if seconds > 0 else None

    def remaining(self) -> float | None:
        if self.expires is None:
            return None
        return self.expires - time.monotonic()

    def check(self) -> None:
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise self.error()

    def error(self) -> QueryError:
        return QueryError(f"query timeout: exceeded {self.seconds:g}s")

    def fetch(self, connection: Any, sql: str, params: Params) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.run(
            connection, lambda: connection.execute(sql, params.values).fetchall()
        )
        return rows

    def run(self, connection: Any, work: Callable[[], T]) -> T:
        """``work()`` (DuckDB calls on ``connection``), interrupted when time runs out."""
        self.check()
        timer = None
        if self.expires is not None:
            timer = WATCHDOG.arm(self.expires, connection.interrupt)
        try:
            return work()
        except duckdb.InterruptException as error:
            raise self.error() from error
        except duckdb.Error as error:
            raise QueryError(_clean(str(error))) from error
        finally:
            if timer is not None:
                WATCHDOG.disarm(timer)


class _Timer:
    __slots__ = ("callback", "live", "seq", "when")

    def __init__(self, when: float, seq: int, callback: Callable[[], object]) -> None:
        self.when, self.seq, self.callback, self.live = when, seq, callback, True

    def __lt__(self, other: _Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class Watchdog:
    """Calls each armed callback at its monotonic time, unless disarmed before then."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[_Timer] = []
        self._cancelled = 0
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, when: float, callback: Callable[[], object]) -> _Timer:
        timer = _Timer(when, next(self._seq), callback)
        with self._lock:
            heapq.heappush(self._heap, timer)
            if self._thread is None or not self._thread.is_alive():  # first use, or forked
                self._thread = threading.Thread(target=self._loop, name="query-deadline")
                self._thread.daemon = True
                self._thread.start()
            elif self._heap[0] is timer:
                self._lock.notify()
        return timer

    def disarm(self, timer: _Timer) -> None:
        with self._lock:
            if not timer.live:
                return
            timer.live = False
            timer.callback = _nothing  # let go of the connection now, not when due
            self._cancelled += 1
            # Disarmed timers wait in the heap until due; drop them when they pile up.
            if self._cancelled > 64 and 2 * self._cancelled > len(self._heap):
                self._heap = [t for t in self._heap if t.live]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._heap and not self._heap[0].live:
                    heapq.heappop(self._heap)
                    self._cancelled -= 1
                if not self._heap:
                    self._lock.wait()
                    continue
                first = self._heap[0]
                delay = first.when - time.monotonic()
                if delay > 0:
                    self._lock.wait(delay)
                    continue
                heapq.heappop(self._heap)
                first.live = False
                callback, first.callback = first.callback, _nothing
            with contextlib.suppress(Exception):
                callback()
            del callback, first  # this daemon thread's frame must not keep a connection


def _nothing() -> None:
    return None


WATCHDOG = Watchdog()


def _clean(message: str) -> str:
    # DuckDB prefixes "Invalid Input Error: ..." and may add multi-line context.
    return message.splitlines()[0] if message else "query failed"
