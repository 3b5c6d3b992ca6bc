"""Executing a SELECT: resolve sources, run one SQL per measurement, shape the series.

Post-processing that is per series and sequential (fill, transformations, LIMIT after
them) happens here in Python on rows DuckDB already reduced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Any

from crisp.query.columns import Columns
from crisp.query.deadline import Deadline
from crisp.query.errors import QueryError
from crisp.query.guards import RAW_WITHOUT_LOWER_BOUND, QueryGuards
from crisp.query.influxql import ast
from crisp.query.planner import (
    Plan,
    is_aggregate_query,
    plan_select,
    time_dimension,
    uses_aggregate,
)
from crisp.query.postagg import (
    MULTI_ROW,
    PostAggregate,
    finish_rows,
    finish_scalar,
    integrate_windows,
)
from crisp.query.results import Series
from crisp.query.sql import regex_filter
from crisp.query.subquery import memory_snapshot, series_tables, with_outer_bounds
from crisp.query.timecond import TimeBounds, split_condition
from crisp.query.timefmt import utc_offset_ns, zone
from crisp.query.topbottom import Selection, expand
from crisp.query.transforms import LOOK_BACK, apply_transform, fill_column
from crisp.query.wildcards import expand_over
from crisp.storage.api import Snapshot, Storage, TimeRange


@dataclass(frozen=True)
class Context:
    storage: Storage
    database: str | None
    rp: str | None
    now_ns: int
    guards: QueryGuards
    deadline: Deadline


def run_select(statement: ast.SelectStatement, ctx: Context) -> list[Series]:
    if statement.into is not None:
        raise QueryError("SELECT INTO is not supported")
    tz = zone(statement.timezone)
    bounds, condition = split_condition(statement.condition, ctx.now_ns, tz)
    # One offset for the whole range: buckets across a DST change keep the first offset.
    tz_shift = utc_offset_ns(tz, bounds.start_ns if bounds.start_ns is not None else ctx.now_ns)
    interval_ns, offset_ns = time_dimension(statement, tz_shift)
    reads_storage = any(isinstance(src, ast.Measurement) for src in statement.sources)
    unbounded = bounds.start_ns is None and not uses_aggregate(statement)
    if ctx.guards.require_time_bound and reads_storage and unbounded:
        raise QueryError(RAW_WITHOUT_LOWER_BOUND)
    if interval_ns and bounds.end_ns is None:
        # InfluxDB ends GROUP BY time() queries at now() unless told otherwise.
        bounds = TimeBounds(bounds.start_ns, ctx.now_ns + 1)
    if interval_ns and bounds.start_ns is not None and bounds.end_ns is not None:
        _check_buckets(bounds.start_ns, bounds.end_ns, interval_ns, offset_ns, ctx.guards)
    keep_from = None
    if interval_ns and bounds.start_ns is not None and _looks_back(statement):
        # derivative(mean(v)) & co.: InfluxDB starts reading one interval earlier, so
        # that the range's first bucket has a predecessor, then drops the rows of the
        # buckets before it (the first bucket keeps the points read before the start).
        keep_from = _floor(bounds.start_ns, interval_ns, offset_ns)
        bounds = TimeBounds(bounds.start_ns - interval_ns, bounds.end_ns)

    series: list[Series] = []
    points = 0
    targets, subqueries = _sources(statement, ctx)
    statement = _unify_wildcards(statement, ctx, targets, bool(subqueries))
    for name, opener in _inputs(targets, subqueries, ctx, bounds):
        with opener as snapshot:
            columns = Columns.from_schema(snapshot.schema)
            plan = plan_select(
                statement,
                columns,
                bounds,
                condition,
                max_rows=ctx.guards.max_points,
                tz_shift_ns=tz_shift,
            )
            if plan is None:
                continue
            rows = ctx.deadline.fetch(snapshot.connection, plan.sql, plan.params)
        if ctx.guards.max_points and len(rows) > ctx.guards.max_points:
            raise QueryError(_too_many_points(ctx.guards))
        shaped = shape_series(statement, plan, rows, name, bounds, ctx.guards, keep_from)
        # SLIMIT/SOFFSET count the series of each measurement, as in InfluxDB.
        end = statement.soffset + statement.slimit if statement.slimit else None
        for one in shaped[statement.soffset : end]:
            series.append(one)
            points += len(one["values"])
        if ctx.guards.max_points and points > ctx.guards.max_points:
            raise QueryError(_too_many_points(ctx.guards))
        if ctx.guards.max_series and len(series) > ctx.guards.max_series:
            raise QueryError(
                f"max-select-series limit exceeded: more than {ctx.guards.max_series} series"
            )
    if statement.descending:
        series.reverse()  # InfluxDB reverses the series order too (measurements included)
    return series


def _looks_back(statement: ast.SelectStatement) -> bool:
    def visit(expr: ast.Expr) -> bool:
        if isinstance(expr, ast.Call):
            nested = bool(expr.args) and isinstance(expr.args[0], ast.Call)
            return (expr.name in LOOK_BACK and nested) or any(visit(a) for a in expr.args)
        if isinstance(expr, ast.BinaryExpr):
            return visit(expr.lhs) or visit(expr.rhs)
        return False

    return any(visit(f.expr) for f in statement.fields)


def _too_many_points(guards: QueryGuards) -> str:
    return f"max-select-point limit exceeded: more than {guards.max_points} points"


Target = tuple[str, str | None, str]  # database, retention policy, measurement


def _sources(
    statement: ast.SelectStatement, ctx: Context
) -> tuple[list[Target], list[ast.SelectStatement]]:
    """The measurements the statement reads, by name, and its subqueries."""
    targets: set[Target] = set()
    subqueries: list[ast.SelectStatement] = []
    for source in statement.sources:
        if isinstance(source, ast.SubQuery):
            subqueries.append(source.statement)
            continue
        database = source.database or ctx.database
        if not database:
            raise QueryError("database name required")
        rp = source.rp or ctx.rp
        existing = sorted(ctx.storage.measurements(database))
        if source.regex is not None:
            names = regex_filter(existing, source.regex)
        else:
            names = [source.name] if source.name in existing else []
        targets.update((database, rp, name) for name in names)
    return sorted(targets, key=lambda t: (t[2], t[0], t[1] or "")), subqueries


def _unify_wildcards(
    statement: ast.SelectStatement, ctx: Context, targets: list[Target], subqueries: bool
) -> ast.SelectStatement:
    """Wildcards over several measurements expand over all their columns (InfluxDB)."""
    if subqueries or len(targets) < 2:
        return statement
    schemas = [
        Columns(tuple(sorted(ctx.storage.tag_keys(db, name))), ctx.storage.field_types(db, name))
        for db, _, name in targets
    ]
    return expand_over(statement, schemas)


def _inputs(
    targets: list[Target],
    subqueries: list[ast.SelectStatement],
    ctx: Context,
    bounds: TimeBounds,
) -> Iterator[tuple[str, AbstractContextManager[Snapshot]]]:
    """(series name, snapshot to open) per measurement or subquery result, by name."""
    time_range = TimeRange(bounds.start_ns, bounds.end_ns)
    for database, rp, name in targets:
        # Shared: the plan's SQL applies the bounds itself (planner.plan_select).
        yield name, ctx.storage.snapshot(database, rp, name, time_range, shared=True)
    for inner in subqueries:
        inner_series = run_select(_keeping_tags(with_outer_bounds(inner, bounds)), ctx)
        for name, points in series_tables(inner_series).items():
            yield name, memory_snapshot(points)


def _keeping_tags(inner: ast.SelectStatement) -> ast.SelectStatement:
    """A raw subquery's points keep their series' tags for the outer query (InfluxDB):
    grouping it by every tag gives them, and changes nothing else when it has no
    functions, dimensions nor limits of its own."""
    plain = not (inner.dimensions or inner.limit or inner.offset or inner.slimit)
    if plain and not is_aggregate_query(inner) and not inner.soffset:
        return replace(inner, dimensions=(ast.Dimension(ast.Wildcard()),))
    return inner


def _check_buckets(start: int, end: int, interval: int, offset: int, guards: QueryGuards) -> None:
    first = _floor(start, interval, offset)
    last = _floor(end - 1, interval, offset)
    count = (last - first) // interval + 1
    if guards.max_buckets and count > guards.max_buckets:
        raise QueryError(
            f"too many GROUP BY time buckets: {count} (limit {guards.max_buckets}); "
            "narrow the time range or widen the interval"
        )


def _floor(t: int, interval: int, offset: int) -> int:
    return t - ((t - offset) % interval)


def shape_series(
    statement: ast.SelectStatement,
    plan: Plan,
    rows: list[tuple[Any, ...]],
    measurement: str,
    bounds: TimeBounds,
    guards: QueryGuards,
    keep_from: int | None = None,
) -> list[Series]:
    if _one_plain_row_per_series(statement, plan, keep_from):
        return _single_rows(plan, rows, measurement, bounds)
    has_time = not plan.aggregate or plan.interval_ns > 0
    first_tag = 1 if has_time else 0
    n_tags = len(plan.group_tags)
    names = [c.name for c in plan.columns if not c.hidden]
    width = len(plan.columns)
    values_start = first_tag + n_tags
    rows = _finish_post_aggregates(plan, rows, values_start, first_tag, n_tags)
    groups = groupby(rows, key=lambda row: tuple(row[first_tag : first_tag + n_tags]))
    grouped = [(key, list(members)) for key, members in groups]
    buckets: list[int] = []
    if plan.aggregate and plan.interval_ns and grouped and plan.selection is None:
        buckets = _bucket_range(plan, rows, bounds, guards)

    out: list[Series] = []
    multi_row = plan.columns[0].post if len(plan.columns) == 1 else None
    for key, members in grouped:
        if plan.selection is not None:
            table = _selected(plan.selection, members, values_start, statement.descending)
        elif multi_row is not None and multi_row.name in MULTI_ROW:
            default_time = None if has_time else (bounds.start_ns or 0)
            times, cols = _expand(
                multi_row, members, values_start, default_time, statement.descending
            )
        elif not plan.aggregate:
            times = [row[0] for row in members]
            cols = [[row[values_start + i] for row in members] for i in range(width)]
        elif not plan.interval_ns:
            point = _lone_point(plan, members[0], values_start, width, bounds)
            if point is None:
                continue
            times = [point[0]]
            cols = [[cell] for cell in point[1:]]
        else:
            times, cols = _filled(statement, plan, members, values_start, buckets)
        if plan.selection is None:
            table = _transform(plan, times, cols, statement.descending)
            if statement.descending and (plan.aggregate or any(c.transform for c in plan.columns)):
                table.reverse()
        if keep_from is not None:
            table = [row for row in table if row[0] >= keep_from]
        if not plan.per_series_limit_in_sql:
            end = statement.offset + statement.limit if statement.limit else None
            table = table[statement.offset : end]
        if not table:
            continue
        series: Series = {"name": measurement, "columns": ["time", *names], "values": table}
        if plan.group_tags:
            series["tags"] = dict(zip(plan.group_tags, key, strict=True))
        out.append(series)
    return out


def _one_plain_row_per_series(
    statement: ast.SelectStatement, plan: Plan, keep_from: int | None
) -> bool:
    """Aggregates without GROUP BY time() and nothing to apply after SQL: each SQL row
    is one series' only row (e.g. max per host over 4,000 hosts)."""
    plain = all(
        c.transform is None and c.post is None and c.formula is None and not c.hidden
        for c in plan.columns
    )
    return (
        plain
        and plan.aggregate
        and not plan.interval_ns
        and plan.selection is None
        and keep_from is None
        and not statement.offset
    )


