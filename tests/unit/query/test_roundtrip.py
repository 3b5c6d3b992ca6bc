"""Rendering any syntax tree and parsing the text back gives the same tree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.query.influxql import ast as a
from crisp.query.influxql import parse_statement
from crisp.query.influxql.render import render_statement

# Names include spaces, quotes, backslashes, keywords and non-ASCII so quoting is exercised.
names = st.one_of(
    st.sampled_from(["host", "value", "time_x", "select", "from", "my field", 'a"b', "c\\d"]),
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=8),
)
strings = st.text(st.characters(blacklist_categories=["Cs"]), max_size=10)
# A trailing backslash would escape the closing slash, and a leading "*" would open a
# "/* comment", neither of which InfluxQL can express.
regexes = st.text(st.sampled_from("abc.*^$/[]| '\""), max_size=8).filter(
    lambda r: not r.startswith("*")
)

literals: st.SearchStrategy[a.Expr] = st.one_of(
    st.integers(-(2**63) + 1, 2**63 - 1).map(a.IntegerLiteral),
    st.floats(allow_nan=False, allow_infinity=False).map(a.NumberLiteral),
    strings.map(a.StringLiteral),
    st.booleans().map(a.BooleanLiteral),
    st.integers(-(10**15), 10**15).map(a.DurationLiteral),
    regexes.map(a.RegexLiteral),
)
leaves: st.SearchStrategy[a.Expr] = st.one_of(
    literals,
    st.builds(a.VarRef, names, st.sampled_from([None, "field", "tag", "float"])),
)
OPS = sorted(a.COMPARISON_OPS | a.ARITHMETIC_OPS | a.LOGICAL_OPS)
exprs: st.SearchStrategy[a.Expr] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(a.BinaryExpr, st.sampled_from(OPS), inner, inner),
        st.builds(
            a.Call,
            st.sampled_from(["mean", "count", "derivative", "now"]),
            st.lists(inner, max_size=3).map(tuple),
        ),
    ),
    max_leaves=5,
)
measurements = st.one_of(
    st.builds(a.Measurement, names, st.none(), st.none() | names, st.none() | names),
    st.builds(a.Measurement, st.none(), regexes, st.none(), st.none()),
)
dimensions = st.one_of(
    names.map(lambda n: a.Dimension(a.VarRef(n))),
    regexes.map(lambda r: a.Dimension(a.RegexLiteral(r))),
    st.just(a.Dimension(a.Wildcard())),
    st.integers(1, 10**12).map(lambda ns: a.Dimension(a.Call("time", (a.DurationLiteral(ns),)))),
)
small = st.integers(0, 1000)


@st.composite
def selects(draw: st.DrawFn) -> a.SelectStatement:
    fill = draw(st.sampled_from(list(a.FillOption)))
    fill_value = (
        draw(st.integers(-5, 5) | st.floats(-5, 5)) if fill is a.FillOption.NUMBER else None
    )
    return a.SelectStatement(
        fields=tuple(
            draw(st.lists(st.builds(a.Field, exprs, st.none() | names), min_size=1, max_size=3))
        ),
        sources=tuple(draw(st.lists(measurements, min_size=1, max_size=2))),
        condition=draw(st.none() | exprs),
        dimensions=tuple(draw(st.lists(dimensions, max_size=3))),
        fill=fill,
        fill_value=fill_value,
        descending=draw(st.booleans()),
        limit=draw(small),
        offset=draw(small),
        slimit=draw(small),
        soffset=draw(small),
        timezone=draw(st.none() | strings),
    )


meta = st.one_of(
    st.builds(a.CreateDatabaseStatement, names),
    st.builds(a.DropDatabaseStatement, names),
    st.builds(
        a.CreateRetentionPolicyStatement,
        names,
        names,
        st.integers(0, 10**15),
        st.integers(1, 9),
        st.none() | st.integers(0, 10**15),
        st.booleans(),
    ),
    st.builds(a.ShowRetentionPoliciesStatement, st.none() | names),
    st.builds(a.DropMeasurementStatement, names),
    st.builds(a.DeleteStatement, measurements.filter(lambda m: m.name is not None), exprs),
    st.builds(
        a.ShowTagKeysStatement,
        st.none() | names,
        st.lists(measurements, max_size=2).map(tuple),
        st.none() | exprs,
        small,
        small,
    ),
    st.builds(
        a.ShowTagValuesStatement, st.just("IN"), st.lists(names, min_size=1, max_size=3).map(tuple)
    ),
    st.builds(
        a.ShowSeriesStatement,
        st.none() | names,
        st.lists(measurements, max_size=2).map(tuple),
        st.none() | exprs,
        small,
        small,
    ),
    st.just(a.ShowDatabasesStatement()),
    st.builds(
        a.CreateDatabaseStatement,
        names,
        st.none() | st.integers(0, 10**15),
        st.none() | st.integers(1, 9),
        st.none() | st.integers(0, 10**15),
        st.none() | names,
    ),
    st.builds(
        a.AlterRetentionPolicyStatement,
        names,
        names,
        st.none() | st.integers(0, 10**15),
        st.none() | st.integers(1, 9),
        st.none() | st.integers(0, 10**15),
        st.booleans(),
    ).filter(
        lambda s: (
            (s.duration_ns, s.replication, s.shard_duration_ns, s.default)
            != (None, None, None, False)
        )
    ),
    st.builds(a.DropRetentionPolicyStatement, names, names),
    st.builds(
        a.ShowMeasurementsStatement,
        st.none() | names,
        st.none() | measurements.filter(lambda m: m.database is None and m.rp is None),
        st.none() | exprs,
        small,
        small,
    ),
    st.builds(
        a.ShowTagValuesStatement,
        st.sampled_from(["=", "!="]),
        names.map(lambda n: (n,)),
        st.none(),
        st.none() | names,
        st.lists(measurements, max_size=2).map(tuple),
        st.none() | exprs,
        small,
        small,
    ),
    st.builds(a.ShowTagValuesStatement, st.sampled_from(["=~", "!~"]), st.just(()), regexes),
    st.builds(
        a.ShowCardinalityStatement,
        st.sampled_from(["SERIES", "MEASUREMENT", "TAG KEY", "FIELD KEY"]),
        st.booleans(),
        st.none() | names,
        st.lists(measurements, max_size=2).map(tuple),
        st.none() | exprs,
        limit=small,
        offset=small,
    ),
    st.builds(
        a.ShowCardinalityStatement,
        st.just("TAG VALUES"),
        st.booleans(),
        st.none() | names,
        st.lists(measurements, max_size=2).map(tuple),
        st.none() | exprs,
        st.just("IN"),
        st.lists(names, min_size=1, max_size=3).map(tuple),
        limit=small,
        offset=small,
    ),
    st.builds(
        a.ShowFieldKeysStatement,
        st.none() | names,
        st.lists(measurements, max_size=2).map(tuple),
        small,
        small,
    ),
    st.builds(
        a.DropSeriesStatement,
        st.lists(measurements, min_size=1, max_size=2).map(tuple),
        st.none() | exprs,
    ),
)


@settings(max_examples=60, deadline=None)
@given(selects())
def test_select_round_trip(statement: a.SelectStatement) -> None:
    assert parse_statement(render_statement(statement)) == statement


@settings(max_examples=150, deadline=None)
@given(meta)
def test_meta_round_trip(statement: a.Statement) -> None:
    assert parse_statement(render_statement(statement)) == statement
