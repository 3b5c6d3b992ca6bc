"""AST → InfluxQL text, such that parsing the text gives back the same AST.

Every nested binary expression is parenthesised: the tree, not precedence, decides
grouping, which keeps the round trip exact at the cost of a few redundant parentheses.
"""

from __future__ import annotations

from decimal import Decimal

from crisp.query.influxql import ast
from crisp.query.influxql.durations import format_duration
from crisp.query.influxql.lexer import quote_ident, quote_regex, quote_string


def render_query(query: ast.Query) -> str:
    return "; ".join(render_statement(s) for s in query.statements)


def render_expr(expr: ast.Expr) -> str:
    if isinstance(expr, ast.BinaryExpr):
        return f"{_operand(expr.lhs)} {expr.op} {_operand(expr.rhs)}"
    return _operand(expr)


def _operand(expr: ast.Expr) -> str:
    match expr:
        case ast.BinaryExpr():
            return f"({render_expr(expr)})"
        case ast.VarRef(name, type_):
            return quote_ident(name) + (f"::{type_}" if type_ else "")
        case ast.Wildcard(type_):
            return "*" + (f"::{type_}" if type_ else "")
        case ast.Call(name, args):
            return f"{quote_ident(name)}({', '.join(render_expr(a) for a in args)})"
        case ast.IntegerLiteral(value):
            return str(value)
        case ast.NumberLiteral(value):
            # InfluxQL has no exponent syntax, so spell the shortest repr out positionally.
            text = format(Decimal(repr(value)), "f")
            return text if "." in text else text + ".0"
        case ast.StringLiteral(value):
            return quote_string(value)
        case ast.BooleanLiteral(value):
            return "true" if value else "false"
        case ast.DurationLiteral(ns):
            return format_duration(ns)
        case ast.RegexLiteral(pattern):
            return quote_regex(pattern)
        case ast.BoundParameter(name):
            return f"${name}"
    raise TypeError(f"not an expression: {expr!r}")


def render_measurement(m: ast.Measurement) -> str:
    last = quote_regex(m.regex) if m.regex is not None else quote_ident(m.name or "")
    if m.database is not None:
        rp = quote_ident(m.rp) if m.rp is not None else ""
        return f"{quote_ident(m.database)}.{rp}.{last}"
    if m.rp is not None:
        return f"{quote_ident(m.rp)}.{last}"
    return last


def _source(source: ast.Source) -> str:
    if isinstance(source, ast.SubQuery):
        return f"({render_statement(source.statement)})"
    return render_measurement(source)


def _clauses(parts: list[str | None]) -> str:
    return " ".join(p for p in parts if p)


def _on(database: str | None) -> str | None:
    return f"ON {quote_ident(database)}" if database is not None else None


def _from(sources: tuple[ast.Measurement, ...]) -> str | None:
    return f"FROM {', '.join(map(render_measurement, sources))}" if sources else None


def _where(condition: ast.Expr | None) -> str | None:
    return f"WHERE {render_expr(condition)}" if condition is not None else None


def _limits(limit: int, offset: int) -> list[str | None]:
    return [f"LIMIT {limit}" if limit else None, f"OFFSET {offset}" if offset else None]


def _select(s: ast.SelectStatement) -> str:
    fields = ", ".join(
        render_expr(f.expr) + (f" AS {quote_ident(f.alias)}" if f.alias else "") for f in s.fields
    )
    fill = None
    if s.fill is ast.FillOption.NUMBER:
        fill = f"fill({_operand(_number(s.fill_value))})"
    elif s.fill is not ast.FillOption.NULL:
        fill = f"fill({s.fill.value})"
    return _clauses(
        [
            f"SELECT {fields}",
            f"INTO {render_measurement(s.into)}" if s.into else None,
            f"FROM {', '.join(map(_source, s.sources))}",
            _where(s.condition),
            "GROUP BY " + ", ".join(render_expr(d.expr) for d in s.dimensions)
            if s.dimensions
            else None,
            fill,
            "ORDER BY time DESC" if s.descending else None,
            *_limits(s.limit, s.offset),
            f"SLIMIT {s.slimit}" if s.slimit else None,
            f"SOFFSET {s.soffset}" if s.soffset else None,
            f"tz({quote_string(s.timezone)})" if s.timezone is not None else None,
        ]
    )


def _number(value: int | float | None) -> ast.Expr:
    if isinstance(value, int):
        return ast.IntegerLiteral(value)
    return ast.NumberLiteral(float(value or 0))


def _rp_duration(ns: int) -> str:
    return "INF" if ns == 0 else format_duration(ns)


