"""WHERE conditions (time already removed) → a SQL boolean over ``points``.

InfluxQL semantics kept here: a missing tag compares as the empty string, a tag only
ever equals a string, and a comparison between mismatched types is simply false.
"""

from __future__ import annotations

from crisp.core.batch import FieldType
from crisp.query.columns import NUMERIC, Columns
from crisp.query.errors import QueryError
from crisp.query.functions import KEEPS_INTEGER, is_math, math_sql
from crisp.query.influxql import ast
from crisp.query.sql import Params, quote_ident

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!=", "=~": "=~", "!~": "!~"}
_SQL_ARITHMETIC = {"+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "&": "&", "|": "|"}


def condition_sql(expr: ast.Expr, columns: Columns, params: Params) -> str:
    if isinstance(expr, ast.BinaryExpr) and expr.op in ("AND", "OR"):
        lhs = condition_sql(expr.lhs, columns, params)
        rhs = condition_sql(expr.rhs, columns, params)
        return f"({lhs} {expr.op} {rhs})"
    if isinstance(expr, ast.BinaryExpr) and expr.op in ast.COMPARISON_OPS:
        return _comparison(expr, columns, params)
    if isinstance(expr, ast.BooleanLiteral):
        return "TRUE" if expr.value else "FALSE"
    raise QueryError(f"invalid condition: expected a comparison, found {type(expr).__name__}")


def _comparison(expr: ast.BinaryExpr, columns: Columns, params: Params) -> str:
    op, lhs, rhs = expr.op, expr.lhs, expr.rhs
    if not isinstance(lhs, ast.VarRef | ast.BinaryExpr | ast.Call) and isinstance(
        rhs, ast.VarRef | ast.BinaryExpr
    ):
        op, lhs, rhs = _FLIP[op], rhs, lhs
    if isinstance(lhs, ast.VarRef) and columns.kind(lhs) != "field":
        return _tag_comparison(op, lhs, rhs, columns, params)
    if op in ("=~", "!~"):
        if not isinstance(rhs, ast.RegexLiteral):
            raise QueryError(f"{op} needs a regex on its right side")
        left = value_sql(lhs, columns, params)
        if value_type(lhs, columns) is not FieldType.STRING:
            return "FALSE"
        match = f"regexp_matches({left}, {params.bind(rhs.pattern)})"
        return match if op == "=~" else f"NOT {match}"
    left_type, right_type = value_type(lhs, columns), value_type(rhs, columns)
    if not _comparable(left_type, right_type):
        return "FALSE"
    sql_op = "<>" if op == "!=" else op
    return f"({value_sql(lhs, columns, params)} {sql_op} {value_sql(rhs, columns, params)})"


def _tag_comparison(
    op: str, ref: ast.VarRef, other: ast.Expr, columns: Columns, params: Params
) -> str:
    # A series without the tag matches tag = '' in InfluxDB, hence the coalesce.
    column = f"coalesce({quote_ident(ref.name)}, '')" if columns.kind(ref) else "''"
    if op in ("=~", "!~"):
        if not isinstance(other, ast.RegexLiteral):
            raise QueryError(f"{op} needs a regex on its right side")
        match = f"regexp_matches({column}, {params.bind(other.pattern)})"
        return match if op == "=~" else f"NOT {match}"
    if isinstance(other, ast.VarRef) and columns.kind(other) == "tag":
        right = f"coalesce({quote_ident(other.name)}, '')"
    elif isinstance(other, ast.StringLiteral):
        if op == "=" and other.value and columns.kind(ref):
            # A missing tag ('') never equals a non-empty value, so the bare column
            # gives the same answer, and lets DuckDB prune with Parquet statistics.
            return f"({quote_ident(ref.name)} = {params.bind(other.value)})"
        right = params.bind(other.value)
    else:
        return "FALSE"
    sql_op = "<>" if op == "!=" else op
    return f"({column} {sql_op} {right})"


def _comparable(left: FieldType | None, right: FieldType | None) -> bool:
    if left is None or right is None:
        return False
    if left in NUMERIC and right in NUMERIC:
        return True
    return left == right


def value_type(expr: ast.Expr, columns: Columns) -> FieldType | None:
    """The InfluxDB type of a value expression; None when it has none (unknown field)."""
    if isinstance(expr, ast.VarRef):
        kind = columns.kind(expr)
        if kind == "field":
            return columns.fields[expr.name]
        return FieldType.STRING if kind == "tag" else None
    if isinstance(expr, ast.IntegerLiteral):
        return FieldType.INTEGER
    if isinstance(expr, ast.NumberLiteral):
        return FieldType.FLOAT
    if isinstance(expr, ast.StringLiteral):
        return FieldType.STRING
    if isinstance(expr, ast.BooleanLiteral):
        return FieldType.BOOLEAN
    if isinstance(expr, ast.BinaryExpr) and expr.op in ast.ARITHMETIC_OPS:
        left, right = value_type(expr.lhs, columns), value_type(expr.rhs, columns)
        if left in NUMERIC and right in NUMERIC:
            both_integer = left is not FieldType.FLOAT and right is not FieldType.FLOAT
            return FieldType.INTEGER if both_integer and expr.op != "/" else FieldType.FLOAT
        return None
    if isinstance(expr, ast.Call) and is_math(expr):
        types = [value_type(arg, columns) for arg in expr.args]
        if not types or any(t not in NUMERIC for t in types):
            return None
        keeps = expr.name in KEEPS_INTEGER and types[0] is not FieldType.FLOAT
        return types[0] if keeps else FieldType.FLOAT
    return None


def value_sql(expr: ast.Expr, columns: Columns, params: Params) -> str:
    """SQL for a per-row value: field/tag refs, literals, arithmetic and math functions."""
    if isinstance(expr, ast.VarRef):
        kind = columns.kind(expr)
        return quote_ident(expr.name) if kind else "NULL"
    if isinstance(expr, ast.IntegerLiteral | ast.NumberLiteral | ast.StringLiteral):
        return params.bind(expr.value)
    if isinstance(expr, ast.BooleanLiteral):
        return "TRUE" if expr.value else "FALSE"
    if isinstance(expr, ast.BinaryExpr) and expr.op in ast.ARITHMETIC_OPS:
        lhs = value_sql(expr.lhs, columns, params)
        rhs = value_sql(expr.rhs, columns, params)
        if expr.op == "^":
            return f"xor({lhs}, {rhs})"
        if expr.op == "/":
            # InfluxQL divides as floats, and a zero divisor gives 0 rather than an error.
            divisor = f"CAST({rhs} AS DOUBLE)"
            return f"(CASE WHEN {divisor} = 0 THEN 0.0 ELSE CAST({lhs} AS DOUBLE) / {divisor} END)"
        return f"({lhs} {_SQL_ARITHMETIC[expr.op]} {rhs})"
    if isinstance(expr, ast.Call) and is_math(expr):
        types = [value_type(arg, columns) for arg in expr.args]
        args = [value_sql(arg, columns, params) for arg in expr.args]
        if any(t not in NUMERIC for t in types):
            # InfluxDB answers null for a math function of a string, bool or absent value.
            math_sql(expr.name, args, False)  # still checks the number of arguments
            return "NULL"
        return math_sql(expr.name, args, types[0] is not FieldType.FLOAT)
    raise QueryError(f"unsupported expression in this position: {type(expr).__name__}")
