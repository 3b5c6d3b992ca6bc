"""Query sets: named queries in InfluxQL (Crisp, InfluxDB) and PromQL (VictoriaMetrics).

A set is JSON or YAML (``.yaml``/``.yml``; format: ``docs/bench/queries.md``), either
a list or ``{"queries": [...]}``; each query has a ``name``, an
optional ``description``, ``influxql`` text and/or a ``promql`` object
(``query`` plus ``time`` for an instant query, or ``start``/``end``/``step`` for a
range). Times are written relative to the data set's start — ``{start}``,
``{start+1h}``, ``{start+12h}`` — so one set fits any generated data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from crisp.bench.timespec import format_rfc3339, parse_duration_ns

_PLACEHOLDER = re.compile(r"\{start(?:\+([0-9a-z]+))?\}")


@dataclass(frozen=True)
class PromQuery:
    query: str
    time: str | None = None  # instant query at this time
    start: str | None = None  # range query when start, end and step are set
    end: str | None = None
    step: str | None = None


@dataclass(frozen=True)
class BenchQuery:
    name: str
    description: str = ""
    influxql: str | None = None
    promql: PromQuery | None = None

    def for_target(self, target: str) -> str | PromQuery | None:
        return self.promql if target == "victoriametrics" else self.influxql


def expand(text: str, start_ns: int) -> str:
    """Replace ``{start}`` and ``{start+DURATION}`` with RFC 3339 times."""

    def replace(match: re.Match[str]) -> str:
        offset = parse_duration_ns(match.group(1)) if match.group(1) else 0
        return format_rfc3339(start_ns + offset)

    return _PLACEHOLDER.sub(replace, text)


def bind(query: BenchQuery, start_ns: int) -> BenchQuery:
    """The query with every time placeholder filled in."""
    prom = query.promql
    if prom is not None:
        prom = PromQuery(
            expand(prom.query, start_ns),
            *(
                None if value is None else expand(value, start_ns)
                for value in (prom.time, prom.start, prom.end, prom.step)
            ),
        )
    influxql = None if query.influxql is None else expand(query.influxql, start_ns)
    return BenchQuery(query.name, query.description, influxql, prom)


def parse_query_set(text: str, syntax: str = "json") -> list[BenchQuery]:
    """``syntax`` is ``json`` or ``yaml``; raises ValueError naming the query and the problem."""
    if syntax == "yaml":
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(f"query set is not valid YAML: {error}") from error
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"query set is not valid JSON: {error}") from error
    entries = document.get("queries") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise ValueError('query set must be a non-empty list, or {"queries": [...]}')
    queries = [_parse_entry(entry, index) for index, entry in enumerate(entries)]
    names = [q.name for q in queries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"query names must be unique: {', '.join(duplicates)}")
    return queries


def _parse_entry(entry: Any, index: int) -> BenchQuery:
    where = f"query {index + 1}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: 'name' must be a non-empty string")
    where = f"query {name!r}"
    unknown = set(entry) - {"name", "description", "influxql", "promql"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    influxql = entry.get("influxql")
    if influxql is not None and not isinstance(influxql, str):
        raise ValueError(f"{where}: 'influxql' must be a string")
    promql = _parse_prom(entry.get("promql"), where)
    if influxql is None and promql is None:
        raise ValueError(f"{where}: needs 'influxql' or 'promql'")
    return BenchQuery(name, str(entry.get("description", "")), influxql, promql)


def _parse_prom(value: Any, where: str) -> PromQuery | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise ValueError(f"{where}: 'promql' needs 'query' and 'time' or 'start'/'end'/'step'")
    if not isinstance(value, dict) or not isinstance(value.get("query"), str):
        raise ValueError(f"{where}: 'promql' must be an object with a 'query' string")
    keys = ("time", "start", "end", "step")
    unknown = set(value) - {"query", *keys}
    if unknown:
        raise ValueError(f"{where}: unknown promql keys {', '.join(sorted(unknown))}")
    if any(not isinstance(value.get(k, ""), str) for k in keys):
        raise ValueError(f"{where}: promql times must be strings")
    prom = PromQuery(value["query"], *(value.get(k) for k in keys))
    ranged = (prom.start, prom.end, prom.step)
    if prom.time is None and None in ranged:
        raise ValueError(f"{where}: promql needs 'time', or all of 'start', 'end', 'step'")
    if prom.time is not None and any(v is not None for v in ranged):
        raise ValueError(f"{where}: promql takes 'time' or a range, not both")
    return prom


# TSBS's cpu-only queries most often quoted: single-groupby-1-1-12 (Q1), a per-host
# max over an hour (Q2) and an all-host percentile (Q3).
BUILTIN = """
{"queries": [
  {"name": "Q1", "description": "one host, 12 h, hourly mean of usage_user",
   "influxql": "SELECT mean(usage_user) FROM cpu WHERE hostname = 'host_0' AND time >= '{start}' AND time < '{start+12h}' GROUP BY time(1h)",
   "promql": {"query": "avg_over_time(cpu_usage_user{hostname=\\"host_0\\"}[1h])",
              "start": "{start+1h}", "end": "{start+12h}", "step": "1h"}},
  {"name": "Q2", "description": "max of usage_user per host over 1 h",
   "influxql": "SELECT max(usage_user) FROM cpu WHERE time >= '{start}' AND time < '{start+1h}' GROUP BY hostname",
   "promql": {"query": "max by (hostname) (max_over_time(cpu_usage_user[1h]))",
              "time": "{start+1h}"}},
  {"name": "Q3", "description": "95th percentile of usage_user over 1 h, all hosts",
   "influxql": "SELECT percentile(usage_user, 95) FROM cpu WHERE time >= '{start}' AND time < '{start+1h}'",
   "promql": {"query": "histogram_quantile(0.95, sum(histogram_over_time(cpu_usage_user[1h])) by (vmrange))",
              "time": "{start+1h}"}}
]}
"""  # noqa: E501


def builtin_query_set() -> list[BenchQuery]:
    return parse_query_set(BUILTIN)


def syntax_of(path: str) -> str:
    """A query-set file's syntax, by its extension: YAML for .yaml/.yml, else JSON."""
    return "yaml" if path.lower().endswith((".yaml", ".yml")) else "json"
