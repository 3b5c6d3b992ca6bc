"""SELECT syntax tree + one measurement's columns → one SQL statement over ``points``.

The statement returns, per row: the time (raw) or bucket, the GROUP BY tag values,
then one column per output field; everything after that (fill, transformations,
LIMIT per series) is done by ``crisp.query.select`` on the fetched rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from crisp.query.columns import Columns
from crisp.query.errors import QueryError
from crisp.query.filters import condition_sql
from crisp.query.functions import AGGREGATES, SELECTORS, TRANSFORMS, percentile_first_pass
from crisp.query.influxql import ast
from crisp.query.outputs import (
    OutputColumn,
    aggregate_columns,
    aggregated_fields,
    has_call,
    raw_columns,
    selector_time_sql,
    unique_names,
)
from crisp.query.postagg import POST_AGGREGATES
from crisp.query.sql import Params, quote_ident, regex_filter
from crisp.query.timecond import TimeBounds
from crisp.query.topbottom import NAMES as TOP_BOTTOM
from crisp.query.topbottom import Selection, find_call, plan_selection


@dataclass
class Plan:
    sql: str
    params: Params
    columns: list[OutputColumn]
    group_tags: list[str]
    aggregate: bool
    interval_ns: int
    offset_ns: int
    selector_time: bool = False  # a lone selector reports its point's time
    per_series_limit_in_sql: bool = False
    selection: Selection | None = None  # top()/bottom(): one struct column per group


def time_dimension(statement: ast.SelectStatement, tz_shift_ns: int = 0) -> tuple[int, int]:
    """(interval, offset) of GROUP BY time(), (0, 0) when absent.

    ``tz_shift_ns`` is the tz() zone's UTC offset: buckets then start at local
    midnight rather than UTC midnight.
    """
    for dim in statement.dimensions:
        expr = dim.expr
        if isinstance(expr, ast.Call) and expr.name == "time":
            interval = expr.args[0]
            assert isinstance(interval, ast.DurationLiteral)  # checked by the parser
            offset = expr.args[1] if len(expr.args) > 1 else None
            if isinstance(offset, ast.Call):
                raise QueryError("time() offset now() is not supported yet")
            offset_ns = offset.ns if isinstance(offset, ast.DurationLiteral) else 0
            return interval.ns, (offset_ns - tz_shift_ns) % interval.ns
    return 0, 0


def group_tags(statement: ast.SelectStatement, columns: Columns) -> list[str]:
    tags: list[str] = []
    for dim in statement.dimensions:
        expr = dim.expr
        if isinstance(expr, ast.Wildcard):
            tags.extend(columns.tags)
        elif isinstance(expr, ast.RegexLiteral):
            tags.extend(regex_filter(list(columns.tags), expr.pattern))
        elif isinstance(expr, ast.VarRef):
            tags.append(expr.name)
    return sorted(set(tags))


def is_aggregate_query(statement: ast.SelectStatement) -> bool:
    return any(has_call(f.expr) for f in statement.fields)


def is_raw_transform(statement: ast.SelectStatement) -> bool:
    """Every field transforms raw values, e.g. derivative(value) or difference(v) * 8."""
    return all(
        _raw_transform_expr(f.expr)
        for f in statement.fields
        if not (isinstance(f.expr, ast.VarRef) and f.expr.name.lower() == "time")
    )


def _raw_transform_expr(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Call):
        nested = any(isinstance(arg, ast.Call) for arg in expr.args)
        return expr.name in TRANSFORMS and not nested
    if isinstance(expr, ast.BinaryExpr):
        sides = (expr.lhs, expr.rhs)
        literal = (ast.IntegerLiteral, ast.NumberLiteral)
        return all(isinstance(e, literal) or _raw_transform_expr(e) for e in sides) and any(
            not isinstance(e, literal) for e in sides
        )
    return False


def uses_aggregate(statement: ast.SelectStatement) -> bool:
    """Some field aggregates or selects (so no raw rows are returned)."""
    return any(_calls_aggregate(f.expr) for f in statement.fields)


def _calls_aggregate(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Call):
        families = (AGGREGATES, SELECTORS, POST_AGGREGATES, TOP_BOTTOM)
        own = any(expr.name in family for family in families)
        return own or any(_calls_aggregate(arg) for arg in expr.args)
    if isinstance(expr, ast.BinaryExpr):
        return _calls_aggregate(expr.lhs) or _calls_aggregate(expr.rhs)
    return False


def plan_select(
    statement: ast.SelectStatement,
    columns: Columns,
    bounds: TimeBounds,
    condition: ast.Expr | None,
    *,
    max_rows: int,
    tz_shift_ns: int = 0,
) -> Plan | None:
    """The plan, or None when the measurement has none of the selected fields."""
    params = Params()
    interval_ns, offset_ns = time_dimension(statement, tz_shift_ns)
    tags = group_tags(statement, columns)
    calls = is_aggregate_query(statement)
    raw_transform = calls and not interval_ns and is_raw_transform(statement)
    aggregate = calls and not raw_transform
    top_call = find_call(statement) if calls else None
    selection = None
    if top_call is not None:
        selection = plan_selection(statement, top_call, columns, params)
        out, selector_time = selection_columns(selection), False
    elif calls:
        out, selector_time = aggregate_columns(statement, columns, params, interval_ns)
    else:
        if interval_ns:
            raise QueryError("GROUP BY requires at least one aggregate function")
        out, selector_time = raw_columns(statement, columns, params, set(tags)), False
    if out is None:
        return None

    time = quote_ident("time")
    where: list[str] = []
    if bounds.start_ns is not None:
        where.append(f"{time} >= {params.bind(bounds.start_ns)}")
    if bounds.end_ns is not None:
        where.append(f"{time} < {params.bind(bounds.end_ns)}")
    if condition is not None:
        where.append(condition_sql(condition, columns, params))
    if not aggregate:
        # InfluxDB skips rows in which every selected field is null (tags do not count).
        present = [c.present or f"{c.sql} IS NOT NULL" for c in out if c.reads_field]
        where.append("(" + " OR ".join(present) + ")")
    aggregated = aggregated_fields(statement, columns) if aggregate else []
    if selection is not None:
        aggregated = [selection.spec.field.name]  # its other arguments only label points
    if aggregated:
        # A group (bucket, tag set) exists only where an aggregated field has a value, so
        # count(v) of a series without v yields no row rather than 0, as in InfluxDB.
        # Every aggregate skips nulls of the fields it reads (and the columns beside a
        # selector read only rows where its field has a value), so rows in which all
        # aggregated fields are null change no result: filter them out before grouping.
        where.append("(" + " OR ".join(f"{quote_ident(f)} IS NOT NULL" for f in aggregated) + ")")
    group_sql = [f"coalesce({quote_ident(t)}, '')" if t in columns.tags else "''" for t in tags]

    has_time = not aggregate or bool(interval_ns)
    select: list[str] = []
    bucket = ""
    if aggregate and interval_ns:
        origin, width = params.bind(offset_ns), params.bind(interval_ns)
        # Floor to the bucket start; SQL's % truncates toward zero, so fold negatives.
        bucket = f"({time} - ((({time} - {origin}) % {width}) + {width}) % {width})"
        select.append(bucket)
    elif has_time:
        select.append(time)
    select += group_sql
    select += [c.sql for c in out]
    if selector_time:
        select.append(selector_time_sql(statement, columns, params))

    sql = "SELECT " + ", ".join(f"{e} AS {quote_ident(f'_c{i}')}" for i, e in enumerate(select))
    first = first_point_per(out, selection, statement.descending)
    filtered = " WHERE " + " AND ".join(where) if where else ""
    if first is not None:
        # Keep one point per group and key first: top(field, tag, N) the best of each
        # tag combination, distinct() the first of each value.
        keys, rank_order = first
        partition = ", ".join([bucket or "NULL", *group_sql, *keys])
        rank = f"row_number() OVER (PARTITION BY {partition} ORDER BY {rank_order})"
        source, filtered = f"(SELECT * FROM points{filtered} QUALIFY {rank} = 1) AS points", ""
    else:
        source = "points"
    if params.percentile_inputs:
        group_exprs = ([bucket] if bucket else []) + [g for g in group_sql if g != "''"]
        cte, join = percentile_first_pass(params, group_exprs, source, filtered)
        sql = cte + sql + f" FROM {source}{join}{filtered}"
    else:
        sql += f" FROM {source}{filtered}"
    first_group = 2 if has_time else 1
    tag_positions = [str(first_group + i) for i in range(len(group_sql))]
    if aggregate:
        keys = (["1"] if has_time else []) + tag_positions
        if keys:
            sql += " GROUP BY " + ", ".join(keys)
        else:
            # Without GROUP BY, SQL answers one row even when no row matched.
            sql += " HAVING count(*) > 0"
    # Transformations need ascending input; the caller reverses their output instead.
    direction = " DESC" if statement.descending and not calls else ""
    per_series_limit = (
        not aggregate
        and not any(c.transform for c in out)
        and bool(statement.limit or statement.offset)
    )
    # Equal times across series come out in series order, whatever the storage does.
    other_tags = [f"coalesce({quote_ident(t)}, '')" for t in columns.tags if t not in tags]
    if per_series_limit:
        partition = ", ".join(group_sql) or "NULL"
        order = ", ".join([f"{time}{direction}", *other_tags])
        row_number = f"row_number() OVER (PARTITION BY {partition} ORDER BY {order})"
        sql += f" QUALIFY {row_number} > {params.bind(statement.offset)}"
        if statement.limit:
            sql += f" AND {row_number} <= {params.bind(statement.offset + statement.limit)}"
    ordered = tag_positions + (["1" + direction] if has_time else [])
    if not aggregate:
        ordered += other_tags
    if ordered:
        sql += " ORDER BY " + ", ".join(ordered)
    if max_rows:
        sql += f" LIMIT {params.bind(max_rows + 1)}"
    return Plan(
        sql=sql,
        params=params,
        columns=out,
        group_tags=tags,
        aggregate=aggregate,
        interval_ns=interval_ns,
        offset_ns=offset_ns,
        selector_time=selector_time,
        per_series_limit_in_sql=per_series_limit,
        selection=selection,
    )


def first_point_per(
    out: list[OutputColumn], selection: Selection | None, descending: bool
) -> tuple[list[str], str] | None:
    """(PARTITION BY terms, ORDER BY) when only the first row per term values counts."""
    if selection is not None and selection.two_level:
        return selection.partition, selection.rank_order
    post = out[0].post if len(out) == 1 else None
    if post is not None and post.name == "distinct":
        return [post.column], quote_ident("time") + (" DESC" if descending else "")
    return None


def selection_columns(selection: Selection) -> list[OutputColumn] | None:
    """The call's column carries the struct; the others are filled from it."""
    if not selection.field_found:
        return None
    first, *rest = unique_names(selection.names)
    return [
        OutputColumn(first, selection.value_sql),
        *(OutputColumn(name, "NULL", reads_field=False) for name in rest),
    ]
