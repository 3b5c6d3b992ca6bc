"""Shapes of the generated SQL that matter for speed, with their results unchanged."""

from __future__ import annotations

import pytest

from crisp.core.batch import FieldType
from crisp.query.columns import Columns
from crisp.query.filters import condition_sql
from crisp.query.influxql import parse_expr
from crisp.query.sql import Params
from tests.unit.query.conftest import S
from tests.unit.query.memory_storage import MemoryStorage
from tests.unit.query.test_select import series, values

COLUMNS = Columns(("host", "region"), {"value": FieldType.FLOAT})


def test_tag_equal_to_a_non_empty_value_uses_the_bare_column() -> None:
    params = Params()
    assert condition_sql(parse_expr("host = 'a'"), COLUMNS, params) == '("host" = $p0)'
    assert params.values == {"p0": "a"}


@pytest.mark.parametrize("condition", ["host = ''", "host != 'a'", "host = region"])
def test_other_tag_comparisons_keep_missing_tags_as_empty(condition: str) -> None:
    assert "coalesce" in condition_sql(parse_expr(condition), COLUMNS, Params())


def test_missing_tag_still_equals_empty_and_never_a_value(storage: MemoryStorage) -> None:
    # Host c has no region tag.
    assert values(storage, "SELECT value FROM cpu WHERE region = ''") == [[5 * S, 100.0]]
    q = "SELECT value FROM cpu WHERE region = 'eu' OR host = 'c'"
    assert [row[1] for row in values(storage, q)] == [1.0, 100.0, 2.0, 4.0, 8.0]


def test_groups_without_aggregated_values_are_still_absent(storage: MemoryStorage) -> None:
    # n exists only for host a, s only for host c: count(n) has no row for b or c.
    q = "SELECT count(n) FROM cpu GROUP BY host"
    assert [one["tags"] for one in series(storage, q)] == [{"host": "a"}]
    q = "SELECT count(n), count(s) FROM cpu GROUP BY host"
    got = [(one["tags"], one["values"]) for one in series(storage, q)]
    assert got == [({"host": "a"}, [[0, 4, 0]]), ({"host": "c"}, [[0, 0, 1]])]
    q = "SELECT count(n) FROM cpu WHERE host = 'b'"
    assert series(storage, q) == []
