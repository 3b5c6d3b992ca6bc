"""Entry point: InfluxQL text → one InfluxDB-1.x-shaped result per statement.

User mistakes (bad syntax, unknown database, refused by a guard, timeout) become an
``error`` on the statement they concern; they never escape as exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from crisp.query.bind import bind_parameters, has_parameters
from crisp.query.deadline import Deadline
from crisp.query.errors import QueryError
from crisp.query.guards import QueryGuards
from crisp.query.influxql import ParseError, ast, parse_query
from crisp.query.meta import MetaRunner
from crisp.query.results import Series, StatementResult
from crisp.query.select import Context, run_select
from crisp.storage.api import Storage, StorageError

logger = logging.getLogger(__name__)

# InfluxDB's wording; the HTTP API recognises a query that did not parse by it.
PARSE_ERROR_PREFIX = "error parsing query:"


def execute(
    query_text: str,
    *,
    storage: Storage,
    database: str | None,
    rp: str | None,
    now_ns: int,
    guards: QueryGuards,
    params: Mapping[str, Any] | None = None,
) -> list[StatementResult]:
    """Run every statement of ``query_text``; ``params`` fills ``$name`` placeholders."""
    try:
        statements = _parsed(query_text)
    except ParseError as error:
        # InfluxDB answers a parse error with a single error for the whole query.
        return [{"statement_id": 0, "error": f"{PARSE_ERROR_PREFIX} {error}"}]
    results: list[StatementResult] = []
    for statement_id, (statement, parameterised) in enumerate(statements):
        result: StatementResult = {"statement_id": statement_id}
        try:
            if parameterised:
                statement = bind_parameters(statement, params or {})
            series = execute_statement(
                statement,
                storage=storage,
                database=database,
                rp=rp,
                now_ns=now_ns,
                guards=guards,
            )
        except (QueryError, StorageError) as error:
            result["error"] = str(error)
        except Exception as error:
            # A bug, not a user mistake: log it whole, and still answer the other statements.
            logger.exception("statement %d failed unexpectedly: %s", statement_id, query_text)
            result["error"] = f"internal error: {type(error).__name__}: {error}"
        else:
            if series:
                result["series"] = series
        results.append(result)
    return results


@lru_cache(maxsize=4096)
def _parsed(query_text: str) -> tuple[tuple[ast.Statement, bool], ...]:
    """Each statement of ``query_text`` and whether it has ``$name`` parameters.

    Cached because dashboards and alert rules send the same texts again and again
    (parsing is ~10 % of a small query); syntax trees are immutable, so sharing one
    between threads and queries is safe. A text that does not parse is not cached:
    its ParseError propagates each time.
    """
    return tuple((s, has_parameters(s)) for s in parse_query(query_text).statements)


def execute_statement(
    statement: ast.Statement,
    *,
    storage: Storage,
    database: str | None,
    rp: str | None,
    now_ns: int,
    guards: QueryGuards,
) -> list[Series]:
    if isinstance(statement, ast.SelectStatement):
        context = Context(storage, database, rp, now_ns, guards, Deadline(guards.timeout_seconds))
        return run_select(statement, context)
    return MetaRunner(storage, database, now_ns).run(statement)
