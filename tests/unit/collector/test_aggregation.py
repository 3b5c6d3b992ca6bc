"""Edge pre-aggregation windows, driven by a fake clock (nanoseconds)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from crisp.collector.aggregation import Aggregator, Output
from crisp.collector.aggregation_rules import AggregationRules
from crisp.core.batch import FieldType
from crisp.protocols.columns import PointColumns
from tests.unit.collector.helpers import lp_batch

S = 1_000_000_000
T0 = 1_767_225_600 * S  # a multiple of every window used here


def rules(**rule: Any) -> AggregationRules:
    return AggregationRules.from_document({"rules": [{"window": "5s", **rule}]})


def points(outputs: list[Output]) -> list[tuple[str, str, dict[str, Any]]]:
    """(database, measurement, row) of every output point, sorted for comparison."""
    rows = [
        (o.database, m.measurement, {k: v for k, v in row.items() if v is not None})
        for o in outputs
        for m in o.batch
        for row in m.table.to_pylist()
    ]
    return sorted(rows, key=lambda r: (r[1], r[2]["time"], sorted(r[2].items())))


def lines(*text: str) -> str:
    return "\n".join(text)


def test_counters_are_summed_per_series_and_window_once_the_window_ends() -> None:
    aggregator = Aggregator(rules(measurement="requests", fields={"n": "sum"}))
    body = lines(
        f"requests,svc=a n=1i {T0}",
        f"requests,svc=a n=2i {T0 + 4 * S}",
        f"requests,svc=b n=5i {T0 + 1 * S}",
        f"requests,svc=a n=10i {T0 + 5 * S}",  # the next window
        f"other,svc=a v=1 {T0}",
    )
    rest = aggregator.add("db", None, lp_batch(body), now_ns=T0 + 3 * S)
    # Measurements without a rule go on untouched.
    assert [m.measurement for m in rest] == ["other"]
    assert aggregator.take_output(T0 + 4 * S) == []  # the first window has not ended
    first = aggregator.take_output(T0 + 5 * S)
    assert points(first) == [
        ("db", "requests", {"time": T0, "svc": "a", "n": 3}),
        ("db", "requests", {"time": T0, "svc": "b", "n": 5}),
    ]
    assert first[0].batch.measurements["requests"].field_types["n"] == "integer"
    assert points(aggregator.take_output(T0 + 10 * S)) == [
        ("db", "requests", {"time": T0 + 5 * S, "svc": "a", "n": 10}),
    ]
    assert aggregator.take_output(T0 + 11 * S) == []  # nothing changed since


def test_each_function_and_last_by_timestamp_not_arrival() -> None:
    aggregator = Aggregator(
        rules(
            measurement="m",
            fields={"total": "sum", "avg": "mean", "lo": "min", "hi": "max", "n": "count"},
        )
    )
    body = lines(
        f'm total=1.5,avg=2i,lo=4i,hi=4i,n=1,state="b",up=true {T0 + 3 * S}',
        f'm total=2.5,avg=4i,lo=-1i,hi=9i,n=1,state="a",up=false {T0 + 1 * S}',
        f"m total=1.0,avg=6i,lo=7i,hi=1i {T0 + 2 * S}",
    )
    assert aggregator.add("db", "rp", lp_batch(body), now_ns=T0).num_points == 0
    [output] = aggregator.take_output(T0 + 5 * S)
    assert (output.database, output.rp) == ("db", "rp")
    [(_, _, row)] = points([output])
    # Strings and booleans keep their last value (by time) whatever the default says.
    assert row == {
        "time": T0, "total": 5.0, "avg": 4.0, "lo": -1, "hi": 9, "n": 2,
        "state": "b", "up": True,
    }  # fmt: skip
    types = output.batch.measurements["m"].field_types
    assert (types["avg"], types["n"], types["lo"]) == ("float", "integer", "integer")


def test_a_late_point_updates_its_window_which_is_handed_out_again() -> None:
    aggregator = Aggregator(rules(measurement="m", fields={"*": "sum"}, max_lateness="20s"))
    aggregator.add("db", None, lp_batch(f"m v=1i {T0}"), now_ns=T0)
    assert points(aggregator.take_output(T0 + 6 * S))[0][2]["v"] == 1
    aggregator.add("db", None, lp_batch(f"m v=2i {T0 + S}"), now_ns=T0 + 20 * S)
    # The complete aggregate again, same time: storage overwrites the first one.
    assert points(aggregator.take_output(T0 + 21 * S)) == [("db", "m", {"time": T0, "v": 3})]


def test_points_past_max_lateness_either_way_pass_through_unaggregated() -> None:
    aggregator = Aggregator(rules(measurement="m", fields={"v": "sum"}, max_lateness="10s"))
    now = T0 + 100 * S
    body = lines(
        f"m v=1i {T0}",  # its window ended 95 s ago
        f"m v=2i {now + 60 * S}",  # a minute in the future
        f"m v=4i {now}",
    )
    assert aggregator.add("db", None, lp_batch(body), now_ns=now).num_points == 0
    assert aggregator.raw_points == 2
    assert points(aggregator.take_output(now)) == [
        ("db", "m", {"time": T0, "v": 1}),
        ("db", "m", {"time": now + 60 * S, "v": 2}),
    ]
    assert points(aggregator.take_output(now + 5 * S)) == [("db", "m", {"time": now, "v": 4})]


def test_windows_are_forgotten_after_max_lateness() -> None:
    aggregator = Aggregator(rules(measurement="m", max_lateness="5s"))
    aggregator.add("db", None, lp_batch(f"m v=1 {T0}"), now_ns=T0)
    aggregator.take_output(T0 + 5 * S)
    assert len(aggregator.windows) == 1  # kept for late points
    aggregator.take_output(T0 + 11 * S)
    assert aggregator.windows == {}
    assert aggregator.next_due_ns() is None


def test_rules_match_database_and_measurement_globs_first_rule_wins() -> None:
    document = {
        "rules": [
            {"database": "edge_*", "measurement": "cpu*", "window": "10s"},
            {"measurement": "*", "window": "1m"},
        ]
    }
    parsed = AggregationRules.from_document(document)
    first = parsed.rule_for("edge_1", "cpu_load")
    assert first is not None
    assert first.window_ns == 10 * S
    assert first.max_lateness_ns == 100 * S  # ten windows by default
    other = parsed.rule_for("core", "cpu_load")
    assert other is not None
    assert other.window_ns == 60 * S


def test_a_snapshot_restores_windows_that_go_on_aggregating() -> None:
    aggregator = Aggregator(rules(measurement="m", fields={"v": "mean", "n": "sum"}))
    aggregator.add("db", None, lp_batch(f"m,h=x v=1,n=1i {T0}"), now_ns=T0)
    state = json.loads(json.dumps(aggregator.snapshot()))  # as the checkpoint file holds it
    restored = Aggregator(aggregator.rules)
    restored.restore(state)
    restored.add("db", None, lp_batch(f"m,h=x v=3,n=2i {T0 + S}"), now_ns=T0)
    [(_, _, row)] = points(restored.take_output(T0 + 5 * S))
    assert (row["v"], row["n"], row["h"]) == (2.0, 3, "x")


def test_a_field_type_clash_with_the_window_passes_those_points_through() -> None:
    aggregator = Aggregator(rules(measurement="m", fields={"v": "sum"}))
    aggregator.add("db", None, lp_batch(f"m v=1i {T0}"), now_ns=T0)
    aggregator.add("db", None, lp_batch(f"m v=2.5 {T0 + S}"), now_ns=T0)
    assert aggregator.raw_points == 1
    assert points(aggregator.take_output(T0 + 5 * S)) == [
        ("db", "m", {"time": T0, "v": 1}),
        ("db", "m", {"time": T0 + S, "v": 2.5}),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"rules": [{"measurement": "m"}]}, "rule 1: 'window' is required"),
        ({"rules": [{"measurement": "m", "window": "0s"}]}, "longer than 0"),
        ({"rules": [{"measurement": "m", "window": "soon"}]}, "not a duration"),
        ({"rules": [{"window": "5s"}]}, "'measurement' (a name or glob) is required"),
        ({"rules": [{"measurement": "m", "window": "5s", "every": 1}]}, "unknown keys ['every']"),
        (
            {"rules": [{"measurement": "m", "window": "5s", "fields": {"v": "median"}}]},
            "field 'v': unknown function 'median'",
        ),
        ([], "expected a mapping with a list under 'rules'"),
    ],
)
def test_bad_rules_are_refused_naming_the_problem(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AggregationRules.from_document(document)


def test_a_rules_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "aggregation.yaml"
    path.write_text("rules:\n  - measurement: m\n    window: 5x\n")
    with pytest.raises(ValueError, match=re.escape("aggregation.yaml: rule 1: window '5x'")):
        AggregationRules.load(path)
    path.write_text("rules: [\n")
    with pytest.raises(ValueError, match="not YAML or JSON"):
        AggregationRules.load(path)


def test_nan_survives_a_snapshot() -> None:
    aggregator = Aggregator(rules(measurement="m", fields={"v": "last"}))
    columns = PointColumns()  # a stale marker from remote_write is a NaN
    columns.add("m", {}, {"v": (FieldType.FLOAT, math.nan)}, T0)
    aggregator.add("db", None, columns.to_point_batch(), now_ns=T0)
    restored = Aggregator(aggregator.rules)
    restored.restore(json.loads(json.dumps(aggregator.snapshot())))
    [(_, _, row)] = points(restored.take_output(T0 + 5 * S))
    assert math.isnan(row["v"])


def test_an_integer_sum_past_int64_is_delivered_as_a_float() -> None:
    aggregator = Aggregator(rules(measurement="m", fields={"v": "sum"}))
    big = 2**63 - 1
    aggregator.add("db", None, lp_batch(f"m v={big}i {T0}\nm v={big}i {T0 + S}"), now_ns=T0)
    [output] = aggregator.take_output(T0 + 5 * S)
    assert output.batch.measurements["m"].field_types["v"] == "float"
    assert points([output])[0][2]["v"] == float(2 * big)
