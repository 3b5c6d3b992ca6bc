"""InfluxQL statements → expected syntax trees, and errors → InfluxDB-style messages."""

from __future__ import annotations

import pytest

from crisp.query.influxql import ParseError, parse_expr, parse_query, parse_statement
from crisp.query.influxql import ast as a
from crisp.query.influxql.durations import (
    DAY,
    HOUR,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    SECOND,
    WEEK,
    format_go_duration,
    parse_duration,
)

CPU = a.Measurement(name="cpu")
NOW_MINUS_1H = a.BinaryExpr("-", a.Call("now"), a.DurationLiteral(HOUR))


def ref(name: str) -> a.VarRef:
    return a.VarRef(name)


def select(*fields: a.Expr, **kwargs: object) -> a.SelectStatement:
    sources = kwargs.pop("sources", (CPU,))
    return a.SelectStatement(
        fields=tuple(a.Field(f) for f in fields),
        sources=sources,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


META_CASES: list[tuple[str, a.Statement]] = [
    ("SHOW DATABASES", a.ShowDatabasesStatement()),
    ("create database mydb", a.CreateDatabaseStatement("mydb")),
    (
        'CREATE DATABASE "my db" WITH DURATION 3d REPLICATION 1 SHARD DURATION 1h NAME rp1',
        a.CreateDatabaseStatement("my db", 3 * DAY, 1, HOUR, "rp1"),
    ),
    ("DROP DATABASE mydb", a.DropDatabaseStatement("mydb")),
    (
        "CREATE RETENTION POLICY one_week ON mydb DURATION 1w REPLICATION 1",
        a.CreateRetentionPolicyStatement("one_week", "mydb", WEEK, 1),
    ),
    (
        "CREATE RETENTION POLICY r ON db DURATION INF REPLICATION 2 SHARD DURATION 30m DEFAULT",
        a.CreateRetentionPolicyStatement("r", "db", 0, 2, 30 * MINUTE, True),
    ),
    (
        "ALTER RETENTION POLICY r ON db DEFAULT DURATION 2h",
        a.AlterRetentionPolicyStatement("r", "db", duration_ns=2 * HOUR, default=True),
    ),
    (
        "ALTER RETENTION POLICY r ON db SHARD DURATION 1d REPLICATION 3",
        a.AlterRetentionPolicyStatement("r", "db", replication=3, shard_duration_ns=DAY),
    ),
    ("DROP RETENTION POLICY r ON db", a.DropRetentionPolicyStatement("r", "db")),
    ("SHOW RETENTION POLICIES", a.ShowRetentionPoliciesStatement()),
    ("SHOW RETENTION POLICIES ON db", a.ShowRetentionPoliciesStatement("db")),
    ('DROP MEASUREMENT "cpu load"', a.DropMeasurementStatement("cpu load")),
    ("DELETE FROM cpu", a.DeleteStatement(CPU)),
    (
        "DELETE WHERE time < '2020-01-01T00:00:00Z'",
        a.DeleteStatement(
            None, a.BinaryExpr("<", ref("time"), a.StringLiteral("2020-01-01T00:00:00Z"))
        ),
    ),
    (
        "DROP SERIES FROM cpu WHERE host = 'a'",
        a.DropSeriesStatement((CPU,), a.BinaryExpr("=", ref("host"), a.StringLiteral("a"))),
    ),
    ("SHOW MEASUREMENTS", a.ShowMeasurementsStatement()),
    (
        "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /cp.*/ WHERE host = 'a' LIMIT 2 OFFSET 1",
        a.ShowMeasurementsStatement(
            "db",
            a.Measurement(regex="cp.*"),
            a.BinaryExpr("=", ref("host"), a.StringLiteral("a")),
            2,
            1,
        ),
    ),
    (
        "SHOW MEASUREMENTS WITH MEASUREMENT = cpu",
        a.ShowMeasurementsStatement(source=CPU),
    ),
    (
        "SHOW TAG KEYS ON db FROM cpu LIMIT 3",
        a.ShowTagKeysStatement("db", (CPU,), limit=3),
    ),
    (
        "SHOW TAG VALUES FROM cpu WITH KEY = host",
        a.ShowTagValuesStatement("=", ("host",), sources=(CPU,)),
    ),
    (
        'SHOW TAG VALUES ON db WITH KEY IN (host, "region") WHERE host =~ /a/ LIMIT 5',
        a.ShowTagValuesStatement(
            "IN",
            ("host", "region"),
            database="db",
            condition=a.BinaryExpr("=~", ref("host"), a.RegexLiteral("a")),
            limit=5,
        ),
    ),
    (
        "SHOW TAG VALUES WITH KEY =~ /ho.*/",
        a.ShowTagValuesStatement("=~", key_regex="ho.*"),
    ),
    ("SHOW FIELD KEYS ON db FROM cpu", a.ShowFieldKeysStatement("db", (CPU,))),
    (
        "SHOW SERIES ON db FROM cpu WHERE region = 'eu' LIMIT 10 OFFSET 2",
        a.ShowSeriesStatement(
            "db", (CPU,), a.BinaryExpr("=", ref("region"), a.StringLiteral("eu")), 10, 2
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), META_CASES, ids=[c[0] for c in META_CASES])
def test_meta_statements(text: str, expected: a.Statement) -> None:
    assert parse_statement(text) == expected


SELECT_CASES: list[tuple[str, a.SelectStatement]] = [
    ("SELECT value FROM cpu", select(ref("value"))),
    ("select * from cpu", select(a.Wildcard())),
    (
        'SELECT "my field"::float, *::tag FROM cpu',
        select(a.VarRef("my field", "float"), a.Wildcard("tag")),
    ),
    (
        "SELECT a + b * 2 - c % 3 FROM cpu",
        select(
            a.BinaryExpr(
                "-",
                a.BinaryExpr("+", ref("a"), a.BinaryExpr("*", ref("b"), a.IntegerLiteral(2))),
                a.BinaryExpr("%", ref("c"), a.IntegerLiteral(3)),
            )
        ),
    ),
    (
        "SELECT (a + b) / 2.5 FROM cpu",
        select(a.BinaryExpr("/", a.BinaryExpr("+", ref("a"), ref("b")), a.NumberLiteral(2.5))),
    ),
    (
        'SELECT derivative(mean("value"), 1s) FROM "db"."rp"."cpu"',
        select(
            a.Call("derivative", (a.Call("mean", (ref("value"),)), a.DurationLiteral(SECOND))),
            sources=(a.Measurement("cpu", database="db", rp="rp"),),
        ),
    ),
    (
        "SELECT PERCENTILE(v, 95), top(v, host, 3) FROM db..cpu, autogen.mem",
        select(
            a.Call("percentile", (ref("v"), a.IntegerLiteral(95))),
            a.Call("top", (ref("v"), ref("host"), a.IntegerLiteral(3))),
            sources=(
                a.Measurement("cpu", database="db"),
                a.Measurement("mem", rp="autogen"),
            ),
        ),
    ),
    (
        "SELECT DISTINCT host, count(distinct(v)) FROM /^cp[a-z]\\/x$/",
        select(
            a.Call("distinct", (ref("host"),)),
            a.Call("count", (a.Call("distinct", (ref("v"),)),)),
            sources=(a.Measurement(regex="^cp[a-z]/x$"),),
        ),
    ),
    (
        "SELECT max(v) FROM (SELECT mean(v) AS v FROM cpu GROUP BY host)",
        select(
            a.Call("max", (ref("v"),)),
            sources=(
                a.SubQuery(
                    a.SelectStatement(
                        fields=(a.Field(a.Call("mean", (ref("v"),)), "v"),),
                        sources=(CPU,),
                        dimensions=(a.Dimension(ref("host")),),
                    )
                ),
            ),
        ),
    ),
    (
        "SELECT mean(v) FROM cpu WHERE time > now() - 1h AND (host = 'a' OR host != 'b') "
        "GROUP BY time(10m, 5m), host, /^reg/, * fill(previous) ORDER BY time DESC "
        "LIMIT 5 OFFSET 1 SLIMIT 2 SOFFSET 3 tz('Europe/Paris')",
        select(
            a.Call("mean", (ref("v"),)),
            condition=a.BinaryExpr(
                "AND",
                a.BinaryExpr(">", ref("time"), NOW_MINUS_1H),
                a.BinaryExpr(
                    "OR",
                    a.BinaryExpr("=", ref("host"), a.StringLiteral("a")),
                    a.BinaryExpr("!=", ref("host"), a.StringLiteral("b")),
                ),
            ),
            dimensions=(
                a.Dimension(
                    a.Call("time", (a.DurationLiteral(10 * MINUTE), a.DurationLiteral(5 * MINUTE)))
                ),
                a.Dimension(ref("host")),
                a.Dimension(a.RegexLiteral("^reg")),
                a.Dimension(a.Wildcard()),
            ),
            fill=a.FillOption.PREVIOUS,
            descending=True,
            limit=5,
            offset=1,
            slimit=2,
            soffset=3,
            timezone="Europe/Paris",
        ),
    ),
    (
        "SELECT v FROM cpu GROUP BY time(1h) fill(-1.5)",
        select(
            ref("v"),
            dimensions=(a.Dimension(a.Call("time", (a.DurationLiteral(HOUR),))),),
            fill=a.FillOption.NUMBER,
            fill_value=-1.5,
        ),
    ),
    (
        "SELECT v FROM cpu fill(none)",
        select(ref("v"), fill=a.FillOption.NONE),
    ),
    (
        'SELECT v AS "the value" FROM cpu WHERE time >= 1500000000000000000 AND v <= -2',
        a.SelectStatement(
            fields=(a.Field(ref("v"), "the value"),),
            sources=(CPU,),
            condition=a.BinaryExpr(
                "AND",
                a.BinaryExpr(">=", ref("time"), a.IntegerLiteral(1_500_000_000_000_000_000)),
                a.BinaryExpr("<=", ref("v"), a.IntegerLiteral(-2)),
            ),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), SELECT_CASES, ids=[c[0][:60] for c in SELECT_CASES])
def test_select_statements(text: str, expected: a.SelectStatement) -> None:
    assert parse_statement(text) == expected


def test_multiple_statements_and_comments() -> None:
    query = parse_query("SHOW DATABASES; -- a comment\n select v /* inline */ from cpu;;")
    assert query.statements == (a.ShowDatabasesStatement(), select(ref("v")))


def test_empty_query_has_no_statements() -> None:
    assert parse_query("  ; ").statements == ()


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1ns", 1),
        ("1u", MICROSECOND),
        ("1µ", MICROSECOND),
        ("1ms", MILLISECOND),
        ("1s", SECOND),
        ("1m", MINUTE),
        ("1h", HOUR),
        ("1d", DAY),
        ("1w", WEEK),
        ("1h30m", 90 * MINUTE),
    ],
)
def test_duration_literals(text: str, ns: int) -> None:
    assert parse_duration(text) == ns
    assert parse_expr(f"now() - {text}") == a.BinaryExpr("-", a.Call("now"), a.DurationLiteral(ns))


def test_negative_durations_and_unary_minus() -> None:
    assert parse_expr("-10m") == a.DurationLiteral(-10 * MINUTE)
    assert parse_expr("-x") == a.BinaryExpr("*", a.IntegerLiteral(-1), ref("x"))


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0s"), (WEEK, "168h0m0s"), (DAY, "24h0m0s"), (90 * SECOND, "1m30s"), (1500, "1.5µs")],
)
def test_go_duration_format(ns: int, text: str) -> None:
    assert format_go_duration(ns) == text