def _with_key(op: str, keys: tuple[str, ...], regex: str | None) -> str:
    if regex is not None:
        return f"WITH KEY {op} {quote_regex(regex)}"
    if op == "IN":
        return f"WITH KEY IN ({', '.join(map(quote_ident, keys))})"
    return f"WITH KEY {op} {quote_ident(keys[0])}"


def render_statement(s: ast.Statement) -> str:
    match s:
        case ast.SelectStatement():
            return _select(s)
        case ast.ShowDatabasesStatement():
            return "SHOW DATABASES"
        case ast.CreateDatabaseStatement():
            with_parts = [
                f"DURATION {_rp_duration(s.rp_duration_ns)}"
                if s.rp_duration_ns is not None
                else None,
                f"REPLICATION {s.rp_replication}" if s.rp_replication is not None else None,
                f"SHARD DURATION {_rp_duration(s.rp_shard_duration_ns)}"
                if s.rp_shard_duration_ns is not None
                else None,
                f"NAME {quote_ident(s.rp_name)}" if s.rp_name is not None else None,
            ]
            with_clause = _clauses(with_parts)
            head = f"CREATE DATABASE {quote_ident(s.name)}"
            return _clauses([head, f"WITH {with_clause}" if with_clause else None])
        case ast.DropDatabaseStatement():
            return f"DROP DATABASE {quote_ident(s.name)}"
        case ast.CreateRetentionPolicyStatement() | ast.AlterRetentionPolicyStatement():
            verb = "CREATE" if isinstance(s, ast.CreateRetentionPolicyStatement) else "ALTER"
            return _clauses(
                [
                    f"{verb} RETENTION POLICY {quote_ident(s.name)} ON {quote_ident(s.database)}",
                    f"DURATION {_rp_duration(s.duration_ns)}"
                    if s.duration_ns is not None
                    else None,
                    f"REPLICATION {s.replication}" if s.replication is not None else None,
                    f"SHARD DURATION {_rp_duration(s.shard_duration_ns)}"
                    if s.shard_duration_ns is not None
                    else None,
                    "DEFAULT" if s.default else None,
                ]
            )
        case ast.DropRetentionPolicyStatement():
            return f"DROP RETENTION POLICY {quote_ident(s.name)} ON {quote_ident(s.database)}"
        case ast.ShowRetentionPoliciesStatement():
            return _clauses(["SHOW RETENTION POLICIES", _on(s.database)])
        case ast.DropMeasurementStatement():
            return f"DROP MEASUREMENT {quote_ident(s.name)}"
        case ast.DeleteStatement():
            source = f"FROM {render_measurement(s.source)}" if s.source else None
            return _clauses(["DELETE", source, _where(s.condition)])
        case ast.DropSeriesStatement():
            return _clauses(["DROP SERIES", _from(s.sources), _where(s.condition)])
        case ast.ShowMeasurementsStatement():
            measurement_clause: str | None = None
            if s.source is not None:
                op = "=~" if s.source.regex is not None else "="
                measurement_clause = f"WITH MEASUREMENT {op} {render_measurement(s.source)}"
            return _clauses(
                [
                    "SHOW MEASUREMENTS",
                    _on(s.database),
                    measurement_clause,
                    _where(s.condition),
                    *_limits(s.limit, s.offset),
                ]
            )
        case ast.ShowTagKeysStatement():
            return _clauses(
                [
                    "SHOW TAG KEYS",
                    _on(s.database),
                    _from(s.sources),
                    _where(s.condition),
                    *_limits(s.limit, s.offset),
                ]
            )
        case ast.ShowTagValuesStatement():
            return _clauses(
                [
                    "SHOW TAG VALUES",
                    _on(s.database),
                    _from(s.sources),
                    _with_key(s.key_op, s.keys, s.key_regex),
                    _where(s.condition),
                    *_limits(s.limit, s.offset),
                ]
            )
        case ast.ShowCardinalityStatement():
            exact = " EXACT" if s.exact else ""
            key = _with_key(s.key_op, s.keys, s.key_regex) if s.what == "TAG VALUES" else None
            return _clauses(
                [
                    f"SHOW {s.what}{exact} CARDINALITY",
                    _on(s.database),
                    _from(s.sources),
                    key,
                    _where(s.condition),
                    *_limits(s.limit, s.offset),
                ]
            )
        case ast.ShowFieldKeysStatement():
            return _clauses(
                ["SHOW FIELD KEYS", _on(s.database), _from(s.sources), *_limits(s.limit, s.offset)]
            )
        case ast.ShowSeriesStatement():
            return _clauses(
                [
                    "SHOW SERIES",
                    _on(s.database),
                    _from(s.sources),
                    _where(s.condition),
                    *_limits(s.limit, s.offset),
                ]
            )
    raise TypeError(f"not a statement: {s!r}")
