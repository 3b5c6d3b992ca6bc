"""What each SELECT field becomes: output columns, their SQL, and their finishing step.

Raw fields become per-row expressions; calls become per-group aggregate SQL, or lists
that ``crisp.query.postagg`` finishes, or inputs of transformations and of arithmetic
over them that ``crisp.query.select`` computes after the query.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from crisp.query.columns import NUMERIC, Columns
from crisp.query.errors import QueryError
from crisp.query.filters import value_sql, value_type
from crisp.query.functions import (
    AGGREGATES,
    NOT_SUPPORTED,
    SELECTORS,
    TRANSFORMS,
    aggregate_sql,
    is_math,
    math_sql,
    math_value,
    percentile_aux_sql,
    selector_order,
)
from crisp.query.influxql import ast
from crisp.query.postagg import MULTI_ROW, POST_AGGREGATES, PostAggregate, post_aggregate
from crisp.query.sql import Params, quote_ident, regex_filter
from crisp.query.topbottom import NAMES as TOP_BOTTOM
from crisp.query.transforms import Transform, parse_transform

Formula = Callable[[Mapping[int, Any]], Any]


@dataclass(frozen=True)
class OutputColumn:
    name: str
    sql: str
    transform: Transform | None = None
    is_count: bool = False
    post: PostAggregate | None = None
    reads_field: bool = True  # False for a tag column of a raw SELECT
    # Raw SELECT: SQL true when the row has a value of a field this column reads (the
    # row is kept then, even where the column's own value is null, e.g. sqrt(-1)).
    present: str | None = None
    # Arithmetic over transformations: computed in Python from hidden input columns.
    formula: Formula | None = None
    inputs: tuple[int, ...] = ()
    hidden: bool = False


def has_call(expr: ast.Expr) -> bool:
    """Whether ``expr`` aggregates, selects or transforms (math functions only map)."""
    if isinstance(expr, ast.Call):
        return not is_math(expr) or any(has_call(arg) for arg in expr.args)
    if isinstance(expr, ast.BinaryExpr):
        return has_call(expr.lhs) or has_call(expr.rhs)
    return False


def field_name(expr: ast.Expr) -> str:
    """InfluxDB's default column name: a call's name, a ref's name, refs joined by _."""
    if isinstance(expr, ast.Call):
        return expr.name
    if isinstance(expr, ast.VarRef):
        return expr.name
    if isinstance(expr, ast.BinaryExpr):
        parts = [field_name(expr.lhs), field_name(expr.rhs)]
        return "_".join(p for p in parts if p)
    return ""


