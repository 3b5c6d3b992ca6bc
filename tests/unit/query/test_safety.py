"""User text can never change the meaning of the SQL: values are bound, names quoted."""

from __future__ import annotations

import duckdb
import pytest

from crisp.core.batch import FieldType
from crisp.query.columns import Columns
from crisp.query.deadline import Deadline
from crisp.query.errors import QueryError
from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.query.influxql import parse_statement
from crisp.query.influxql.ast import SelectStatement
from crisp.query.planner import plan_select
from crisp.query.results import Series
from crisp.query.sql import Params, quote_ident
from crisp.query.timecond import split_condition
from tests.unit.query.conftest import NOW, S
from tests.unit.query.memory_storage import MemoryStorage, table

EVIL = "a'; DROP TABLE points; --"
ODD = 'we"ird"; DROP'


@pytest.fixture
def evil_storage() -> MemoryStorage:
    memory = MemoryStorage()
    rows = [
        {"time": 0, "host": EVIL, ODD: 1.0, "value": 1.0},
        {"time": S, "host": "b", ODD: 2.0, "value": 2.0},
        {"time": 2 * S, "host": "x' OR '1'='1", ODD: 3.0, "value": 3.0},
    ]
    memory.add("db", "m", table(rows, ["host"], {ODD: FieldType.FLOAT, "value": FieldType.FLOAT}))
    return memory


def run(storage: MemoryStorage, q: str) -> list[Series]:
    [result] = execute(
        q, storage=storage, database="db", rp=None, now_ns=NOW,
        guards=QueryGuards(require_time_bound=False),
    )  # fmt: skip
    assert "error" not in result, result
    return result.get("series", [])


def test_quote_ident_escapes_quotes() -> None:
    assert quote_ident('a"b') == '"a""b"'
    with duckdb.connect() as con:
        assert con.execute(f"SELECT 1 AS {quote_ident(ODD)}").description[0][0] == ODD
    with pytest.raises(QueryError):
        quote_ident("a\x00b")


def test_tag_value_with_sql_is_matched_literally(evil_storage: MemoryStorage) -> None:
    [s] = run(evil_storage, "SELECT value FROM m WHERE host = 'a\\'; DROP TABLE points; --'")
    assert s["values"] == [[0, 1.0]]
    assert run(evil_storage, "SELECT value FROM m WHERE host = 'x\\' OR \\'1\\'=\\'1x'") == []
    [s] = run(evil_storage, "SELECT count(value) FROM m")
    assert s["values"] == [[0, 3]]  # the table is intact


def test_regex_with_quotes_is_a_bound_pattern(evil_storage: MemoryStorage) -> None:
    [s] = run(evil_storage, "SELECT value FROM m WHERE host =~ /'; DROP/")
    assert s["values"] == [[0, 1.0]]
    assert run(evil_storage, "SELECT value FROM m WHERE host =~ /'\\) OR \\(1=1/") == []
    [result] = execute(
        "SELECT value FROM m WHERE host =~ /') OR (1=1/", storage=evil_storage, database="db",
        rp=None, now_ns=NOW, guards=QueryGuards(require_time_bound=False),
    )  # fmt: skip
    assert "unexpected )" in result["error"]  # an invalid regex, not a widened condition


def test_odd_identifiers(evil_storage: MemoryStorage) -> None:
    [s] = run(
        evil_storage, 'SELECT "we\\"ird\\"; DROP" AS "x\\"" FROM m WHERE "we\\"ird\\"; DROP" > 1'
    )
    assert s["columns"] == ["time", 'x"']
    assert s["values"] == [[S, 2.0], [2 * S, 3.0]]
    out = run(evil_storage, 'SELECT max("we\\"ird\\"; DROP") FROM m GROUP BY "host"')
    assert [s["tags"]["host"] for s in out] == [EVIL, "b", "x' OR '1'='1"]
    assert out[0]["values"] == [[0, 1.0]]


def test_user_text_never_reaches_the_sql(evil_storage: MemoryStorage) -> None:
    statement = parse_statement(
        "SELECT value FROM m WHERE host = 'a\\'; DROP TABLE points; --' AND host =~ /'; x/"
        " AND value > 1 AND time > now() - 1h"
    )
    assert isinstance(statement, SelectStatement)
    columns = Columns(("host",), {"value": FieldType.FLOAT})
    bounds, condition = split_condition(statement.condition, NOW)
    plan = plan_select(statement, columns, bounds, condition, max_rows=10)
    assert plan is not None
    assert "DROP" not in plan.sql
    assert "'; x" not in plan.sql
    assert EVIL in plan.params.values.values()
    assert "'; x" in plan.params.values.values()


def test_timeout_interrupts_duckdb() -> None:
    with duckdb.connect() as con:
        deadline = Deadline(0.2)
        with pytest.raises(QueryError, match="query timeout"):
            deadline.fetch(con, "SELECT count(*) FROM range(100000000000)", Params())
        assert con.execute("SELECT 1").fetchall() == [(1,)]


def test_bound_parameters_are_values(evil_storage: MemoryStorage) -> None:
    [result] = execute(
        "SELECT value FROM m WHERE host = $host AND value >= $min",
        storage=evil_storage, database="db", rp=None, now_ns=NOW,
        guards=QueryGuards(require_time_bound=False), params={"host": EVIL, "min": 1},
    )  # fmt: skip
    assert result["series"][0]["values"] == [[0, 1.0]]
    [result] = execute(
        "SELECT value FROM m WHERE host = $host", storage=evil_storage, database="db",
        rp=None, now_ns=NOW, guards=QueryGuards(require_time_bound=False), params={"x": 1},
    )  # fmt: skip
    assert result["error"] == "missing parameter: host"


def test_unbound_parameter_is_an_error(evil_storage: MemoryStorage) -> None:
    [result] = execute(
        "SELECT value FROM m WHERE host = $host", storage=evil_storage, database="db",
        rp=None, now_ns=NOW, guards=QueryGuards(require_time_bound=False),
    )  # fmt: skip
    assert result["error"] == "missing parameter: host"


def test_a_repeated_text_is_bound_afresh_each_time(evil_storage: MemoryStorage) -> None:
    # Parsed trees are cached by text; the values must not stick to them.
    text = "SELECT value FROM m WHERE value >= $min"
    answers = [
        execute(
            text, storage=evil_storage, database="db", rp=None, now_ns=NOW,
            guards=QueryGuards(require_time_bound=False), params={"min": low},
        )[0]["series"][0]["values"]
        for low in (1, 2, 1)
    ]  # fmt: skip
    assert answers[0] == answers[2] != answers[1]
