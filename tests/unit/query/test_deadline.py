"""The shared watchdog that interrupts DuckDB when a statement runs out of time."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from crisp.query.deadline import Deadline, Watchdog
from crisp.query.errors import QueryError
from crisp.query.sql import Params


def test_armed_timers_fire_in_time_order_and_disarmed_ones_never() -> None:
    watchdog = Watchdog()
    fired: list[str] = []
    done = threading.Event()
    now = time.monotonic()

    def last() -> None:
        fired.append("late")
        done.set()

    watchdog.arm(now + 0.10, last)
    cancelled = watchdog.arm(now + 0.02, lambda: fired.append("cancelled"))
    watchdog.arm(now + 0.05, lambda: fired.append("early"))
    watchdog.disarm(cancelled)
    assert done.wait(5)
    assert fired == ["early", "late"]


def test_many_disarmed_timers_do_not_pile_up() -> None:
    watchdog = Watchdog()
    for _ in range(1000):
        watchdog.disarm(watchdog.arm(time.monotonic() + 60, lambda: None))
    assert len(watchdog._heap) <= 130


def test_runaway_sql_is_interrupted() -> None:
    connection = duckdb.connect(":memory:")
    slow = "SELECT count(*) FROM range(10000000000) a WHERE a.range % 7 = 3"
    started = time.monotonic()
    with pytest.raises(QueryError, match="timeout"):
        Deadline(0.2).fetch(connection, slow, Params())
    assert time.monotonic() - started < 5
    # The connection is still usable, and a quick query is not interrupted later.
    assert Deadline(0.2).fetch(connection, "SELECT 1", Params()) == [(1,)]
    time.sleep(0.3)
    assert connection.execute("SELECT 2").fetchall() == [(2,)]
