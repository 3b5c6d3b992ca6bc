"""The replay of InfluxDB's top()/bottom() heap: which of equal points survive, in what order.

Expected orders were read from a real influxd 1.6.7 (the compatibility suite checks
the same rules on larger data).
"""

from __future__ import annotations

from crisp.query.topbottom import select_points


def test_best_values_win_and_come_out_best_first() -> None:
    values = [3, 9, 1, 7, 5]
    assert select_points([0, 1, 2, 3, 4], values, 3, bottom=False) == [1, 3, 4]
    assert select_points([0, 1, 2, 3, 4], values, 2, bottom=True) == [2, 0]


def test_among_equal_values_the_earlier_point_wins() -> None:
    assert select_points([30, 10, 20], [5, 5, 5], 1, bottom=False) == [1]
    assert select_points([30, 10, 20], [5, 5, 5], 2, bottom=True) == [1, 2]


def test_exact_ties_follow_the_heap_history() -> None:
    # influxd: hosts a..d at one time with 1, 3, 3, 2 → top 2 is c then b, because c
    # replaced a at the heap's root while b stayed below it.
    assert select_points([10] * 4, [1, 3, 3, 2], 2, bottom=False) == [2, 1]
    # ... and with 5, 5, 7, 5 the top 3 are c, a, b (d never enters: not better than a).
    assert select_points([10] * 4, [5, 5, 7, 5], 3, bottom=False) == [2, 0, 1]
    # A single slot keeps the first of the best: b, not c.
    assert select_points([10] * 4, [1, 3, 3, 2], 1, bottom=False) == [1]