def unique_names(names: list[str]) -> list[str]:
    """Later duplicates get ``_1``, ``_2`` ... as InfluxDB names them."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}_{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def _has_transform(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Call):
        return expr.name in TRANSFORMS or (is_math(expr) and any(map(_has_transform, expr.args)))
    if isinstance(expr, ast.BinaryExpr):
        return _has_transform(expr.lhs) or _has_transform(expr.rhs)
    return False


# ------------------------------------------------------------------ raw SELECT


def raw_columns(
    statement: ast.SelectStatement, columns: Columns, params: Params, grouped: set[str]
) -> list[OutputColumn] | None:
    names: list[str] = []
    outs: list[OutputColumn] = []
    for f in statement.fields:
        expr = f.expr
        if isinstance(expr, ast.VarRef) and expr.name.lower() == "time":
            continue  # time is always the first column
        if isinstance(expr, ast.Wildcard | ast.RegexLiteral):
            if isinstance(expr, ast.Wildcard):
                expanded = _wildcard_names(expr, columns, grouped)
            else:
                expanded = regex_filter(sorted(columns.fields), expr.pattern)
            for name in expanded:
                names.append(name)
                is_field = name in columns.fields
                outs.append(OutputColumn(name, quote_ident(name), reads_field=is_field))
            continue
        names.append(f.alias or field_name(expr))
        fields = _field_refs(expr, columns)
        present = " OR ".join(f"{quote_ident(f)} IS NOT NULL" for f in fields) or None
        sql = value_sql(expr, columns, params)
        outs.append(OutputColumn("", sql, reads_field=bool(fields), present=present))
    if not any(c.reads_field for c in outs):
        return None
    return [replace(c, name=n) for n, c in zip(unique_names(names), outs, strict=True)]


def _wildcard_names(wildcard: ast.Wildcard, columns: Columns, grouped: set[str]) -> list[str]:
    fields = [] if wildcard.type == "tag" else list(columns.fields)
    tags = [] if wildcard.type == "field" else [t for t in columns.tags if t not in grouped]
    return sorted(set(fields) | set(tags))


def _field_refs(expr: ast.Expr, columns: Columns) -> list[str]:
    """The fields a per-row expression reads, in order, once each."""
    if isinstance(expr, ast.VarRef):
        return [expr.name] if columns.kind(expr) == "field" else []
    parts: tuple[ast.Expr, ...] = ()
    if isinstance(expr, ast.BinaryExpr):
        parts = (expr.lhs, expr.rhs)
    elif isinstance(expr, ast.Call):
        parts = expr.args
    return list(dict.fromkeys(f for part in parts for f in _field_refs(part, columns)))


# ------------------------------------------------------------------ aggregates


def aggregate_columns(
    statement: ast.SelectStatement, columns: Columns, params: Params, interval_ns: int
) -> tuple[list[OutputColumn] | None, bool]:
    names: list[str] = []
    outs: list[OutputColumn] = []
    any_field = False
    selector = _selector_with_aux(statement)
    for f in statement.fields:
        expr = f.expr
        if isinstance(expr, ast.VarRef) and expr.name.lower() == "time":
            continue
        if not has_call(expr):
            if selector is None or not isinstance(expr, ast.VarRef):
                raise QueryError("mixing aggregate and non-aggregate queries is not supported")
            names.append(f.alias or expr.name)
            outs.append(OutputColumn(expr.name, _aux_sql(selector, expr, columns, params)))
            continue
        if isinstance(expr, ast.Call) and expr.name in TRANSFORMS:
            for name, column, found in _transform_columns(expr, columns, params, interval_ns):
                names.append(f.alias or name)
                outs.append(column)
                any_field = any_field or found
            continue
        if (isinstance(expr, ast.BinaryExpr) or is_math(expr)) and _has_transform(expr):
            hidden: list[tuple[int, OutputColumn]] = []
            formula = _compile_formula(expr, columns, params, interval_ns, len(outs), hidden)
            for _, column in hidden:
                names.append("")
                outs.append(column)
                any_field = any_field or column.reads_field
            inputs = tuple(index for index, _ in hidden)
            names.append(f.alias or field_name(expr))
            outs.append(OutputColumn("", "NULL", formula=formula, inputs=inputs, reads_field=False))
            continue
        if isinstance(expr, ast.Call) and expr.name in POST_AGGREGATES:
            if expr.name in MULTI_ROW and len(statement.fields) > 1:
                raise QueryError(
                    f"aggregate function {expr.name}() cannot be combined with other "
                    "functions or fields"
                )
            post, sql, found = post_aggregate(expr, columns, statement.descending)
            names.append(f.alias or expr.name)
            outs.append(OutputColumn(expr.name, sql, post=post))
            any_field = any_field or found
            continue
        if isinstance(expr, ast.Call) and _expands(expr):
            for name, sql, found in _expand_wildcard_call(expr, columns, params):
                # count(*) names count_<field>; with AS c, c_<field>.
                names.append(f"{f.alias or expr.name}_{name}")
                outs.append(OutputColumn(name, sql, is_count=expr.name == "count"))
                any_field = any_field or found
            continue
        sql, found = _aggregate_expr_sql(expr, columns, params)
        names.append(f.alias or field_name(expr))
        # An empty bucket counts 0, but a field the measurement lacks counts null.
        is_count = isinstance(expr, ast.Call) and expr.name == "count" and found
        outs.append(OutputColumn("", sql, is_count=is_count))
        any_field = any_field or found
    if not any_field:
        return None, False
    named = [replace(c, name=n) for n, c in zip(unique_names(names), outs, strict=True)]
    return named, not interval_ns and selector is not None


def aggregated_fields(statement: ast.SelectStatement, columns: Columns) -> list[str]:
    """Fields read by the query's function calls (not the plain fields beside a selector)."""
    found: set[str] = set()

    def visit(expr: ast.Expr, in_call: bool) -> None:
        if isinstance(expr, ast.Call):
            for arg in expr.args:
                visit(arg, True)
        elif isinstance(expr, ast.BinaryExpr):
            visit(expr.lhs, in_call)
            visit(expr.rhs, in_call)
        elif in_call and isinstance(expr, ast.VarRef) and columns.kind(expr) == "field":
            found.add(expr.name)
        elif in_call and isinstance(expr, ast.Wildcard):
            found.update(columns.fields)
        elif in_call and isinstance(expr, ast.RegexLiteral):
            found.update(regex_filter(sorted(columns.fields), expr.pattern))

    for f in statement.fields:
        visit(f.expr, False)
    return sorted(found)