def _single_rows(
    plan: Plan, rows: list[tuple[Any, ...]], measurement: str, bounds: TimeBounds
) -> list[Series]:
    """``shape_series`` for ``_one_plain_row_per_series`` plans, without the per-series
    grouping, filling and transformation machinery (~15 µs a series)."""
    n_tags = len(plan.group_tags)
    width = len(plan.columns)
    columns = ["time", *(c.name for c in plan.columns)]
    out: list[Series] = []
    for row in rows:
        point = _lone_point(plan, row, n_tags, width, bounds)
        if point is None:
            continue
        series: Series = {"name": measurement, "columns": columns, "values": [point]}
        if n_tags:
            series["tags"] = dict(zip(plan.group_tags, row[:n_tags], strict=True))
        out.append(series)
    return out


def _lone_point(
    plan: Plan, row: tuple[Any, ...], values_start: int, width: int, bounds: TimeBounds
) -> list[Any] | None:
    """The one point of an aggregate without GROUP BY time(): the selected point's time
    (or the range start) and the values; None when no value was selected."""
    cells = row[values_start : values_start + width]
    if cells.count(None) == len(cells):  # all None (a generator costs ~1 ms per 4,000 rows)
        return None  # e.g. percentile(v, 0): no point selected, no row (InfluxDB)
    selected = row[-1] if plan.selector_time else None
    return [selected if selected is not None else (bounds.start_ns or 0), *cells]


