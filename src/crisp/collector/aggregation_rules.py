"""Edge pre-aggregation rules (``CRISP_COLLECTOR_AGGREGATION_FILE``): the file format.

A YAML (or JSON, which YAML reads too) file::

    rules:
      - measurement: http_requests   # a name or a glob (`app_*`)
        database: "*"                # optional glob, default every database
        window: 5s                   # ms, s, m, h
        max_lateness: 1m             # optional, default 10 windows
        fields:                      # optional, function per field
          count: sum
          latency_ms: mean
          "*": last                  # every other field (default: last)

The first rule whose ``database`` and ``measurement`` match a point's applies; points
of other measurements pass through untouched. Functions: ``sum``, ``mean``, ``min``,
``max``, ``last`` (the value with the latest timestamp), ``count`` (how many values).
``sum``/``mean``/``min``/``max`` apply to numeric fields; a boolean or string field
keeps its ``last`` value whatever the rule says. ``mean`` gives a float, ``count`` an
integer; an integer ``sum`` is exact and becomes a float only past the type's range.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from crisp.core.settings import parse_duration_seconds

NS_PER_SECOND = 1_000_000_000
DEFAULT_LATENESS_WINDOWS = 10
OTHER_FIELDS = "*"
RULE_KEYS = frozenset({"measurement", "database", "window", "max_lateness", "fields"})


class Function(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    COUNT = "count"


@dataclass(frozen=True)
class Rule:
    measurement: str
    window_ns: int
    max_lateness_ns: int
    database: str = "*"
    fields: dict[str, Function] = field(default_factory=dict)

    def matches(self, database: str, measurement: str) -> bool:
        return fnmatch.fnmatchcase(database, self.database) and fnmatch.fnmatchcase(
            measurement, self.measurement
        )

    def function(self, field_name: str) -> Function:
        return self.fields.get(field_name) or self.fields.get(OTHER_FIELDS) or Function.LAST


@dataclass(frozen=True)
class AggregationRules:
    rules: tuple[Rule, ...] = ()

    def rule_for(self, database: str, measurement: str) -> Rule | None:
        for rule in self.rules:
            if rule.matches(database, measurement):
                return rule
        return None

    @classmethod
    def load(cls, path: Path) -> AggregationRules:
        """Read and check ``path``; ``ValueError`` naming the file and the problem."""
        try:
            document = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise ValueError(f"{path}: not YAML or JSON: {error}") from None
        try:
            return cls.from_document(document)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    @classmethod
    def from_document(cls, document: Any) -> AggregationRules:
        if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
            raise ValueError("expected a mapping with a list under 'rules'")
        return cls(tuple(_rule(i, item) for i, item in enumerate(document["rules"], start=1)))


def _rule(number: int, item: Any) -> Rule:
    where = f"rule {number}"
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(item).__name__}")
    unknown = sorted(set(item) - RULE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known: {sorted(RULE_KEYS)}")
    measurement = item.get("measurement")
    if not isinstance(measurement, str) or not measurement:
        raise ValueError(f"{where}: 'measurement' (a name or glob) is required")
    database = item.get("database", "*")
    if not isinstance(database, str) or not database:
        raise ValueError(f"{where}: 'database' must be a name or glob")
    window_ns = _duration_ns(where, "window", item.get("window"))
    if window_ns <= 0:
        raise ValueError(f"{where}: 'window' must be longer than 0")
    lateness = item.get("max_lateness")
    lateness_ns = (
        window_ns * DEFAULT_LATENESS_WINDOWS
        if lateness is None
        else _duration_ns(where, "max_lateness", lateness)
    )
    return Rule(measurement, window_ns, lateness_ns, database, _functions(where, item))


def _duration_ns(where: str, key: str, value: Any) -> int:
    if value is None:
        raise ValueError(f"{where}: {key!r} is required, e.g. 5s")
    try:
        return round(parse_duration_seconds(str(value)) * NS_PER_SECOND)
    except ValueError:
        raise ValueError(f"{where}: {key} {value!r} is not a duration like 500ms, 5s, 1m") from None


def _functions(where: str, item: dict[str, Any]) -> dict[str, Function]:
    fields = item.get("fields", {})
    if not isinstance(fields, dict):
        raise ValueError(f"{where}: 'fields' must map field names to functions")
    functions: dict[str, Function] = {}
    for name, function in fields.items():
        try:
            functions[str(name)] = Function(str(function).lower())
        except ValueError:
            known = ", ".join(f.value for f in Function)
            raise ValueError(
                f"{where}: field {name!r}: unknown function {function!r}; use one of {known}"
            ) from None
    return functions
