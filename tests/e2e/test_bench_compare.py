"""crisp bench compare --quick, run for real against InfluxDB and against Crisp itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crisp.bench.compare import QUICK, build_bodies
from crisp.bench.generate import generate_batches
from crisp.bench.report import BEGIN, END
from crisp.cli.main import main
from tests.conftest import require_binary


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("influxdb", marks=pytest.mark.integration),
        # Crisp itself, started as a user starts it: the same run must work against it.
        pytest.param("crisp", marks=pytest.mark.e2e),
    ],
)
def test_quick_compare_against_a_real_server(target: str, tmp_path: Path) -> None:
    if target == "influxdb":
        require_binary("influxd", "apt-get install influxdb")
    report_md = tmp_path / "BENCHMARKS.md"
    report_md.write_text(f"# Benchmarks\n\n{BEGIN}\n{END}\n\nkept\n")
    out_dir = tmp_path / "bench"
    arguments = ["--targets", target, "--out-dir", str(out_dir), "--report", str(report_md)]
    assert main(["bench", "compare", "--quick", "--no-progress", *arguments]) == 0
    result = json.loads((out_dir / "compare.json").read_text())
    (measured,) = result["targets"]
    expected_values = sum(b.values for b in build_bodies(generate_batches(QUICK.spec, 500)))
    assert measured["skipped"] is None
    assert measured["load"]["values_acknowledged"] == expected_values
    assert measured["load"]["errors_by_status"] == {}
    assert measured["paced"]["ack_latency_ms"]["count"] > 0
    assert measured["disk_bytes_settled"] > 0
    assert measured["peak_rss_bytes"] > 0
    assert [q["name"] for q in measured["queries"]] == ["Q1", "Q2", "Q3"]
    assert all(q["error"] is None and q["points"] > 0 for q in measured["queries"])
    assert (out_dir / "compare.png").read_bytes().startswith(b"\x89PNG")
    text = report_md.read_text()
    assert "| ingest, field values/s |" in text
    assert text.endswith("kept\n")
