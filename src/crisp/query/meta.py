"""Meta statements (databases, retention policies, SHOW ..., DELETE, DROP) over Storage.

SHOW ... WHERE filters tag sets from the catalog with the same SQL translation as
SELECT, run on a small table of those tag sets, so both agree on tag semantics.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from crisp.query.columns import Columns
from crisp.query.errors import QueryError
from crisp.query.filters import condition_sql
from crisp.query.influxql import ast
from crisp.query.influxql.durations import DAY, HOUR, WEEK, format_go_duration
from crisp.query.results import Series
from crisp.query.sql import Params, quote_ident, regex_filter
from crisp.query.timecond import TimeBounds, mentions_time, split_condition
from crisp.storage.api import DatabaseNotFound, RetentionPolicy, Storage, TimeRange

_SIX_MONTHS = 182 * DAY


def default_shard_duration(duration_ns: int) -> int:
    """InfluxDB's shard group duration for a retention policy duration (0 = infinite)."""
    if duration_ns == 0 or duration_ns > _SIX_MONTHS:
        return WEEK
    if duration_ns < 2 * DAY:
        return HOUR
    return DAY


class MetaRunner:
    def __init__(self, storage: Storage, database: str | None, now_ns: int) -> None:
        self.storage = storage
        self.database = database
        self.now_ns = now_ns

    def run(self, statement: ast.Statement) -> list[Series]:
        handlers: dict[type[Any], Callable[[Any], list[Series]]] = {
            ast.ShowDatabasesStatement: self.show_databases,
            ast.CreateDatabaseStatement: self.create_database,
            ast.DropDatabaseStatement: self.drop_database,
            ast.ShowRetentionPoliciesStatement: self.show_retention_policies,
            ast.CreateRetentionPolicyStatement: self.create_retention_policy,
            ast.AlterRetentionPolicyStatement: self.alter_retention_policy,
            ast.DropRetentionPolicyStatement: self.drop_retention_policy,
            ast.DropMeasurementStatement: self.drop_measurement,
            ast.DeleteStatement: self.delete,
            ast.DropSeriesStatement: self.drop_series,
            ast.ShowMeasurementsStatement: self.show_measurements,
            ast.ShowTagKeysStatement: self.show_tag_keys,
            ast.ShowTagValuesStatement: self.show_tag_values,
            ast.ShowFieldKeysStatement: self.show_field_keys,
            ast.ShowSeriesStatement: self.show_series,
            ast.ShowCardinalityStatement: self.show_cardinality,
        }
        handler = handlers.get(type(statement))
        if handler is None:
            raise QueryError(f"unsupported statement: {type(statement).__name__}")
        return handler(statement)

    def db(self, name: str | None) -> str:
        database = name or self.database
        if not database:
            raise QueryError("database name required")
        return database

    # -------------------------------------------------------- databases and RPs

    def show_databases(self, _: ast.ShowDatabasesStatement) -> list[Series]:
        names = sorted(self.storage.databases())
        return [{"name": "databases", "columns": ["name"], "values": [[n] for n in names]}]

    def create_database(self, s: ast.CreateDatabaseStatement) -> list[Series]:
        self.storage.create_database(s.name)
        rp_options = (s.rp_duration_ns, s.rp_replication, s.rp_shard_duration_ns, s.rp_name)
        if rp_options == (None, None, None, None):
            return []
        duration = s.rp_duration_ns or 0
        shard = s.rp_shard_duration_ns or default_shard_duration(duration)
        name = s.rp_name or "autogen"
        existing = {rp.name for rp in self.storage.retention_policies(s.name)}
        if name in existing:
            self.storage.alter_retention_policy(
                s.name,
                name,
                duration_ns=duration,
                shard_group_duration_ns=shard,
                replication=s.rp_replication,
                default=True,
            )
        else:
            policy = RetentionPolicy(name, duration, shard, s.rp_replication or 1, default=True)
            self.storage.create_retention_policy(s.name, policy)
        return []

    def drop_database(self, s: ast.DropDatabaseStatement) -> list[Series]:
        # InfluxDB 1.x: dropping a missing database is not an error.
        with contextlib.suppress(DatabaseNotFound):
            self.storage.drop_database(s.name)
        return []

    def show_retention_policies(self, s: ast.ShowRetentionPoliciesStatement) -> list[Series]:
        policies = self.storage.retention_policies(self.db(s.database))
        values = [
            [
                rp.name,
                format_go_duration(rp.duration_ns),
                format_go_duration(rp.shard_group_duration_ns),
                rp.replication,
                rp.default,
            ]
            for rp in policies
        ]
        columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
        return [{"columns": columns, "values": values}]

    def create_retention_policy(self, s: ast.CreateRetentionPolicyStatement) -> list[Series]:
        shard = s.shard_duration_ns or default_shard_duration(s.duration_ns)
        policy = RetentionPolicy(s.name, s.duration_ns, shard, s.replication, s.default)
        self.storage.create_retention_policy(s.database, policy)
        return []

    def alter_retention_policy(self, s: ast.AlterRetentionPolicyStatement) -> list[Series]:
        self.storage.alter_retention_policy(
            s.database,
            s.name,
            duration_ns=s.duration_ns,
            shard_group_duration_ns=s.shard_duration_ns,
            replication=s.replication,
            default=True if s.default else None,
        )
        return []

    def drop_retention_policy(self, s: ast.DropRetentionPolicyStatement) -> list[Series]:
        self.storage.drop_retention_policy(s.database, s.name)
        return []

    # -------------------------------------------------------- deletes

    def drop_measurement(self, s: ast.DropMeasurementStatement) -> list[Series]:
        self.storage.drop_measurement(self.db(None), s.name)
        return []

    def delete(self, s: ast.DeleteStatement) -> list[Series]:
        database = self.db(s.source.database if s.source else None)
        bounds, rest = split_condition(s.condition, self.now_ns)
        tags = _tag_equalities(rest, "DELETE")
        time_range = TimeRange(bounds.start_ns, bounds.end_ns)
        if s.source is None:
            self.storage.delete(database, None, time_range, tags)
            return []
        for measurement in self.resolve(database, (s.source,)):
            self.storage.delete(database, measurement, time_range, tags)
        return []

    def drop_series(self, s: ast.DropSeriesStatement) -> list[Series]:
        if s.condition is not None and mentions_time(s.condition):
            raise QueryError("DROP SERIES doesn't support time in WHERE clause")
        database = self.db(None)
        tags = _tag_equalities(s.condition, "DROP SERIES")
        if not s.sources:
            self.storage.delete(database, None, TimeRange(), tags)
        for measurement in self.resolve(database, s.sources):
            self.storage.delete(database, measurement, TimeRange(), tags)
        return []

    # -------------------------------------------------------- SHOW over the catalog

    def resolve(self, database: str, sources: tuple[ast.Measurement, ...]) -> list[str]:
        """Measurement names of ``sources`` (all measurements when there are none)."""
        existing = sorted(self.storage.measurements(database))
        if not sources:
            return existing
        names: set[str] = set()
        for source in sources:
            if source.regex is not None:
                names.update(regex_filter(existing, source.regex))
            elif source.name in existing:
                names.add(source.name)
        return sorted(names)

    def matching_series(
        self, database: str, measurement: str, condition: ast.Expr | None
    ) -> list[dict[str, str]]:
        bounds, condition = split_condition(condition, self.now_ns)
        if bounds.start_ns is None and bounds.end_ns is None:
            series = list(self.storage.series(database, measurement))
        else:
            series = self.series_in_range(database, measurement, bounds)
        if condition is None:
            return series
        return filter_tag_sets(series, condition)

    def series_in_range(
        self, database: str, measurement: str, bounds: TimeBounds
    ) -> list[dict[str, str]]:
        """Tag sets with a point in ``bounds``: the catalog keeps no time extent per
        series, so the data answers. (InfluxDB answers per shard: every series of a shard
        overlapping the range counts, so near a range's ends it may list a few more.)"""
        time_range = TimeRange(bounds.start_ns, bounds.end_ns)
        with self.storage.snapshot(
            database, None, measurement, time_range, shared=True
        ) as snapshot:
            tags = Columns.from_schema(snapshot.schema).tags
            time = quote_ident("time")
            where, params = [], Params()
            if bounds.start_ns is not None:
                where.append(f"{time} >= {params.bind(bounds.start_ns)}")
            if bounds.end_ns is not None:
                where.append(f"{time} < {params.bind(bounds.end_ns)}")
            columns = ", ".join(quote_ident(t) for t in tags) or "1"  # no tags: one series
            sql = f"SELECT DISTINCT {columns} FROM points WHERE {' AND '.join(where)}"
            rows = snapshot.connection.execute(sql, params.values).fetchall()
        return [{k: v for k, v in zip(tags, row, strict=False) if v} for row in rows]

    def show_measurements(self, s: ast.ShowMeasurementsStatement) -> list[Series]:
        if s.condition is not None and mentions_time(s.condition):
            raise QueryError("SHOW MEASUREMENTS doesn't support time in WHERE clause")
        database = self.db(s.database)
        names = self.resolve(database, (s.source,) if s.source else ())

        if s.condition is not None:
            names = [n for n in names if self.matching_series(database, n, s.condition)]
        names = _page(names, s.limit, s.offset)
        if not names:
            return []
        return [{"name": "measurements", "columns": ["name"], "values": [[n] for n in names]}]

    def tag_keys(self, database: str, measurement: str, condition: ast.Expr | None) -> list[str]:
        if condition is None:
            return sorted(self.storage.tag_keys(database, measurement))
        matched = self.matching_series(database, measurement, condition)
        return sorted({k for tags in matched for k, v in tags.items() if v})

    def show_tag_keys(self, s: ast.ShowTagKeysStatement) -> list[Series]:
        database = self.db(s.database)
        out: list[Series] = []
        for measurement in self.resolve(database, s.sources):
            keys = _page(self.tag_keys(database, measurement, s.condition), s.limit, s.offset)
            if keys:
                out.append(
                    {"name": measurement, "columns": ["tagKey"], "values": [[k] for k in keys]}
                )
        return out

    def tag_values(
        self,
        database: str,
        measurement: str,
        s: ast.ShowTagValuesStatement | ast.ShowCardinalityStatement,
    ) -> list[tuple[str, str]]:
        """The (key, value) pairs of ``WITH KEY ...`` in the series matching ``WHERE``."""
        all_keys = sorted(self.storage.tag_keys(database, measurement))
        keys = _select_keys(all_keys, s)
        pairs: set[tuple[str, str]] = set()
        if not keys:
            return []
        if s.condition is None:
            for key in keys:
                found = self.storage.tag_values(database, measurement, key)
                pairs.update((key, v) for v in found)
        else:
            for tags in self.matching_series(database, measurement, s.condition):
                pairs.update((k, tags[k]) for k in keys if tags.get(k))
        return sorted(pairs)

    def show_tag_values(self, s: ast.ShowTagValuesStatement) -> list[Series]:
        database = self.db(s.database)
        out: list[Series] = []
        for measurement in self.resolve(database, s.sources):
            pairs = self.tag_values(database, measurement, s)
            values = _page([list(p) for p in pairs], s.limit, s.offset)
            if values:
                out.append({"name": measurement, "columns": ["key", "value"], "values": values})
        return out

    def show_field_keys(self, s: ast.ShowFieldKeysStatement) -> list[Series]:
        database = self.db(s.database)
        out: list[Series] = []
        for measurement in self.resolve(database, s.sources):
            types = self.storage.field_types(database, measurement)
            values = _page([[k, types[k].value] for k in sorted(types)], s.limit, s.offset)
            if values:
                out.append(
                    {"name": measurement, "columns": ["fieldKey", "fieldType"], "values": values}
                )
        return out

    def show_series(self, s: ast.ShowSeriesStatement) -> list[Series]:
        database = self.db(s.database)
        keys: list[str] = []
        for measurement in self.resolve(database, s.sources):
            for tags in self.matching_series(database, measurement, s.condition):
                keys.append(series_key(measurement, tags))
        keys = _page(sorted(keys), s.limit, s.offset)
        if not keys:
            return []
        return [{"columns": ["key"], "values": [[k] for k in keys]}]

    def show_cardinality(self, s: ast.ShowCardinalityStatement) -> list[Series]:
        """Counts of what the matching SHOW statement lists, per measurement except for
        MEASUREMENT. Without FROM, WHERE, LIMIT or OFFSET, SERIES and MEASUREMENT answer
        InfluxDB's "cardinality estimation" (here exact)."""
        database = self.db(s.database)
        plain = not (s.exact or s.sources or s.condition or s.limit or s.offset)
        timed = s.condition is not None and mentions_time(s.condition)
        if timed and s.what in ("SERIES", "MEASUREMENT", "TAG KEY"):
            what = f"SHOW {s.what} EXACT CARDINALITY"
            raise QueryError(f"{what} doesn't support time in WHERE clause")
        try:
            measurements = self.resolve(database, s.sources)
        except DatabaseNotFound:
            if not plain or s.what not in ("SERIES", "MEASUREMENT"):
                raise
            measurements = []  # the estimations of a missing database are 0
        if s.condition is not None and s.what in ("MEASUREMENT", "FIELD KEY"):
            measurements = [
                m for m in measurements if self.matching_series(database, m, s.condition)
            ]
        if s.what == "MEASUREMENT":
            if plain:
                return [_count(None, len(measurements), "cardinality estimation")]
            counts = _page([len(measurements)], s.limit, s.offset)
            return [_count(None, counts[0])] if counts and counts[0] else []
        if s.what == "SERIES" and plain:
            total = sum(1 for m in measurements for _ in self.storage.series(database, m))
            return [_count(None, total, "cardinality estimation")]
        out: list[Series] = []
        for measurement in measurements:
            if s.what == "SERIES":
                count = len(self.matching_series(database, measurement, s.condition))
            elif s.what == "TAG KEY":
                count = len(self.tag_keys(database, measurement, s.condition))
            elif s.what == "TAG VALUES":
                count = len(self.tag_values(database, measurement, s))
            else:
                count = len(self.storage.field_types(database, measurement))
            # The count is one row, which LIMIT/OFFSET page like any other.
            if count and _page([count], s.limit, s.offset):
                out.append(_count(measurement, count))
        return out