def _selected(
    selection: Selection, members: list[tuple[Any, ...]], values_start: int, descending: bool
) -> list[list[Any]]:
    """top()/bottom() rows: each bucket's points by time, buckets in the query's order."""
    per_bucket = [expand(selection, row[values_start]) for row in members]
    if descending:
        per_bucket.reverse()
    return [[time, *cells] for points in per_bucket for time, cells in points]


def _finish_post_aggregates(
    plan: Plan, rows: list[tuple[Any, ...]], values_start: int, first_tag: int, n_tags: int
) -> list[tuple[Any, ...]]:
    scalar = [
        (values_start + i, c.post)
        for i, c in enumerate(plan.columns)
        if c.post is not None and c.post.name not in MULTI_ROW
    ]
    if not scalar:
        return rows
    finished = [list(row) for row in rows]
    for index, post in scalar:
        if post.name == "integral" and plan.interval_ns:
            # One running integral per series, across its buckets (rows by tags, time).
            series = groupby(finished, key=lambda row: row[first_tag : first_tag + n_tags])
            for _, members in series:
                group = list(members)
                cells = [(row[0], row[index]) for row in group]
                sums = integrate_windows(cells, plan.interval_ns, plan.offset_ns, post.unit_ns)
                for row in group:
                    row[index] = sums.get(row[0])
            continue
        for row in finished:
            row[index] = finish_scalar(post, row[index])
    return [tuple(row) for row in finished]


