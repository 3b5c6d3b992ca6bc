"""Edge pre-aggregation: a series' points within a time window become one point.

Windows are aligned on the points' own timestamps (``[k·w, (k+1)·w)``) and keyed by
database, retention policy, measurement, tag set and window start; the aggregate is
stamped with the window start. A window is handed out for delivery once the
collector's clock passes its end. Points arriving later, up to the rule's
``max_lateness`` past the window's end, update it and it is handed out again: the
storage overwrites the earlier aggregate (same series and time) with the complete
one. Points further than ``max_lateness`` from the clock (late, or in the future) pass
through unaggregated, so nothing is ever dropped; so do points whose field types
clash with the window's.

The state is plain data (``snapshot``/``restore``) so the delivery loop can checkpoint
it with the spool position it reflects (see ``aggregation_checkpoint``). Time is
passed in (``now_ns``), so tests drive the windows with a fake clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.collector.aggregation_rules import AggregationRules, Function, Rule
from crisp.core.batch import TIME_COLUMN, FieldType, MeasurementBatch, PointBatch
from crisp.protocols.columns import FieldValue, MeasurementColumns

WINDOW_COLUMN = "\x00window"
NUMERIC = frozenset({FieldType.FLOAT, FieldType.INTEGER, FieldType.UNSIGNED})
INT_RANGES = {
    FieldType.INTEGER: (-(2**63), 2**63 - 1),
    FieldType.UNSIGNED: (0, 2**64 - 1),
}
RULE_CACHE_SIZE = 10_000
EXACT_INTEGER_SUM = pa.decimal128(38, 0)

# (database, rp, measurement, window start, ((tag key, tag value), ...))
WindowKey = tuple[str, str | None, str, int, tuple[tuple[str, str], ...]]


@dataclass
class FieldState:
    """One field's running aggregate within a window."""

    type: FieldType
    function: Function
    value: FieldValue | None = None  # sum, min, max, last; the running sum for mean
    count: int = 0
    last_time: int = -(2**63)

    @property
    def output(self) -> tuple[FieldType, FieldValue] | None:
        if self.count == 0 or (self.value is None and self.function != Function.COUNT):
            return None
        if self.function == Function.COUNT:
            return FieldType.INTEGER, self.count
        if self.function == Function.MEAN:
            assert self.value is not None
            return FieldType.FLOAT, float(self.value) / self.count
        assert self.value is not None
        low, high = INT_RANGES.get(self.type, (-math.inf, math.inf))
        if isinstance(self.value, int) and not low <= self.value <= high:
            return FieldType.FLOAT, float(self.value)  # a sum past the integer type
        return self.type, self.value

    def merge(self, value: Any, count: int, last_time: int) -> None:
        if count == 0:
            return
        fn = self.function
        if self.count == 0 and fn != Function.COUNT:
            self.value = value
        elif fn in (Function.SUM, Function.MEAN):
            self.value = self.value + value
        elif fn == Function.MIN:
            self.value = min(self.value, value)
        elif fn == Function.MAX:
            self.value = max(self.value, value)
        elif fn == Function.LAST and last_time >= self.last_time:
            self.value = value
        self.count += count
        self.last_time = max(self.last_time, last_time)


@dataclass
class Window:
    fields: dict[str, FieldState] = field(default_factory=dict)
    dirty: bool = True  # changed since it was last handed out


@dataclass(frozen=True)
class Output:
    """What the aggregator hands to delivery: points for one (database, rp)."""

    database: str
    rp: str | None
    batch: PointBatch


