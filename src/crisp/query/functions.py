"""InfluxQL functions: which family each belongs to and how aggregates become SQL.

Aggregates and selectors run inside DuckDB per (bucket, tag set); transformations
(derivative & co.) run afterwards in ``crisp.query.transforms`` over the ordered
values, because they depend on the previous row, not on a group. Aggregates with rules
awkward in SQL live in ``crisp.query.postagg``.
"""

from __future__ import annotations

from crisp.core.batch import FieldType
from crisp.query.columns import NUMERIC
from crisp.query.errors import QueryError
from crisp.query.sql import Params, quote_ident

AGGREGATES = frozenset({"count", "mean", "median", "spread", "stddev", "sum"})
SELECTORS = frozenset({"first", "last", "min", "max", "percentile"})
TRANSFORMS = frozenset(
    {
        "derivative",
        "non_negative_derivative",
        "difference",
        "non_negative_difference",
        "moving_average",
        "cumulative_sum",
        "elapsed",
    }
)
_NUMERIC_ONLY = frozenset({"mean", "median", "spread", "stddev", "sum", "percentile"})


def selector_order(name: str, value_sql: str) -> tuple[str, str]:
    """(``arg_min`` or ``arg_max``, ordering key) by which selector ``name`` picks its point.

    Like InfluxDB 1.x, ``min``/``max`` break ties in favour of the earliest point, so
    equal values always give the same answer (DuckDB compares struct keys field by
    field).
    """
    time = quote_ident("time")
    if name == "first":
        return "arg_min", time
    if name == "last":
        return "arg_max", time
    if name == "min":
        return "arg_min", f"{{'v': {value_sql}, 't': {time}}}"
    if name == "max":
        return "arg_max", f"{{'v': {value_sql}, 't': -{time}}}"
    raise ValueError(f"{name} is not a selector with an ordering")


def aggregate_sql(
    name: str,
    field: str,
    field_type: FieldType | None,
    params: Params,
    *,
    distinct: bool = False,
    percentile: float | None = None,
) -> tuple[str, str | None]:
    """(value SQL, SQL of the selected point's time or None) for ``name(field)``.

    ``field_type`` None means the measurement lacks the field: the result is NULL
    (count: 0), as InfluxDB returns nothing for it.
    """
    if field_type is None:
        return ("0" if name == "count" else "NULL"), None
    if name in _NUMERIC_ONLY and field_type not in NUMERIC:
        raise QueryError(f"unsupported {name} iterator type: {field_type.value}")
    col = quote_ident(field)
    time = quote_ident("time")
    not_null = f"FILTER (WHERE {col} IS NOT NULL)"
    if name == "count":
        return (f"count(DISTINCT {col})" if distinct else f"count({col})"), None
    if distinct:
        raise QueryError(f"distinct() is only supported inside count(), not {name}()")
    simple = {
        "mean": f"avg({col})",
        "median": f"median({col})",
        "spread": f"(max({col}) - min({col}))",
        "stddev": f"stddev_samp({col})",
        "sum": f"sum({col})",
    }
    if name in simple:
        return simple[name], None
    if name == "first":
        return f"arg_min({col}, {time}) {not_null}", f"min({time}) {not_null}"
    if name == "last":
        return f"arg_max({col}, {time}) {not_null}", f"max({time}) {not_null}"
    if name in ("min", "max"):
        function, key = selector_order(name, col)
        return f"{name}({col})", f"{function}({time}, {key}) {not_null}"
    if name == "percentile":
        assert percentile is not None
        return percentile_sql(col, params.bind(percentile))
    raise QueryError(f"undefined function {name}()")


def percentile_sql(col: str, percentile: str) -> tuple[str, str]:
    """(value SQL, time SQL) of ``percentile(col, p)``, InfluxDB 1.x's nearest rank.

    InfluxDB sorts the points by value (earliest first among equal values) and takes the
    k-th, k = floor(n*p/100 + 0.5) (1-based); nothing when k falls outside 1..n.

    The value is the k-th smallest value, so sorting the bare values suffices (much
    cheaper than sorting (value, time) structs). The time, only needed when the
    selector reports its point's time, is the j-th earliest time among the points
    holding that value, j = k - (number of smaller values), found by filtering the
    unsorted points; a lambda binds the sorted values and k once.
    """
    time = quote_ident("time")
    not_null = f"FILTER (WHERE {col} IS NOT NULL)"
    n = f"count({col})"
    k = f"CAST(floor({n} * {percentile} / 100.0 + 0.5) AS BIGINT)"
    rank = f"(CASE WHEN {k} BETWEEN 1 AND {n} THEN {k} END)"
    values = f"list_sort(list({col}) {not_null})"
    value_sql = f"list_extract({values}, {rank})"
    points = f"list({{'v': {col}, 't': {time}}}) {not_null}"
    bound = f"[{{'values': {values}, 'points': {points}, 'k': {rank}}}]"
    picked = "list_extract(b.values, b.k)"
    ties = f"list_transform(list_filter(b.points, lambda p: p.v = {picked}), lambda p: p.t)"
    j = f"b.k - list_position(b.values, {picked}) + 1"
    time_sql = f"list_transform({bound}, lambda b: list_extract(list_sort({ties}), {j}))[1]"
    return value_sql, time_sql