def _selector_with_aux(statement: ast.SelectStatement) -> ast.Call | None:
    """The selector call when it is the query's only call, e.g. ``max(v), host``: its
    point's time is reported, and plain fields report that point's values."""
    fields = [
        f.expr
        for f in statement.fields
        if not (isinstance(f.expr, ast.VarRef) and f.expr.name.lower() == "time")
    ]
    calls = [e for e in fields if isinstance(e, ast.Call)]
    if len(calls) != 1 or calls[0].name not in SELECTORS or _expands(calls[0]):
        return None
    others = [e for e in fields if not isinstance(e, ast.Call)]
    if not all(isinstance(e, ast.VarRef) for e in others):
        return None
    if others and calls[0].name not in _AUX_ORDER:
        return None
    return calls[0]


# Selectors that pick one point, whose other columns can be returned beside them.
_AUX_ORDER = frozenset({"first", "last", "min", "max", "percentile"})


def _aux_sql(selector: ast.Call, aux: ast.VarRef, columns: Columns, params: Params) -> str:
    """The value of ``aux`` in the row the selector picked (nulls kept, unlike arg_min)."""
    arg = selector.args[0] if selector.args else None
    if not isinstance(arg, ast.VarRef) or columns.kind(arg) != "field" or not columns.kind(aux):
        return "NULL"
    value = quote_ident(arg.name)
    if selector.name == "percentile":
        p = selector.args[1] if len(selector.args) == 2 else None
        if not isinstance(p, ast.IntegerLiteral | ast.NumberLiteral):
            raise QueryError("expected float argument in percentile()")
        return percentile_aux_sql(value, params, float(p.value), quote_ident(aux.name))
    function, key = selector_order(selector.name, value)
    # The _null variants keep a null aux value of the picked row instead of skipping it.
    return f"{function}_null({quote_ident(aux.name)}, {key}) FILTER (WHERE {value} IS NOT NULL)"


_PY_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "%": operator.mod,
}


def _compile_formula(
    expr: ast.Expr,
    columns: Columns,
    params: Params,
    interval_ns: int,
    first_index: int,
    hidden: list[tuple[int, OutputColumn]],
) -> Formula:
    """A function of the hidden transformation columns it appends to ``hidden``."""
    if isinstance(expr, ast.Call) and expr.name in TRANSFORMS:
        [(_, column, found)] = _transform_columns(expr, columns, params, interval_ns)
        index = first_index + len(hidden)
        hidden.append((index, replace(column, hidden=True, reads_field=found)))
        return lambda values: values[index]
    if isinstance(expr, ast.IntegerLiteral | ast.NumberLiteral):
        constant = expr.value
        return lambda values: constant
    if isinstance(expr, ast.Call) and is_math(expr):
        name = expr.name
        args = [
            _compile_formula(arg, columns, params, interval_ns, first_index, hidden)
            for arg in expr.args
        ]
        math_sql(name, ["" for _ in args], False)  # checks the number of arguments
        return lambda values: math_value(name, [arg(values) for arg in args])
    if isinstance(expr, ast.BinaryExpr) and expr.op in ("+", "-", "*", "/", "%"):
        lhs = _compile_formula(expr.lhs, columns, params, interval_ns, first_index, hidden)
        rhs = _compile_formula(expr.rhs, columns, params, interval_ns, first_index, hidden)
        op = expr.op
        return lambda values: _arithmetic(op, lhs(values), rhs(values))
    raise QueryError("only transformations and numbers can be combined with them in arithmetic")


def _arithmetic(op: str, lhs: Any, rhs: Any) -> Any:
    if lhs is None or rhs is None:
        return None
    if op in ("/", "%") and rhs == 0:
        return 0.0 if op == "/" else None  # InfluxQL: x / 0 is 0
    if op == "/":
        return lhs / rhs
    return _PY_ARITHMETIC[op](lhs, rhs)


def _expands(call: ast.Call) -> bool:
    return bool(call.args) and isinstance(call.args[0], ast.Wildcard | ast.RegexLiteral)


def _expand_wildcard_call(
    call: ast.Call, columns: Columns, params: Params
) -> list[tuple[str, str, bool]]:
    arg = call.args[0]
    names = list(columns.fields)
    if isinstance(arg, ast.RegexLiteral):
        names = regex_filter(names, arg.pattern)
    out = []
    for name in names:
        expanded = ast.Call(call.name, (ast.VarRef(name), *call.args[1:]))
        try:
            sql, found = _aggregate_expr_sql(expanded, columns, params)
        except QueryError:
            continue  # mean(*) skips the fields mean() cannot read, as InfluxDB does
        out.append((name, sql, found))
    return out


