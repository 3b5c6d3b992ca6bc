"""``top()`` and ``bottom()``: InfluxDB 1.x's selection, tie-breaks included.

``top(field, [tag, ...,] N)`` keeps the N highest points of each group (GROUP BY time
bucket and tag set). With tag arguments it first keeps each tag combination's highest
point (the earliest among equal values), then the N highest of those; the tags'
values (and any other fields selected beside the call) come out as columns.

InfluxDB keeps the N best points in a binary heap fed in arrival order (time, then
series or tag key) and sorts the heap with Go's unstable sort before emitting it; among
points equal in both value and time, which ones survive and in what order depends on
that history. ``select_points`` replays the same heap operations and the same sort
(``crisp.query.gosort``), so such ties come out the same.

DuckDB does the heavy part: with tag arguments a window function keeps one candidate
per tag combination, and each group's candidates arrive as one struct of lists
(times, values, extra columns), already in arrival order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from crisp.core.batch import FieldType
from crisp.query.columns import NUMERIC, Columns
from crisp.query.errors import QueryError
from crisp.query.filters import value_sql, value_type
from crisp.query.gosort import go_sort
from crisp.query.influxql import ast
from crisp.query.influxql.render import render_expr
from crisp.query.sql import Params, quote_ident

NAMES = frozenset({"top", "bottom"})
_FIRST_STEP = {"top": "max", "bottom": "min"}


@dataclass(frozen=True)
class TopBottom:
    name: str  # "top" or "bottom"
    field: ast.VarRef
    tag_args: tuple[ast.VarRef, ...]
    n: int


def parse_call(call: ast.Call, limit: int) -> TopBottom:
    """Validate ``call`` (InfluxDB's checks and messages, in its order)."""
    name, args = call.name, call.args
    if len(args) < 2:
        raise QueryError(
            f"invalid number of arguments for {name}, expected at least 2, got {len(args)}"
        )
    last = args[-1]
    if not isinstance(last, ast.IntegerLiteral):
        raise QueryError(f"expected integer as last argument in {name}(), found {_show(last)}")
    if last.value <= 0:
        raise QueryError(f"limit ({last.value}) in {name} function must be at least 1")
    if limit and last.value > limit:
        raise QueryError(
            f"limit ({last.value}) in {name} function can not be larger than "
            f"the LIMIT ({limit}) in the select statement"
        )
    field = args[0]
    if not isinstance(field, ast.VarRef):
        raise QueryError(f"expected first argument to be a field in {name}(), found {_show(field)}")
    tags: list[ast.VarRef] = []
    for arg in args[1:-1]:
        if not isinstance(arg, ast.VarRef):
            raise QueryError(f"only fields or tags are allowed in {name}(), found {_show(arg)}")
        tags.append(arg)
    return TopBottom(name, field, tuple(tags), last.value)


def _show(expr: ast.Expr) -> str:
    """An argument as InfluxDB prints it in these messages."""
    if isinstance(expr, ast.NumberLiteral):
        return f"{expr.value:.3f}"
    return render_expr(expr)


def find_call(statement: ast.SelectStatement) -> ast.Call | None:
    """The statement's top()/bottom() call when it is a plain field (not in arithmetic)."""
    for f in statement.fields:
        if isinstance(f.expr, ast.Call) and f.expr.name in NAMES:
            return f.expr
    return None


def count_calls(expr: ast.Expr) -> int:
    if isinstance(expr, ast.Call):
        return 1
    if isinstance(expr, ast.BinaryExpr):
        return count_calls(expr.lhs) + count_calls(expr.rhs)
    return 0


@dataclass(frozen=True)
class Selection:
    """How to compute a top()/bottom() query over one measurement."""

    spec: TopBottom
    names: list[str]  # output columns after time, in the query's order
    call_index: int  # where the call's own value goes among them
    value_sql: str  # the struct of lists, one per group
    field_found: bool
    # With tag arguments (two_level): PARTITION BY terms besides bucket and GROUP BY
    # tags (none when no argument is a tag) and the ORDER BY that ranks a tag
    # combination's points, best first.
    two_level: bool
    partition: list[str]
    rank_order: str


def plan_selection(
    statement: ast.SelectStatement, call: ast.Call, columns: Columns, params: Params
) -> Selection:
    spec = parse_call(call, statement.limit)
    if sum(count_calls(f.expr) for f in statement.fields) > 1:
        raise QueryError(f"selector function {call.name}() cannot be combined with other functions")
    is_field = columns.kind(spec.field) == "field"
    field_type = columns.fields.get(spec.field.name) if is_field else None
    if field_type is not None and field_type not in NUMERIC:
        # InfluxDB names the iterator (max/min with tag arguments) and its Go type.
        iterator = spec.name if not spec.tag_args else _FIRST_STEP[spec.name]
        go_type = f"*query.{field_type.value}InterruptIterator"
        if spec.tag_args and field_type is FieldType.BOOLEAN:
            iterator, go_type = spec.name, "*query.booleanReduceBooleanIterator"
        raise QueryError(f"unsupported {iterator} iterator type: {go_type}")

    names: list[str] = []
    call_index = 0
    extras: list[tuple[str, bool]] = []  # each later column's SQL, and whether a string
    for f in statement.fields:
        expr = f.expr
        if expr is call:
            call_index = len(names)
            names.append(f.alias or call.name)
            for ref in spec.tag_args:
                names.append(ref.name)
                extras.append(_extra(ref, columns, params))
        elif isinstance(expr, ast.VarRef) and expr.name.lower() == "time":
            continue
        elif isinstance(expr, ast.Wildcard):
            for name in _wildcard(expr, columns):
                names.append(name)
                extras.append(_extra(ast.VarRef(name), columns, params))
        else:
            names.append(f.alias or _plain_name(expr))
            extras.append(_extra(expr, columns, params))

    tags = list(columns.tags)
    col, time = quote_ident(spec.field.name), quote_ident("time")
    direction = " DESC" if statement.descending else ""
    if spec.tag_args:
        # One candidate per tag combination, arriving in the order of its key (the
        # tags sorted by name), whatever their times.
        grouping = sorted({r.name for r in spec.tag_args if columns.kind(r) == "tag"})
        order_terms = [f"coalesce({quote_ident(t)}, '')" for t in grouping] or [time]
    else:
        # Raw points arrive by time; at equal times InfluxDB's merge compares the other
        # columns' values while they are strings (a null or a number stops it, leaving
        # an order Crisp approximates by series).
        grouping = []
        order_terms = [f"{time}{direction}"]
        for sql, is_string in extras:
            if not is_string:
                break
            order_terms.append(f"coalesce({sql}, ''){direction}")
        order_terms += [f"coalesce({quote_ident(t)}, '')" for t in tags]
    order = " ORDER BY " + ", ".join(order_terms)
    not_null = f" FILTER (WHERE {col} IS NOT NULL)"
    lists = [f"'t': list({time}{order}){not_null}", f"'v': list({col}{order}){not_null}"]
    lists += [f"'c{i}': list({sql}{order}){not_null}" for i, (sql, _) in enumerate(extras)]
    struct = "{" + ", ".join(lists) + "}"

    best = "DESC" if spec.name == "top" else "ASC"
    rank_terms = [f"{col} {best}", time, *(f"coalesce({quote_ident(t)}, '')" for t in tags)]
    return Selection(
        spec=spec,
        names=names,
        call_index=call_index,
        value_sql=struct if field_type is not None else "NULL",
        field_found=field_type is not None,
        two_level=bool(spec.tag_args),
        partition=[f"coalesce({quote_ident(t)}, '')" for t in grouping],
        rank_order=", ".join(rank_terms),
    )


def _extra(expr: ast.Expr, columns: Columns, params: Params) -> tuple[str, bool]:
    return value_sql(expr, columns, params), value_type(expr, columns) is FieldType.STRING


def _wildcard(wildcard: ast.Wildcard, columns: Columns) -> list[str]:
    fields = [] if wildcard.type == "tag" else list(columns.fields)
    tags = [] if wildcard.type == "field" else list(columns.tags)
    return sorted(set(fields) | set(tags))


def _plain_name(expr: ast.Expr) -> str:
    if isinstance(expr, ast.VarRef):
        return expr.name
    if isinstance(expr, ast.BinaryExpr):
        parts = [_plain_name(expr.lhs), _plain_name(expr.rhs)]
        return "_".join(p for p in parts if p)
    if isinstance(expr, ast.Call):
        raise QueryError(f"selector function {expr.name}() cannot be combined with other functions")
    return ""


def expand(selection: Selection, cell: Any) -> list[tuple[int, list[Any]]]:
    """One group's chosen points as (time, [value, extra columns...]), by time."""
    if cell is None or not cell["t"]:
        return []
    times: list[int] = cell["t"]
    values: list[Any] = cell["v"]
    extras = [cell[f"c{i}"] for i in range(len(cell) - 2)]
    chosen = select_points(times, values, selection.spec.n, selection.spec.name == "bottom")
    # InfluxDB sorts a group's output by time, stably: equal times keep the heap's order.
    chosen.sort(key=lambda i: times[i])
    at = selection.call_index
    rows = []
    for i in chosen:
        cells = [extra[i] for extra in extras]
        cells.insert(at, values[i])
        rows.append((times[i], cells))
    return rows


def select_points(times: Sequence[int], values: Sequence[Any], n: int, bottom: bool) -> list[int]:
    """Indices of the N best points, in the order InfluxDB emits them (best first).

    A replay of Go's container/heap (as InfluxDB 1.x's Top/BottomReducer uses it): the
    heap's root is the worst point kept; a new point replaces it only when strictly
    better, so among equal points the earlier arrival stays.
    """
    sign = 1 if bottom else -1
    ranks = [(sign * v, t) for v, t in zip(values, times, strict=True)]  # smaller: better

    def worse(a: int, b: int) -> bool:
        return ranks[a] > ranks[b]

    heap: list[int] = []
    for index, rank in enumerate(ranks):
        if len(heap) < n:
            heap.append(index)
            _up(heap, len(heap) - 1, worse)
        elif ranks[heap[0]] > rank:
            heap[0] = index
            if not _down(heap, 0, worse):
                _up(heap, 0, worse)
    # Emitted best first by sort.Sort(sort.Reverse(heap)): not stable, replayed exactly.
    go_sort(heap, lambda a, b: worse(b, a))
    return heap


def _up(heap: list[int], j: int, less: Callable[[int, int], bool]) -> None:
    while j > 0:
        i = (j - 1) // 2
        if not less(heap[j], heap[i]):
            break
        heap[i], heap[j] = heap[j], heap[i]
        j = i


def _down(heap: list[int], i0: int, less: Callable[[int, int], bool]) -> bool:
    i, n = i0, len(heap)
    while True:
        j = 2 * i + 1
        if j >= n:
            break
        if j + 1 < n and less(heap[j + 1], heap[j]):
            j += 1
        if not less(heap[j], heap[i]):
            break
        heap[i], heap[j] = heap[j], heap[i]
        i = j
    return i > i0
