"""Running SQL under the statement's time budget.

A timer calls DuckDB's ``interrupt()`` so a runaway scan really stops, rather than
merely being abandoned by Python while it keeps a core busy.
"""

from __future__ import annotations

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
        remaining = self.remaining()
        timer = None
        if remaining is not None:
            timer = threading.Timer(remaining, connection.interrupt)
            timer.daemon = True
            timer.start()
        try:
            return work()
        except duckdb.InterruptException as error:
            raise self.error() from error
        except duckdb.Error as error:
            raise QueryError(_clean(str(error))) from error
        finally:
            if timer is not None:
                timer.cancel()


def _clean(message: str) -> str:
    # DuckDB prefixes "Invalid Input Error: ..." and may add multi-line context.
    return message.splitlines()[0] if message else "query failed"
