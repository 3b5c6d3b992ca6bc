"""The only doors from user text into SQL: quoted identifiers and bound parameters.

Every identifier that reaches a DuckDB statement goes through ``quote_ident``; every
value a user wrote goes through ``Params.bind``. Nothing else built from user text may
be concatenated into SQL, which is what keeps a tag value like ``'; DROP ...`` inert.
"""

from __future__ import annotations

from typing import Any

from crisp.query.errors import QueryError


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier: always double-quoted, embedded quotes doubled.

    Audited: with the quotes doubled, the identifier cannot end early, so any text is
    safe; NUL is refused because some layers truncate at it.
    """
    if "\x00" in name:
        raise QueryError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


class Params:
    """Named parameters (``$p0``, ``$p1`` ...) so SQL fragments can be built in any order."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        # Exact percentile() reads per-group inputs of a first pass (count, DuckDB's
        # quantile_disc) that the planner joins back: (quoted field, percent) in order
        # of first use; ``crisp.query.functions.percentile_first_pass`` builds it.
        self.percentile_inputs: list[tuple[str, float]] = []

    def percentile_input(self, column: str, percent: float) -> int:
        """Index of the first-pass inputs of ``percentile(column, percent)``."""
        key = (column, percent)
        if key not in self.percentile_inputs:
            self.percentile_inputs.append(key)
        return self.percentile_inputs.index(key)

    def bind(self, value: Any) -> str:
        key = f"p{len(self.values)}"
        self.values[key] = value
        return f"${key}"


def regex_filter(values: list[str], pattern: str) -> list[str]:
    """``values`` that the RE2 ``pattern`` matches, in order (DuckDB's RE2, like Go's).

    Matching in DuckDB rather than Python's ``re`` keeps one regex dialect everywhere and
    RE2's linear time, so a hostile pattern cannot stall the server.
    """
    import duckdb

    if not values:
        return []
    with duckdb.connect(":memory:") as con:
        try:
            rows = con.execute(
                "SELECT v FROM (SELECT unnest($values) AS v, generate_subscripts($values, 1) AS i)"
                " WHERE regexp_matches(v, $pattern) ORDER BY i",
                {"values": values, "pattern": pattern},
            ).fetchall()
        except duckdb.Error as error:
            raise QueryError(f"invalid regex {pattern!r}: {error}") from error
    return [str(row[0]) for row in rows]
