"""Rule queries that differ only in their aggregate, answered by one statement.

Teams write ladders of rules over one metric, filter and grouping: p50, p95 and p99 of
a service's latency, its mean and its max, each over the same window. Each is its own
query, yet each scans the same rows. A *family* is such a set: single-statement
``SELECT f(field) FROM m WHERE … GROUP BY …`` queries equal in everything but ``f``
(and its arguments). The worker asks one ``SELECT f1(field), f2(field), … `` for a
family due in the same tick and hands each rule its column.

Each rule gets what its own query would give it as far as evaluation can tell
(``crisp.alerting.evaluation.last_value``: the last non-null value of its column, per
series): the groups of the merged statement are the groups holding a value of the one
field they all read, as in each query alone; a series whose column is all null (a
percentile whose rank falls outside its few points) is dropped, as its own query would
not have returned it. Only the time column differs (several selectors in one statement
report the window's start, not the selected point's time), and evaluation does not read
it. Anything else — several fields, transformations, ``top``, ``distinct``, limits,
``fill`` other than the default, subqueries, regex sources — is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from crisp.query.influxql import ParseError, ast, parse_query
from crisp.query.influxql.render import render_statement
from crisp.query.results import Series, StatementResult

# Aggregates and selectors whose value is one number per group, computed alone.
MERGEABLE = frozenset(
    {"count", "mean", "median", "sum", "min", "max", "first", "last", "percentile",
     "spread", "stddev"}
)  # fmt: skip


@dataclass(frozen=True)
class Member:
    """One query of a family: its statement's single call."""

    family: str
    """The statement with its call replaced by the field it reads (rendered): equal for
    queries that may share one statement."""
    call: ast.Call
    statement: ast.SelectStatement


@lru_cache(maxsize=16384)
def member_of(query: str) -> Member | None:
    """``query``'s family, or None when it cannot share a statement with others."""
    try:
        parsed = parse_query(query)
    except ParseError:
        return None
    if len(parsed.statements) != 1 or not isinstance(parsed.statements[0], ast.SelectStatement):
        return None
    statement = parsed.statements[0]
    if not _mergeable(statement):
        return None
    call = statement.fields[0].expr
    assert isinstance(call, ast.Call)
    assert isinstance(call.args[0], ast.VarRef)
    field = ast.Field(call.args[0])
    return Member(render_statement(replace(statement, fields=(field,))), call, statement)


def family_of(query: str) -> str:
    """What ``query`` shares a statement with: its family, or the query itself alone."""
    member = member_of(query)
    return member.family if member else query


def _mergeable(s: ast.SelectStatement) -> bool:
    if len(s.fields) != 1 or len(s.sources) != 1:
        return False
    source = s.sources[0]
    if not isinstance(source, ast.Measurement) or source.name is None:
        return False
    if s.into is not None or s.descending or s.limit or s.offset or s.slimit or s.soffset:
        return False
    if s.fill is not ast.FillOption.NULL:
        return False
    for dimension in s.dimensions:
        if not isinstance(dimension.expr, ast.VarRef | ast.Call):
            return False
    call = s.fields[0].expr
    if not isinstance(call, ast.Call) or call.name not in MERGEABLE or not call.args:
        return False
    if not isinstance(call.args[0], ast.VarRef):
        return False
    if call.name == "percentile":
        return len(call.args) == 2 and isinstance(
            call.args[1], ast.IntegerLiteral | ast.NumberLiteral
        )
    return len(call.args) == 1


def merged_query(members: Sequence[Member]) -> str:
    """One statement selecting every member's call, in order (all of one family)."""
    families = {m.family for m in members}
    if len(families) != 1:
        raise ValueError(f"members of {len(families)} families cannot be merged")
    fields = tuple(ast.Field(m.call) for m in members)
    return render_statement(replace(members[0].statement, fields=fields))


def split_result(result: StatementResult, count: int) -> list[StatementResult] | None:
    """Per member, the result its own query would have given evaluation; None when
    ``result`` is not shaped as a merged statement of ``count`` calls answers."""
    if "error" in result:
        return None
    parts: list[StatementResult] = [
        {"statement_id": result.get("statement_id", 0)} for _ in range(count)
    ]
    for series in result.get("series", []):
        columns = series["columns"]
        if len(columns) != count + 1 or columns[0] != "time":
            return None
        for i in range(count):
            rows = [[row[0], row[i + 1]] for row in series["values"] if row[i + 1] is not None]
            if not rows:
                continue
            one: Series = {"columns": ["time", columns[i + 1]], "values": rows}
            if "name" in series:
                one["name"] = series["name"]
            if "tags" in series:
                one["tags"] = series["tags"]
            parts[i].setdefault("series", []).append(one)
    return parts