def _count(name: str | None, count: int, column: str = "count") -> Series:
    series: Series = {"columns": [column], "values": [[count]]}
    if name is not None:
        series["name"] = name
    return series


def _select_keys(
    all_keys: list[str], s: ast.ShowTagValuesStatement | ast.ShowCardinalityStatement
) -> list[str]:
    if s.key_regex is not None:
        matched = regex_filter(all_keys, s.key_regex)
        return matched if s.key_op == "=~" else [k for k in all_keys if k not in matched]
    if s.key_op == "!=":
        return [k for k in all_keys if k not in s.keys]
    return [k for k in all_keys if k in s.keys]


def _page(items: list[Any], limit: int, offset: int) -> list[Any]:
    return items[offset : offset + limit if limit else None]


def _tag_equalities(condition: ast.Expr | None, what: str) -> dict[str, str] | None:
    """``tag = 'v' AND ...`` as a dict: all Storage.delete can express."""
    if condition is None:
        return None
    tags: dict[str, str] = {}

    def walk(expr: ast.Expr) -> None:
        if isinstance(expr, ast.BinaryExpr) and expr.op == "AND":
            walk(expr.lhs)
            walk(expr.rhs)
            return
        if (
            isinstance(expr, ast.BinaryExpr)
            and expr.op == "="
            and isinstance(expr.lhs, ast.VarRef)
            and isinstance(expr.rhs, ast.StringLiteral)
        ):
            tags[expr.lhs.name] = expr.rhs.value
            return
        raise QueryError(f"{what} supports only tag = 'value' conditions joined by AND")

    walk(condition)
    return tags