def test_string_and_identifier_escapes() -> None:
    expr = parse_expr(r""""a \"b\" \\c" = 'it\'s \\ \n x'""")
    assert expr == a.BinaryExpr("=", ref('a "b" \\c'), a.StringLiteral("it's \\ \n x"))


def test_regex_versus_division() -> None:
    assert parse_expr("a / b / 2") == a.BinaryExpr(
        "/", a.BinaryExpr("/", ref("a"), ref("b")), a.IntegerLiteral(2)
    )
    assert parse_expr("host =~ /a\\/b.*/") == a.BinaryExpr(
        "=~", ref("host"), a.RegexLiteral("a/b.*")
    )


def test_not_equal_spellings_are_one_operator() -> None:
    assert parse_expr("a <> 'x'") == parse_expr("a != 'x'")


ERROR_CASES = [
    ("SELECT FROM cpu", "found FROM, expected identifier, string, number, bool at line 1, char 8"),
    ("SELECT value", "found EOF, expected FROM at line 1, char 13"),
    (
        "SELECT v FROM cpu WHERE",
        "found EOF, expected identifier, string, number, bool at line 1, char 24",
    ),
    ("FOO", "found FOO, expected SELECT, DELETE, SHOW, CREATE, DROP, ALTER at line 1, char 1"),
    (
        "SHOW\nFOO",
        "found FOO, expected DATABASES, FIELD, MEASUREMENT, MEASUREMENTS, RETENTION, SERIES, TAG"
        " at line 2, char 1",
    ),
    ("SELECT v FROM cpu WHERE h = 'abc", "unterminated string literal at line 1, char 29"),
    ("SELECT v FROM cpu WHERE h = 'a\\qb'", "bad escape: \\q at line 1, char 31"),
    (
        "SELECT v FROM cpu ORDER BY host",
        "only ORDER BY time supported at this time at line 1, char 28",
    ),
    (
        "SELECT v FROM cpu GROUP BY time(v)",
        "time dimension must have duration argument at line 1, char 28",
    ),
    (
        "CREATE RETENTION POLICY r ON db DURATION 1h REPLICATION 0",
        "invalid value 0: must be 1 <= n <= 9223372036854775807 at line 1, char 57",
    ),
    (
        "ALTER RETENTION POLICY r ON db",
        "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT at line 1, char 31",
    ),
    ("DROP SERIES", "DROP SERIES statement must have FROM or WHERE clause at line 1, char 12"),
    ("SELECT v FROM cpu LIMIT x", "found x, expected integer at line 1, char 25"),
    ("SELECT v FROM cpu extra", "found extra, expected ; at line 1, char 19"),
    ("SHOW TAG VALUES FROM cpu", "found EOF, expected WITH at line 1, char 25"),
    ("SELECT v FROM cpu WHERE h =~ /abc", "unterminated regex literal at line 1, char 30"),
]


@pytest.mark.parametrize(("text", "message"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_query(text)
    assert str(caught.value) == message