def _expand(
    post: PostAggregate,
    members: list[tuple[Any, ...]],
    values_start: int,
    default_time: int | None,
    descending: bool,
) -> tuple[list[int], list[list[Any]]]:
    """One output row per value of distinct()/sample(), ordered by time.

    A descending query's rows are reversed afterwards, yet InfluxDB keeps each group's
    sample() points ascending: those come reversed here to end up ascending.
    """
    times: list[int] = []
    values: list[Any] = []
    for row in members:
        group_time = row[0] if default_time is None else default_time
        rows = finish_rows(post, row[values_start])
        if descending and post.name == "sample":
            rows.reverse()
        for point_time, value in rows:
            # sample() rows keep their points' times, even with GROUP BY time() (InfluxDB);
            # distinct() rows carry their group's.
            times.append(point_time if point_time is not None else group_time)
            values.append(value)
    return times, [values]


def _bucket_range(
    plan: Plan, rows: list[tuple[Any, ...]], bounds: TimeBounds, guards: QueryGuards
) -> list[int]:
    interval, offset = plan.interval_ns, plan.offset_ns
    start = bounds.start_ns if bounds.start_ns is not None else min(row[0] for row in rows)
    end = bounds.end_ns if bounds.end_ns is not None else max(row[0] for row in rows) + 1
    first, last = _floor(start, interval, offset), _floor(end - 1, interval, offset)
    _check_buckets(first, last + 1, interval, offset, guards)
    return list(range(first, last + 1, interval))


def _filled(
    statement: ast.SelectStatement,
    plan: Plan,
    members: list[tuple[Any, ...]],
    values_start: int,
    buckets: list[int],
) -> tuple[list[int], list[list[Any]]]:
    width = len(plan.columns)
    by_bucket = {row[0]: row[values_start : values_start + width] for row in members}
    # InfluxDB's integral() emits only the buckets it has points in, whatever the fill.
    integral = any(c.post is not None and c.post.name == "integral" for c in plan.columns)
    if statement.fill is ast.FillOption.NONE or integral:
        times = sorted(by_bucket)
        return times, [[by_bucket[t][i] for t in times] for i in range(width)]
    cols: list[list[Any]] = []
    for i, column in enumerate(plan.columns):
        raw = [by_bucket[t][i] if t in by_bucket else None for t in buckets]
        if column.is_count and statement.fill is not ast.FillOption.NUMBER:
            # count() of an empty interval is 0, whatever the fill (fill(none) aside).
            cols.append([0 if v is None else v for v in raw])
        else:
            cols.append(fill_column(raw, statement.fill, statement.fill_value))
    return buckets, cols


def _transform(
    plan: Plan, times: list[int], cols: list[list[Any]], descending: bool
) -> list[list[Any]]:
    """Rows by ascending time, transformations applied in the query's time order."""
    if not any(c.transform for c in plan.columns):
        return [[t, *values] for t, *values in zip(times, *cols, strict=True)]
    outputs: list[dict[int, Any]] = []
    for column, values in zip(plan.columns, cols, strict=True):
        points = list(zip(times, values, strict=True))
        if column.transform is not None:
            ordered = points[::-1] if descending else points
            points = apply_transform(column.transform, ordered, descending)
        outputs.append({} if column.formula else dict(points))
    for i, column in enumerate(plan.columns):
        if column.formula is not None:
            formula = column.formula
            inputs = [(j, outputs[j]) for j in column.inputs]
            at = sorted(set().union(*(points for _, points in inputs)))
            outputs[i] = {t: formula({j: points.get(t) for j, points in inputs}) for t in at}
    visible = [o for o, c in zip(outputs, plan.columns, strict=True) if not c.hidden]
    all_times = sorted(set().union(*visible))
    return [[t, *(o.get(t) for o in visible)] for t in all_times]