def _aggregate_expr_sql(expr: ast.Expr, columns: Columns, params: Params) -> tuple[str, bool]:
    """SQL for an aggregate call or arithmetic over calls and literals; and whether any
    referenced field exists."""
    if isinstance(expr, ast.BinaryExpr) and expr.op in ast.ARITHMETIC_OPS:
        lhs, lf = _aggregate_expr_sql(expr.lhs, columns, params)
        rhs, rf = _aggregate_expr_sql(expr.rhs, columns, params)
        if expr.op == "/":
            divisor = f"CAST({rhs} AS DOUBLE)"
            sql = f"(CASE WHEN {divisor} = 0 THEN 0.0 ELSE CAST({lhs} AS DOUBLE) / {divisor} END)"
        elif expr.op == "^":
            sql = f"xor({lhs}, {rhs})"
        else:
            sql = f"({lhs} {expr.op} {rhs})"
        return sql, lf or rf
    if isinstance(expr, ast.IntegerLiteral | ast.NumberLiteral):
        return params.bind(expr.value), False
    if isinstance(expr, ast.Call) and is_math(expr):
        compiled = [_aggregate_expr_sql(arg, columns, params) for arg in expr.args]
        args = [sql for sql, _ in compiled]
        # Aggregates of integers may stay integers (sum, min ...); rounding them is a no-op
        # in InfluxDB too, but only the SQL type says which, so always round as floats.
        return math_sql(expr.name, args, False), any(found for _, found in compiled)
    if isinstance(expr, ast.Call):
        return _call_sql(expr, columns, params)
    raise QueryError("mixing aggregate and non-aggregate queries is not supported")


def _call_sql(call: ast.Call, columns: Columns, params: Params) -> tuple[str, bool]:
    name = call.name
    if is_math(call):
        raise QueryError(f"unsupported call: {name}")  # e.g. derivative(abs(mean(v)))
    if name in TRANSFORMS:
        raise QueryError(f"{name}() cannot be used inside arithmetic yet")
    if name in POST_AGGREGATES or name in TOP_BOTTOM:
        raise QueryError(f"{name}() cannot be nested in arithmetic or other functions yet")
    if name in NOT_SUPPORTED:
        raise QueryError(f"{name}() is not supported (InfluxDB 1.x has it, Crisp does not yet)")
    if name not in AGGREGATES and name not in SELECTORS:
        raise QueryError(f"undefined function {name}()")
    expected = 2 if name == "percentile" else 1
    if len(call.args) != expected:
        raise QueryError(
            f"invalid number of arguments for {name}, expected {expected}, got {len(call.args)}"
        )
    arg = call.args[0]
    distinct = False
    if isinstance(arg, ast.Call) and arg.name == "distinct" and name == "count":
        if len(arg.args) != 1:
            raise QueryError("distinct function requires exactly one argument")
        arg, distinct = arg.args[0], True
    if not isinstance(arg, ast.VarRef):
        raise QueryError(f"expected field argument in {name}()")
    percentile = None
    if name == "percentile":
        p = call.args[1]
        if not isinstance(p, ast.IntegerLiteral | ast.NumberLiteral):
            raise QueryError("expected float argument in percentile()")
        percentile = float(p.value)
    kind = columns.kind(arg)
    field_type = columns.fields[arg.name] if kind == "field" else None
    sql, _ = aggregate_sql(
        name, arg.name, field_type, params, distinct=distinct, percentile=percentile
    )
    return sql, field_type is not None


def selector_time_sql(statement: ast.SelectStatement, columns: Columns, params: Params) -> str:
    call = _selector_with_aux(statement)
    assert call is not None
    arg = call.args[0]
    if not isinstance(arg, ast.VarRef) or columns.kind(arg) != "field":
        return "NULL"
    percentile = None
    if call.name == "percentile":
        p = call.args[1]
        assert isinstance(p, ast.IntegerLiteral | ast.NumberLiteral)
        percentile = float(p.value)
    _, time_sql = aggregate_sql(
        call.name, arg.name, columns.fields[arg.name], params, percentile=percentile
    )
    return time_sql or "NULL"


def _transform_columns(
    call: ast.Call, columns: Columns, params: Params, interval_ns: int
) -> list[tuple[str, OutputColumn, bool]]:
    if not call.args:
        raise QueryError(f"invalid number of arguments for {call.name}, expected at least 1")
    transform = parse_transform(call, interval_ns)
    inner = call.args[0]
    if interval_ns:
        if not isinstance(inner, ast.Call):
            raise QueryError(f"{call.name} aggregate requires an aggregate function argument")
        sql, found = _call_sql(inner, columns, params)
    else:
        if isinstance(inner, ast.Call):
            raise QueryError(f"{call.name} aggregate requires a GROUP BY interval")
        if not isinstance(inner, ast.VarRef):
            raise QueryError(f"expected field argument in {call.name}()")
        sql = value_sql(inner, columns, params)
        found = columns.kind(inner) == "field"
        if found and call.name != "elapsed" and value_type(inner, columns) not in NUMERIC:
            raise QueryError(f"unsupported {call.name} iterator type")
    return [(call.name, OutputColumn(call.name, sql, transform), found)]
