"""``crisp bench alerts``: the rule mix, the result's JSON and report, and a tiny real run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import yaml

from crisp.alerting.rules import load_alert_file
from crisp.bench.alert_rules import alert_document, firing_rules
from crisp.bench.alerts import AlertBenchConfig, AlertBenchResult, RoundResult, describe
from crisp.bench.stats import summarise


def test_the_rule_mix_imports_as_an_alert_file() -> None:
    document = alert_document(40, "30s", 0.05, "http://127.0.0.1:9/hook")
    alert_file = load_alert_file(yaml.safe_dump(document))

    assert len(alert_file.rules) == 40
    assert len({r.name for r in alert_file.rules}) == 40
    assert firing_rules(document) == 2
    # Structured (p95, mean) and raw InfluxQL rules, every one with per-service instances.
    queries = [r.query or "" for r in alert_file.rules]
    assert any("percentile(duration_ms, 95)" in q for q in queries)
    assert any("mean(duration_ms)" in q for q in queries)
    assert any("max(duration_ms)" in q for q in queries)
    assert all("service" in r.group_by for r in alert_file.rules)
    assert {r.interval_ns for r in alert_file.rules} == {30 * 10**9}


def _round(number: int, busy_s: float, lag_s: float) -> RoundResult:
    return RoundResult(
        round=number,
        wall_s=30.0,
        evaluations=100,
        errors=1,
        busy_s=busy_s,
        worker_cpu_s=busy_s * 0.9,
        process_cpu_s=busy_s,
        max_lag_s=lag_s,
        notifications=3,
        latency=summarise([0.004, 0.005, 0.020]),
    )


def _result(*rounds: RoundResult) -> AlertBenchResult:
    cold = RoundResult(0, 12.0, 100, 0, 12.0, 11.0, 12.5, 0.0, 0, summarise([]))
    return AlertBenchResult(
        config=AlertBenchConfig(rules=100, interval_s=30.0, rounds=len(rounds)),
        database="sqlite",
        machine="test machine",
        import_s=1.5,
        firing_rules=2,
        cold=cold,
        rounds=list(rounds),
        instances={"normal": 390, "firing": 8},
    )


def test_the_result_survives_json_and_the_report_gives_the_verdict() -> None:
    result = _result(_round(1, 5.0, 0.5), _round(2, 6.0, 0.8))
    raw = json.loads(json.dumps(result.as_dict()))
    assert raw["kept_up"] is True
    assert raw["cold"]["latency"]["p50_ms"] is None  # no sample: null, not NaN
    parsed = AlertBenchResult.from_dict(raw)
    assert parsed.rounds == result.rounds
    assert math.isnan(parsed.cold.latency.p50_ms)

    report = describe(parsed)
    assert "| round 2 | 30.0 | 100 | 1 | 6.0 |" in report
    assert "| cold pass (all due) | 12.0 | 100 |" in report
    assert "5.0 / 20.0 / 20.0 / 20.0" in report  # p50 / p95 / p99 / max of the evaluations
    assert "firing 8, normal 390" in report
    assert "kept up: yes" in report


def test_a_round_busy_past_its_interval_or_a_rule_a_whole_interval_late_fails() -> None:
    assert not _result(_round(1, 5.0, 0.5), _round(2, 31.0, 0.5)).kept_up()
    assert not _result(_round(1, 5.0, 30.0)).kept_up()
    assert "kept up: NO" in describe(_result(_round(1, 31.0, 0.5)))


def test_a_tiny_run_evaluates_every_rule_with_the_real_worker(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    args = "--rules 20 --hosts 2 --interval 1s --rounds 1 --firing 0.25 --no-progress"
    done = subprocess.run(
        [sys.executable, "-m", "crisp", "bench", "alerts", *args.split(), "--json-out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = AlertBenchResult.from_dict(json.loads(out.read_text()))
    assert result.cold.evaluations == 20
    assert result.cold.errors == 0
    assert result.firing_rules == 5
    assert len(result.rounds) == 1
    assert result.rounds[0].evaluations > 0
    assert result.rounds[0].latency.count > 0
    assert result.database == "sqlite"
    # Rules saw the live data: some instances fire or wait to, the rest are normal.
    assert result.instances.get("normal", 0) > 0
    assert result.instances.get("firing", 0) + result.instances.get("pending", 0) > 0
    assert "| round 1 |" in done.stdout