@dataclass
class Aggregator:
    rules: AggregationRules
    windows: dict[WindowKey, Window] = field(default_factory=dict)
    # Points that pass through unaggregated (late, early, clashing types) wait here
    # for the next hand-out, so they are checkpointed with the windows.
    _raw: list[Output] = field(default_factory=list)
    raw_points: int = 0  # how many points passed through unaggregated, for a self-metric
    # The earliest end of a changed window: asked on every turn of the delivery loop.
    _due_ns: int | None = None
    _rule_cache: dict[tuple[str, str], Rule | None] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.rules.rules) or bool(self.windows) or bool(self._raw)

    def add(self, database: str, rp: str | None, batch: PointBatch, now_ns: int) -> PointBatch:
        """Take the points the rules cover; return the rest for ordinary delivery."""
        passthrough = PointBatch()
        for measurement in batch:
            rule = self._rule(database, measurement.measurement)
            if rule is None:
                passthrough.add(measurement)
                continue
            late = self._add_measurement(database, rp, measurement, rule, now_ns)
            if late is not None and late.num_points:
                self.raw_points += late.num_points
                self._raw.append(Output(database, rp, PointBatch({late.measurement: late})))
        return passthrough

    def next_due_ns(self) -> int | None:
        """When the earliest changed window ends (None: nothing waits)."""
        return 0 if self._raw else self._due_ns

    def take_output(self, now_ns: int) -> list[Output]:
        """Changed windows that ended, and the pass-through points; forget old windows."""
        outputs, self._raw = self._raw, []
        columns: dict[tuple[str, str | None, str], list[MeasurementColumns]] = {}
        expired: list[WindowKey] = []
        self._due_ns = None
        for key, window in self.windows.items():
            database, rp, measurement, start, tags = key
            rule = self._rule(database, measurement)
            end = start + (rule.window_ns if rule else 0)
            if window.dirty and now_ns < end:
                self._due_ns = end if self._due_ns is None else min(self._due_ns, end)
            elif window.dirty:
                fields = {name: out for name, s in window.fields.items() if (out := s.output)}
                if fields:
                    targets = columns.setdefault((database, rp, measurement), [])
                    _append(targets, measurement, dict(tags), fields, start)
                window.dirty = False
            if rule is None or now_ns > end + rule.max_lateness_ns:
                expired.append(key)
        for key in expired:
            del self.windows[key]
        for (database, rp, _), targets in columns.items():
            outputs += [Output(database, rp, PointBatch({t.name: t.to_batch()})) for t in targets]
        return outputs

    # ------------------------------------------------------------------ internals

    def _rule(self, database: str, measurement: str) -> Rule | None:
        key = (database, measurement)
        if key not in self._rule_cache:
            if len(self._rule_cache) >= RULE_CACHE_SIZE:  # many measurement names
                self._rule_cache.clear()
            self._rule_cache[key] = self.rules.rule_for(database, measurement)
        return self._rule_cache[key]

    def _add_measurement(
        self, database: str, rp: str | None, m: MeasurementBatch, rule: Rule, now_ns: int
    ) -> MeasurementBatch | None:
        """Fold the points into their windows; return those that pass through."""
        table = m.table.sort_by(TIME_COLUMN)  # "last" follows time, not arrival
        times = table.column(TIME_COLUMN).to_numpy()
        starts = times - np.mod(times, rule.window_ns)
        window_ok = (starts + rule.window_ns + rule.max_lateness_ns >= now_ns) & (
            starts <= now_ns + rule.max_lateness_ns
        )
        raw = None if window_ok.all() else table.filter(pa.array(~window_ok))
        if not window_ok.any():
            return MeasurementBatch(m.measurement, table)
        kept = table.filter(pa.array(window_ok))
        kept = kept.append_column(WINDOW_COLUMN, pa.array(starts[window_ok], pa.int64()))
        groups = _group(kept, m.tag_keys, m.field_types, rule)
        if not self._merge(database, rp, m.measurement, groups, m.field_types, rule):
            return MeasurementBatch(m.measurement, table)  # a type clash: keep them raw
        return MeasurementBatch(m.measurement, raw) if raw is not None else None

    def _merge(
        self,
        database: str,
        rp: str | None,
        measurement: str,
        groups: list[dict[str, Any]],
        types: dict[str, FieldType],
        rule: Rule,
    ) -> bool:
        keys: list[WindowKey] = []
        for group in groups:
            tags = tuple(sorted((k, v) for k, v in group["tags"].items() if v is not None))
            key = (database, rp, measurement, group["start"], tags)
            window = self.windows.get(key)
            if window is not None and any(
                name in window.fields and window.fields[name].type != types[name]
                for name in group["fields"]
            ):
                return False
            keys.append(key)
        for key, group in zip(keys, groups, strict=True):
            window = self.windows.setdefault(key, Window())
            window.dirty = True
            end = key[3] + rule.window_ns
            self._due_ns = end if self._due_ns is None else min(self._due_ns, end)
            for name, (value, count, last_time) in group["fields"].items():
                state = window.fields.get(name)
                if state is None:
                    state = window.fields[name] = FieldState(
                        types[name], _effective(rule.function(name), types[name])
                    )
                state.merge(value, count, last_time)
        return True

    # ------------------------------------------------------------------ checkpoint

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data (windows and waiting pass-through points)."""
        return {
            "windows": [
                {
                    "key": [key[0], key[1], key[2], key[3], [list(t) for t in key[4]]],
                    "dirty": window.dirty,
                    "fields": {
                        name: [s.type.value, s.function.value, s.value, s.count, s.last_time]
                        for name, s in window.fields.items()
                    },
                }
                for key, window in self.windows.items()
            ]
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Windows as ``snapshot`` gave them; waiting pass-through points are dropped
        (they were handed out with the snapshot)."""
        self.windows = {}
        self._due_ns = None
        for item in state.get("windows", []):
            database, rp, measurement, start, tags = item["key"]
            key: WindowKey = (database, rp, measurement, int(start), tuple(map(tuple, tags)))
            window = Window(dirty=bool(item["dirty"]))
            for name, (type_, function, value, count, last_time) in item["fields"].items():
                window.fields[name] = FieldState(
                    FieldType(type_), Function(function), value, int(count), int(last_time)
                )
            self.windows[key] = window
            rule = self._rule(database, measurement)
            if window.dirty:
                end = int(start) + (rule.window_ns if rule else 0)
                self._due_ns = end if self._due_ns is None else min(self._due_ns, end)
        self._raw = []


