"""InfluxQL functions: which family each belongs to and how aggregates become SQL.

Aggregates and selectors run inside DuckDB per (bucket, tag set); transformations
(derivative & co.) run afterwards in ``crisp.query.transforms`` over the ordered
values, because they depend on the previous row, not on a group. Aggregates with rules
awkward in SQL live in ``crisp.query.postagg``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from crisp.core.batch import FieldType
from crisp.query.columns import NUMERIC
from crisp.query.errors import QueryError
from crisp.query.influxql import ast
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
# InfluxQL functions Crisp refuses by name rather than calling them undefined.
NOT_SUPPORTED = frozenset({"holt_winters", "holt_winters_with_fit"})
NUMERIC_ONLY = frozenset({"mean", "median", "spread", "stddev", "sum", "percentile"})

# Math functions (InfluxDB 1.6): per row on raw values, or over aggregates. Number of
# arguments; the ones keeping an integer argument's type (the others give floats).
MATH: dict[str, int] = {
    **dict.fromkeys(("abs", "floor", "ceil", "round"), 1),
    **dict.fromkeys(("sin", "cos", "tan", "asin", "acos", "atan", "exp", "sqrt"), 1),
    **dict.fromkeys(("ln", "log2", "log10"), 1),
    **dict.fromkeys(("atan2", "pow", "log"), 2),
}
KEEPS_INTEGER = frozenset({"abs", "floor", "ceil", "round"})


def _round_half_away(x: float) -> float:
    return float(math.copysign(math.floor(abs(x) + 0.5), x))


def _log(x: float, base: float) -> float:
    return math.log(x) / math.log(base)


_PY_MATH: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": _round_half_away,  # Go's math.Round, not Python's round-half-even
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "ln": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "atan2": math.atan2,
    "pow": math.pow,
    "log": _log,
}


def math_value(name: str, args: list[Any]) -> Any:
    """Math function ``name`` in Python, for values computed after the query
    (e.g. abs(derivative(...))): null in, or out of domain, gives null."""
    if any(a is None or isinstance(a, bool | str) for a in args):
        return None
    try:
        value = _PY_MATH[name](*args)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
    if name in KEEPS_INTEGER and all(isinstance(a, int) for a in args):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def is_math(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Call) and expr.name in MATH


def math_sql(name: str, args: list[str], integer_arg: bool) -> str:
    """SQL of math function ``name`` over argument SQL ``args`` (arity checked).

    Out-of-domain results (sqrt(-1), ln(0) ...) are null, as InfluxDB answers NaN.
    """
    if len(args) != MATH[name]:
        raise QueryError(
            f"invalid number of arguments for {name}, expected {MATH[name]}, got {len(args)}"
        )
    if name in KEEPS_INTEGER and integer_arg:
        # An integer is its own floor, ceiling and rounding.
        return f"abs({args[0]})" if name == "abs" else args[0]
    floats = [f"CAST({a} AS DOUBLE)" for a in args]
    if name == "log":
        value = f"(ln({floats[0]}) / ln({floats[1]}))"
    elif name == "pow":
        value = f"pow({floats[0]}, {floats[1]})"
    else:
        value = f"{name}({', '.join(floats)})"
    return f"(CASE WHEN isfinite({value}) THEN {value} END)"


def selector_order(name: str, value_sql: str) -> tuple[str, str]:
    """(``arg_min`` or ``arg_max``, ordering key) by which selector ``name`` picks its point.

    Like InfluxDB 1.x, ``min``/``max`` break ties in favour of the earliest point, and
    ``first``/``last`` break ties between points of the same time (several series) in
    favour of the largest value, so equal keys always give the same answer (DuckDB
    compares struct keys field by field).
    """
    time = quote_ident("time")
    if name == "first":
        return "arg_max", f"{{'t': -{time}, 'v': {value_sql}}}"
    if name == "last":
        return "arg_max", f"{{'t': {time}, 'v': {value_sql}}}"
    if name == "min":
        return "arg_min", f"{{'v': {value_sql}, 't': {time}}}"
    if name == "max":
        return "arg_max", f"{{'v': {value_sql}, 't': -{time}}}"
    raise ValueError(f"{name} is not a selector with an ordering")


# Selector keys of two 64-bit integers (a value and a time) packed into one 128-bit
# unsigned integer, high half first, so that plain min()/max() order them like the
# struct keys of ``selector_order``: DuckDB compares structs field by field through a
# generic sort key, which cost 2-2.5x the CPU of the whole max-per-host query (4,000
# hosts x 1 h: 81 -> 33-39 ms of DuckDB CPU). Floats and booleans keep the struct key.
PACKABLE = frozenset({FieldType.INTEGER, FieldType.UNSIGNED})
_LOW_MASK = "18446744073709551615::UHUGEINT"  # 2^64 - 1


def _half(sql: str, field_type: FieldType, *, descending: bool = False) -> str:
    """``sql`` (BIGINT, or UBIGINT when ``field_type`` is unsigned) mapped onto
    0 .. 2^64 - 1, order kept (or reversed when ``descending``), as a UHUGEINT."""
    if field_type is FieldType.UNSIGNED:
        if descending:
            return f"({_LOW_MASK} - {sql}::UHUGEINT)"
        return f"{sql}::UHUGEINT"
    # -2^63 .. 2^63 - 1 shifted by 2^63 (in HUGEINT: no BIGINT overflow on the way).
    if descending:
        return f"(9223372036854775807::HUGEINT - {sql})::UHUGEINT"
    return f"({sql}::HUGEINT + 9223372036854775808)::UHUGEINT"


def _unhalf(sql: str, field_type: FieldType, *, descending: bool = False) -> str:
    """The inverse of ``_half`` on the low 64 bits of packed key ``sql``."""
    low = f"({sql} & {_LOW_MASK})"
    if field_type is FieldType.UNSIGNED:
        if descending:
            return f"CAST({_LOW_MASK} - {low} AS UBIGINT)"
        return f"CAST({low} AS UBIGINT)"
    if descending:
        return f"CAST(9223372036854775807::HUGEINT - {low}::HUGEINT AS BIGINT)"
    return f"CAST({low}::HUGEINT - 9223372036854775808 AS BIGINT)"


def packed_key(high: str, low: str) -> str:
    """One UHUGEINT ordering by ``high`` then ``low`` (both ``_half`` results)."""
    return f"(({high} << 64) | {low})"


def packed_selector(name: str, col: str, field_type: FieldType) -> str:
    """SQL of what selector ``name`` picks from an integer ``col``, by one min()/max()
    of a packed key: the selected point's time for ``min``/``max`` (earliest among
    equal values), the value for ``first``/``last`` (largest among equal times); the
    same picks as ``selector_order``'s struct keys."""
    time = quote_ident("time")
    if name == "max":
        key = packed_key(_half(col, field_type), _half(time, FieldType.INTEGER, descending=True))
        return _unhalf(f"max({key})", FieldType.INTEGER, descending=True)
    if name == "min":
        key = packed_key(_half(col, field_type), _half(time, FieldType.INTEGER))
        return _unhalf(f"min({key})", FieldType.INTEGER)
    if name == "first":
        key = packed_key(_half(time, FieldType.INTEGER, descending=True), _half(col, field_type))
        return _unhalf(f"max({key})", field_type)
    if name == "last":
        key = packed_key(_half(time, FieldType.INTEGER), _half(col, field_type))
        return _unhalf(f"max({key})", field_type)
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

    ``field_type`` None means the measurement lacks the field: the result is NULL (for
    count() too), as InfluxDB returns nothing for it.
    """
    if field_type is None:
        return "NULL", None
    if name in NUMERIC_ONLY and field_type not in NUMERIC:
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
    packable = field_type in PACKABLE
    if name in ("first", "last"):
        time_sql = f"{'min' if name == 'first' else 'max'}({time}) {not_null}"
        if packable:
            return packed_selector(name, col, field_type), time_sql
        function, key = selector_order(name, col)
        return f"{function}({col}, {key}) {not_null}", time_sql
    if name in ("min", "max"):
        if packable:
            return f"{name}({col})", packed_selector(name, col, field_type)
        function, key = selector_order(name, col)
        return f"{name}({col})", f"{function}({time}, {key}) {not_null}"
    if name == "percentile":
        assert percentile is not None
        return percentile_sql(col, params, percentile, field_type)
    raise QueryError(f"undefined function {name}()")


# The first pass of exact percentiles, joined to ``points`` by the group's keys.
PERCENTILE_CTE = "__crisp_pq"


def _percentile_parts(col: str, params: Params, percent: float) -> tuple[str, str, str, str]:
    """(v, n, k, lt) of ``percentile(col, percent)`` in one group.

    InfluxDB 1.x sorts the points by value (earliest first among equal values) and takes
    the k-th, k = floor(n*p/100 + 0.5) (1-based); nothing when k is outside 1..n.
    Sorting every group's values (``list_sort``) cost most of a p95 query, so a first
    pass per group takes DuckDB's ``quantile_disc`` instead: its rank is ceil(n*p/100),
    which is k or k + 1. ``v`` is that value (a column of the joined first pass), ``lt``
    the number of values below it: the k-th value is ``v`` when lt <= k - 1, else the
    largest value below ``v`` (then lt = k exactly).
    """
    index = params.percentile_input(col, percent)
    v = f"{PERCENTILE_CTE}.{quote_ident(f'__crisp_v{index}')}"
    n = f"count({col})"
    k = f"CAST(floor({n} * {params.bind(percent)} / 100.0 + 0.5) AS BIGINT)"
    lt = f"count({col}) FILTER (WHERE {col} < {v})"
    return v, n, k, lt


def percentile_sql(
    col: str, params: Params, percent: float, field_type: FieldType
) -> tuple[str, str]:
    """(value SQL, time SQL) of ``percentile(col, p)``, InfluxDB 1.x's nearest rank.

    The point's time, when the selector reports it: among the points holding the k-th
    value, the (k - lt)-th earliest when that value is ``v``; when it is the largest
    value below ``v``, all its points rank at or below k, so the latest of them (a
    packed key for integers: most points of a group lie below ``v``, and a struct key
    over all of them cost ~40 % of a p95 query).
    """
    time = quote_ident("time")
    v, n, k, lt = _percentile_parts(col, params, percent)
    in_range = f"{k} BETWEEN 1 AND {n}"
    is_v = f"{k} - 1 >= {lt}"
    below = f"FILTER (WHERE {col} < {v})"
    value_sql = (
        f"(CASE WHEN {in_range} THEN (CASE WHEN {is_v} THEN any_value({v}) "
        f"ELSE max({col}) {below} END) END)"
    )
    ties = f"list_sort(list({time}) FILTER (WHERE {col} = {v}))"
    if field_type in PACKABLE:
        key = packed_key(_half(col, field_type), _half(time, FieldType.INTEGER))
        latest_below = _unhalf(f"max({key}) {below}", FieldType.INTEGER)
    else:
        latest_below = f"arg_max({time}, {{'v': {col}, 't': {time}}}) {below}"
    time_sql = (
        f"(CASE WHEN {in_range} THEN (CASE WHEN {is_v} THEN list_extract({ties}, {k} - {lt}) "
        f"ELSE {latest_below} END) END)"
    )
    return value_sql, time_sql


def percentile_aux_sql(col: str, params: Params, percent: float, aux: str) -> str:
    """SQL of ``aux`` in the point ``percentile(col, p)`` picks (see ``percentile_sql``)."""
    time = quote_ident("time")
    v, n, k, lt = _percentile_parts(col, params, percent)
    ties = f"list({aux} ORDER BY {time}) FILTER (WHERE {col} = {v})"
    picked_below = f"arg_max_null({aux}, {{'v': {col}, 't': {time}}}) FILTER (WHERE {col} < {v})"
    return (
        f"(CASE WHEN {k} BETWEEN 1 AND {n} THEN (CASE WHEN {k} - 1 >= {lt} "
        f"THEN list_extract({ties}, {k} - {lt}) ELSE {picked_below} END) END)"
    )


def percentile_first_pass(
    params: Params, group_exprs: list[str], source: str, where: str
) -> tuple[str, str]:
    """(WITH clause, JOIN clause) giving each group the inputs its percentiles read."""
    keys = [f"{e} AS {quote_ident(f'__crisp_g{i}')}" for i, e in enumerate(group_exprs)]
    inputs = []
    for index, (col, percent) in enumerate(params.percentile_inputs):
        # quantile_disc wants a fraction in [0, 1]; k decides outside that range.
        fraction = params.bind(min(max(percent / 100.0, 0.0), 1.0))
        inputs.append(f"quantile_disc({col}, {fraction}) AS {quote_ident(f'__crisp_v{index}')}")
    group_by = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys))) if keys else ""
    cte = (
        f"WITH {PERCENTILE_CTE} AS (SELECT {', '.join(keys + inputs)} "
        f"FROM {source}{where}{group_by}) "
    )
    if not group_exprs:
        return cte, f" CROSS JOIN {PERCENTILE_CTE}"
    on = " AND ".join(
        f"{e} = {PERCENTILE_CTE}.{quote_ident(f'__crisp_g{i}')}" for i, e in enumerate(group_exprs)
    )
    return cte, f" JOIN {PERCENTILE_CTE} ON {on}"
