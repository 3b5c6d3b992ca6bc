"""Executing a SELECT: resolve sources, run one SQL per measurement, shape the series.

Post-processing that is per series and sequential (fill, transformations, LIMIT after
them) happens here in Python on rows DuckDB already reduced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from crisp.query.columns import Columns
from crisp.query.deadline import Deadline
from crisp.query.errors import QueryError
from crisp.query.guards import RAW_WITHOUT_LOWER_BOUND, QueryGuards
from crisp.query.influxql import ast
from crisp.query.planner import Plan, plan_select, time_dimension, uses_aggregate
from crisp.query.postagg import MULTI_ROW, PostAggregate, finish_rows, finish_scalar
from crisp.query.results import Series
from crisp.query.sql import regex_filter
from crisp.query.subquery import memory_snapshot, series_tables, with_outer_bounds
from crisp.query.timecond import TimeBounds, split_condition
from crisp.query.timefmt import utc_offset_ns, zone
from crisp.query.transforms import apply_transform, fill_column
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

    series: list[Series] = []
    points = 0
    for name, opener in _inputs(statement, ctx, bounds):
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
        for one in shape_series(statement, plan, rows, name, bounds, ctx.guards):
            series.append(one)
            points += len(one["values"])
        if ctx.guards.max_points and points > ctx.guards.max_points:
            raise QueryError(_too_many_points(ctx.guards))
        if ctx.guards.max_series and len(series) > ctx.guards.max_series:
            raise QueryError(
                f"max-select-series limit exceeded: more than {ctx.guards.max_series} series"
            )
    if statement.soffset:
        series = series[statement.soffset :]
    if statement.slimit:
        series = series[: statement.slimit]
    return series


def _too_many_points(guards: QueryGuards) -> str:
    return f"max-select-point limit exceeded: more than {guards.max_points} points"


def _inputs(
    statement: ast.SelectStatement, ctx: Context, bounds: TimeBounds
) -> Iterator[tuple[str, AbstractContextManager[Snapshot]]]:
    """(series name, snapshot to open) per measurement or subquery result, by name."""
    targets: set[tuple[str, str | None, str]] = set()
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
    time_range = TimeRange(bounds.start_ns, bounds.end_ns)
    for database, rp, name in sorted(targets, key=lambda t: (t[2], t[0], t[1] or "")):
        yield name, ctx.storage.snapshot(database, rp, name, time_range)
    for inner in subqueries:
        inner_series = run_select(with_outer_bounds(inner, bounds), ctx)
        for name, points in series_tables(inner_series).items():
            yield name, memory_snapshot(points)


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
) -> list[Series]:
    has_time = not plan.aggregate or plan.interval_ns > 0
    first_tag = 1 if has_time else 0
    n_tags = len(plan.group_tags)
    names = [c.name for c in plan.columns if not c.hidden]
    width = len(plan.columns)
    values_start = first_tag + n_tags
    rows = _finish_post_aggregates(plan, rows, values_start)
    groups = groupby(rows, key=lambda row: tuple(row[first_tag : first_tag + n_tags]))
    grouped = [(key, list(members)) for key, members in groups]
    buckets: list[int] = []
    if plan.aggregate and plan.interval_ns and grouped:
        buckets = _bucket_range(plan, rows, bounds, guards)

    out: list[Series] = []
    multi_row = plan.columns[0].post if len(plan.columns) == 1 else None
    for key, members in grouped:
        if multi_row is not None and multi_row.name in MULTI_ROW:
            default_time = None if has_time else (bounds.start_ns or 0)
            times, cols = _expand(multi_row, members, values_start, default_time)
        elif not plan.aggregate:
            times = [row[0] for row in members]
            cols = [[row[values_start + i] for row in members] for i in range(width)]
        elif not plan.interval_ns:
            row = members[0]
            selected_time = row[-1] if plan.selector_time else None
            time = selected_time if selected_time is not None else (bounds.start_ns or 0)
            times = [time]
            cols = [[row[values_start + i]] for i in range(width)]
        else:
            times, cols = _filled(statement, plan, members, values_start, buckets)
        table = _transform(plan, times, cols)
        if statement.descending and (plan.aggregate or any(c.transform for c in plan.columns)):
            table.reverse()
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


def _finish_post_aggregates(
    plan: Plan, rows: list[tuple[Any, ...]], values_start: int
) -> list[tuple[Any, ...]]:
    scalar = [
        (values_start + i, c.post)
        for i, c in enumerate(plan.columns)
        if c.post is not None and c.post.name not in MULTI_ROW
    ]
    if not scalar:
        return rows
    finished = []
    for row in rows:
        cells = list(row)
        for index, post in scalar:
            cells[index] = finish_scalar(post, cells[index])
        finished.append(tuple(cells))
    return finished


def _expand(
    post: PostAggregate,
    members: list[tuple[Any, ...]],
    values_start: int,
    default_time: int | None,
) -> tuple[list[int], list[list[Any]]]:
    """One output row per value of distinct()/top()/bottom(), ordered by time."""
    times: list[int] = []
    values: list[Any] = []
    for row in members:
        group_time = row[0] if default_time is None else default_time
        for point_time, value in finish_rows(post, row[values_start]):
            # With GROUP BY time() the rows carry their bucket's time, like selectors.
            use_point = point_time is not None and default_time is not None
            times.append(point_time if use_point and point_time is not None else group_time)
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
    if statement.fill is ast.FillOption.NONE:
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


def _transform(plan: Plan, times: list[int], cols: list[list[Any]]) -> list[list[Any]]:
    if not any(c.transform for c in plan.columns):
        return [[t, *values] for t, *values in zip(times, *cols, strict=True)]
    outputs: list[dict[int, Any]] = []
    for column, values in zip(plan.columns, cols, strict=True):
        points = list(zip(times, values, strict=True))
        if column.transform is not None:
            points = apply_transform(column.transform, points)
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