def _effective(function: Function, field_type: FieldType) -> Function:
    if function in (Function.LAST, Function.COUNT) or field_type in NUMERIC:
        return function
    return Function.LAST


_PARTIAL = {
    Function.SUM: "sum",
    Function.MEAN: "sum",
    Function.MIN: "min",
    Function.MAX: "max",
    Function.LAST: "last",
}


def _group(
    table: pa.Table, tag_keys: list[str], types: dict[str, FieldType], rule: Rule
) -> list[dict[str, Any]]:
    """Per (tag set, window): per field (partial value, count of values, latest time)."""
    # Positional column names: a tag called "x_count" cannot meet field x's count.
    columns: dict[str, pa.ChunkedArray | pa.Array] = {
        f"k{i}": table.column(key) for i, key in enumerate(tag_keys)
    }
    columns["w"] = table.column(WINDOW_COLUMN)
    aggregations: list[tuple[str, str]] = []
    functions: dict[str, Function] = {}
    for i, (name, field_type) in enumerate(types.items()):
        function = functions[name] = _effective(rule.function(name), field_type)
        values = table.column(name)
        if function == Function.MEAN:
            values = values.cast(pa.float64())
        elif function == Function.SUM and field_type != FieldType.FLOAT:
            values = values.cast(EXACT_INTEGER_SUM)  # Arrow's int64 sum wraps around
        columns[f"f{i}"] = values
        # The time of each value, null where the point lacks the field.
        columns[f"t{i}"] = pc.if_else(
            pc.is_valid(values), table.column(TIME_COLUMN), pa.scalar(None, pa.int64())
        )
        aggregations += [(f"f{i}", "count"), (f"t{i}", "max")]
        if function in _PARTIAL:
            aggregations.append((f"f{i}", _PARTIAL[function]))
    keys = [f"k{i}" for i in range(len(tag_keys))] + ["w"]
    grouped = pa.table(columns).group_by(keys, use_threads=False).aggregate(aggregations)
    groups: list[dict[str, Any]] = []
    for row in grouped.to_pylist():
        fields: dict[str, tuple[Any, int, int]] = {}
        for i, name in enumerate(types):
            count = int(row[f"f{i}_count"])
            if count == 0:
                continue
            partial = _PARTIAL.get(functions[name])
            value = row[f"f{i}_{partial}"] if partial else None
            if isinstance(value, Decimal):
                value = int(value)
            fields[name] = (value, count, int(row[f"t{i}_max"]))
        if fields:
            tags = {key: row[f"k{i}"] for i, key in enumerate(tag_keys)}
            groups.append({"tags": tags, "start": int(row["w"]), "fields": fields})
    return groups


def _append(
    targets: list[MeasurementColumns],
    measurement: str,
    tags: dict[str, str],
    fields: dict[str, tuple[FieldType, FieldValue]],
    time_ns: int,
) -> None:
    # Windows of one measurement may give a field different types (an integer sum in
    # one, a float in another): such a point starts a second batch rather than be lost.
    if not targets or targets[-1].conflict(tags, fields) is not None:
        targets.append(MeasurementColumns(measurement))
    targets[-1].append(tags, fields, time_ns)