def filter_tag_sets(series: list[dict[str, str]], condition: ast.Expr) -> list[dict[str, str]]:
    """Tag sets matching ``condition``, evaluated by DuckDB like SELECT's WHERE."""
    if not series:
        return []
    keys = sorted({k for tags in series for k in tags})
    table = pa.table(
        {
            "_row": pa.array(range(len(series)), pa.int64()),
            **{k: pa.array([tags.get(k) for tags in series], pa.string()) for k in keys},
        }
    )
    params = Params()
    where = condition_sql(condition, Columns(tuple(keys), {}), params)
    with duckdb.connect(":memory:") as con:
        con.register("points", table)
        try:
            rows = con.execute(f"SELECT _row FROM points WHERE {where}", params.values).fetchall()
        except duckdb.Error as error:
            raise QueryError(str(error).splitlines()[0]) from error
    return [series[int(row[0])] for row in rows]


def _escape_key(text: str, specials: str) -> str:
    for ch in specials:
        text = text.replace(ch, "\\" + ch)
    return text


def series_key(measurement: str, tags: dict[str, str]) -> str:
    """Line-protocol series key, as SHOW SERIES prints it."""
    parts = [_escape_key(measurement, ", ")]
    for key in sorted(tags):
        if tags[key]:
            parts.append(f"{_escape_key(key, ',= ')}={_escape_key(tags[key], ',= ')}")
    return ",".join(parts)
