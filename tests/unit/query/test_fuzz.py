"""Any SELECT a user can write gets an answer or a message, never an internal error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.query.influxql import ast as a
from crisp.query.influxql.render import render_statement
from tests.unit.query.conftest import NOW, S
from tests.unit.query.memory_storage import MemoryStorage

FUNCTIONS = [
    "count", "mean", "median", "mode", "spread", "stddev", "sum", "first", "last", "min",
    "max", "percentile", "top", "bottom", "distinct", "integral", "derivative",
    "non_negative_derivative", "difference", "moving_average", "cumulative_sum", "elapsed",
    "sample", "nope",
]  # fmt: skip
refs = st.sampled_from(["value", "n", "s", "host", "region", "x", "time"]).map(a.VarRef)
literals = st.one_of(
    st.integers(-3, 100).map(a.IntegerLiteral),
    st.sampled_from([0.5, 2.0, -1.5]).map(a.NumberLiteral),
    st.sampled_from(["a", "eu", "", "x'y"]).map(a.StringLiteral),
    st.sampled_from([S, 10 * S, 60 * S]).map(a.DurationLiteral),
    st.sampled_from(["^a", "(", "."]).map(a.RegexLiteral),
    st.booleans().map(a.BooleanLiteral),
)
values = st.recursive(
    st.one_of(refs, literals),
    lambda inner: st.one_of(
        st.builds(a.BinaryExpr, st.sampled_from(["+", "-", "*", "/", "%"]), inner, inner),
        st.builds(a.Call, st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3).map(tuple)),
        st.builds(
            lambda name, first, extra: a.Call(name, (first, *extra)),
            st.sampled_from(FUNCTIONS),
            inner,
            st.lists(literals, max_size=1),
        ),
    ),
    max_leaves=4,
)
comparisons = st.builds(
    a.BinaryExpr,
    st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "=~", "!~"]),
    st.one_of(refs, values),
    st.one_of(literals, refs),
)
conditions = st.recursive(
    comparisons,
    lambda inner: st.builds(a.BinaryExpr, st.sampled_from(["AND", "OR"]), inner, inner),
    max_leaves=3,
)
dimensions = st.one_of(
    st.sampled_from(["host", "region", "x"]).map(lambda n: a.Dimension(a.VarRef(n))),
    st.just(a.Dimension(a.Wildcard())),
    st.just(a.Dimension(a.RegexLiteral("^h"))),
    st.sampled_from([10 * S, 30 * S]).map(
        lambda ns: a.Dimension(a.Call("time", (a.DurationLiteral(ns),)))
    ),
)


@st.composite
def selects(draw: st.DrawFn) -> a.SelectStatement:
    fill = draw(st.sampled_from(list(a.FillOption)))
    return a.SelectStatement(
        fields=tuple(
            draw(
                st.lists(
                    st.builds(a.Field, st.one_of(values, st.just(a.Wildcard()))),
                    min_size=1,
                    max_size=2,
                )
            )
        ),
        sources=(a.Measurement(draw(st.sampled_from(["cpu", "mem", "none"]))),),
        condition=draw(st.none() | conditions),
        dimensions=tuple(draw(st.lists(dimensions, max_size=2))),
        fill=fill,
        fill_value=1 if fill is a.FillOption.NUMBER else None,
        descending=draw(st.booleans()),
        limit=draw(st.integers(0, 3)),
        offset=draw(st.integers(0, 2)),
        slimit=draw(st.integers(0, 2)),
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(statement=selects())
def test_no_internal_errors(storage: MemoryStorage, statement: a.SelectStatement) -> None:
    text = render_statement(statement)
    [result] = execute(
        text, storage=storage, database="db", rp=None, now_ns=NOW,
        guards=QueryGuards(require_time_bound=False, max_buckets=1000, timeout_seconds=5),
    )  # fmt: skip
    assert not result.get("error", "").startswith("internal error"), (text, result)
