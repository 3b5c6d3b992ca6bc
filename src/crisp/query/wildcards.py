"""Wildcards over several measurements: InfluxDB expands them over the union of columns.

``SELECT * FROM cpu, mem`` gives every series the same columns, the fields and tags of
both measurements (null where a measurement lacks one); ``count(*)`` counts every field
of the union. Per measurement Crisp plans each query alone, so such statements are
rewritten first with the union spelled out as plain references.
"""

from __future__ import annotations

from dataclasses import replace

from crisp.core.batch import FieldType
from crisp.query.columns import NUMERIC, Columns
from crisp.query.functions import AGGREGATES, NUMERIC_ONLY, SELECTORS
from crisp.query.influxql import ast
from crisp.query.sql import regex_filter


def union_columns(schemas: list[Columns]) -> Columns:
    tags = sorted({t for s in schemas for t in s.tags})
    fields: dict[str, FieldType] = {}
    for schema in schemas:
        for name, field_type in schema.fields.items():
            # A field numeric somewhere but not everywhere reads as not numeric.
            known = fields.get(name)
            fields[name] = field_type if known is None or known == field_type else FieldType.STRING
    return Columns(tuple(tags), dict(sorted(fields.items())))


def expand_over(statement: ast.SelectStatement, schemas: list[Columns]) -> ast.SelectStatement:
    """``statement`` with its wildcard fields spelled out over all ``schemas``' columns
    (unchanged when it reads a single measurement or has no wildcard)."""
    if len(schemas) < 2 or not any(_has_wildcard(f.expr) for f in statement.fields):
        return statement
    union = union_columns(schemas)
    grouped = _grouped_tags(statement, union)
    fields: list[ast.Field] = []
    for field in statement.fields:
        expr = field.expr
        if isinstance(expr, ast.Wildcard | ast.RegexLiteral):
            fields += [ast.Field(ref) for ref in _expand_refs(expr, union, grouped)]
        elif isinstance(expr, ast.Call) and _wildcard_call(expr):
            fields += _expand_call(expr, field.alias, union)
        else:
            fields.append(field)
    return replace(statement, fields=tuple(fields))


def _has_wildcard(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Wildcard | ast.RegexLiteral):
        return True
    return isinstance(expr, ast.Call) and _wildcard_call(expr)


def _wildcard_call(call: ast.Call) -> bool:
    known = call.name in AGGREGATES or call.name in SELECTORS
    return known and bool(call.args) and isinstance(call.args[0], ast.Wildcard | ast.RegexLiteral)


def _grouped_tags(statement: ast.SelectStatement, union: Columns) -> set[str]:
    tags: set[str] = set()
    for dim in statement.dimensions:
        if isinstance(dim.expr, ast.Wildcard):
            tags.update(union.tags)
        elif isinstance(dim.expr, ast.RegexLiteral):
            tags.update(regex_filter(list(union.tags), dim.expr.pattern))
        elif isinstance(dim.expr, ast.VarRef):
            tags.add(dim.expr.name)
    return tags


def _expand_refs(
    expr: ast.Wildcard | ast.RegexLiteral, union: Columns, grouped: set[str]
) -> list[ast.VarRef]:
    if isinstance(expr, ast.RegexLiteral):
        return [ast.VarRef(n, "field") for n in regex_filter(list(union.fields), expr.pattern)]
    fields = [] if expr.type == "tag" else list(union.fields)
    tags = [] if expr.type == "field" else [t for t in union.tags if t not in grouped]
    refs = [ast.VarRef(n, "field") for n in fields] + [ast.VarRef(n, "tag") for n in tags]
    return sorted(refs, key=lambda ref: ref.name)


def _expand_call(call: ast.Call, alias: str | None, union: Columns) -> list[ast.Field]:
    arg = call.args[0]
    names = list(union.fields)
    if isinstance(arg, ast.RegexLiteral):
        names = regex_filter(names, arg.pattern)
    out = []
    for name in names:
        if call.name in NUMERIC_ONLY and union.fields[name] not in NUMERIC:
            continue  # mean(*) leaves out the fields it cannot read
        expanded = ast.Call(call.name, (ast.VarRef(name, "field"), *call.args[1:]))
        out.append(ast.Field(expanded, f"{alias or call.name}_{name}"))
    return out
