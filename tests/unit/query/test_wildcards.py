"""Wildcards over several measurements read the union of their columns."""

from __future__ import annotations

from crisp.core.batch import FieldType
from crisp.query.columns import Columns
from crisp.query.influxql import ast, parse_statement
from crisp.query.wildcards import expand_over

CPU = Columns(("host", "region"), {"usage": FieldType.FLOAT})
LOG = Columns(("host",), {"level": FieldType.STRING, "lines": FieldType.INTEGER})


def select(q: str) -> ast.SelectStatement:
    statement = parse_statement(q)
    assert isinstance(statement, ast.SelectStatement)
    return statement


def test_star_lists_every_field_and_tag_of_all_measurements() -> None:
    out = expand_over(select("SELECT * FROM cpu, log GROUP BY host"), [CPU, LOG])
    # host is grouped by, so it is a tag of the series rather than a column.
    assert [f.expr for f in out.fields] == [
        ast.VarRef("level", "field"),
        ast.VarRef("lines", "field"),
        ast.VarRef("region", "tag"),
        ast.VarRef("usage", "field"),
    ]


def test_functions_of_star_skip_fields_they_cannot_read() -> None:
    out = expand_over(select("SELECT mean(*) AS m, count(*) FROM cpu, log"), [CPU, LOG])
    assert [(f.expr, f.alias) for f in out.fields] == [
        (ast.Call("mean", (ast.VarRef("lines", "field"),)), "m_lines"),
        (ast.Call("mean", (ast.VarRef("usage", "field"),)), "m_usage"),
        (ast.Call("count", (ast.VarRef("level", "field"),)), "count_level"),
        (ast.Call("count", (ast.VarRef("lines", "field"),)), "count_lines"),
        (ast.Call("count", (ast.VarRef("usage", "field"),)), "count_usage"),
    ]


def test_one_measurement_is_left_alone() -> None:
    statement = select("SELECT * FROM cpu")
    assert expand_over(statement, [CPU]) is statement
