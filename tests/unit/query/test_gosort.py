"""The replay of Go's sort.Sort: a correct sort, stable only where Go's is.

That it leaves equal elements where Go leaves them is checked against influxd by the
compatibility suite (top()/bottom() of many tied points).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crisp.query.gosort import go_sort


@given(st.lists(st.integers(0, 5), max_size=300))
def test_sorts_every_input(values: list[int]) -> None:
    items = list(enumerate(values))
    go_sort(items, lambda a, b: a[1] < b[1])
    assert [v for _, v in items] == sorted(values)
    assert sorted(items) == sorted(enumerate(values))


@given(st.lists(st.integers(0, 2), max_size=12))
def test_up_to_twelve_elements_it_is_an_insertion_sort(values: list[int]) -> None:
    items = list(enumerate(values))
    go_sort(items, lambda a, b: a[1] < b[1])
    assert items == sorted(enumerate(values), key=lambda item: item[1])  # stable


def test_beyond_twelve_equal_elements_move() -> None:
    items = list(enumerate([1] * 7 + [0] * 7))
    go_sort(items, lambda a, b: a[1] < b[1])
    assert [v for _, v in items] == [0] * 7 + [1] * 7
    assert [i for i, _ in items] != sorted(range(14), key=lambda i: i < 7)
