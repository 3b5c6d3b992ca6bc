"""crisp bench compare --quick and every load format, run for real against each target."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from crisp.bench.compare import QUICK
from crisp.bench.report import BEGIN, END
from crisp.bench.servers import running_server
from crisp.cli.main import main
from tests.conftest import require_binary
from tests.e2e.test_collector import Stack

# The quick configuration on fewer series, so the test takes seconds per target; the
# full --quick size is timed by hand (docs/BENCHMARKS.md).
SMALLER = ["--hosts", "10", "--duration", "1h"]
HOSTS, STEPS, FIELDS = 10, 360, 10
END_OF_DATA = "2016-01-01T00:30:00Z"  # the iot data below covers 00:00-00:10


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("influxdb", marks=pytest.mark.integration),
        pytest.param("victoriametrics", marks=pytest.mark.integration),
        # Crisp itself, started as a user starts it: the same run must work against it.
        pytest.param("crisp", marks=pytest.mark.e2e),
    ],
)
def test_quick_compare_against_a_real_server(target: str, tmp_path: Path) -> None:
    if target == "influxdb":
        require_binary("influxd", "apt-get install influxdb")
    if target == "victoriametrics":
        require_binary("victoria-metrics", "apt-get install victoria-metrics")
    report_md = tmp_path / "BENCHMARKS.md"
    report_md.write_text(f"# Benchmarks\n\n{BEGIN}\n{END}\n\nkept\n")
    out_dir = tmp_path / "bench"
    arguments = ["--targets", target, "--out-dir", str(out_dir), "--report", str(report_md)]
    assert main(["bench", "compare", "--quick", "--no-progress", *SMALLER, *arguments]) == 0
    result = json.loads((out_dir / "compare.json").read_text())
    assert result["data_set"]["hosts"] == HOSTS
    assert result["batch"] == QUICK.batch
    (measured,) = result["targets"]
    assert measured["skipped"] is None
    assert measured["load"]["values_acknowledged"] == HOSTS * STEPS * FIELDS
    assert measured["load"]["errors_by_status"] == {}
    assert measured["paced"]["ack_latency_ms"]["count"] > 0
    assert measured["disk_bytes_settled"] > 0
    assert measured["peak_rss_bytes"] > 0
    assert [q["name"] for q in measured["queries"]] == ["Q1", "Q2", "Q3"]
    assert all(q["error"] is None for q in measured["queries"])
    # The same answers in shape: Q2 one row per host, Q3 one value.
    points = {q["name"]: q["points"] for q in measured["queries"]}
    assert points["Q1"] > 0
    assert points["Q2"] == HOSTS
    assert points["Q3"] == 1
    assert (out_dir / "compare.png").read_bytes().startswith(b"\x89PNG")
    text = report_md.read_text()
    assert "| ingest, field values/s |" in text
    assert "Data: cpu-only, 10 hosts, 1 h" in text
    assert text.endswith("kept\n")


def _generate(tmp_path: Path, format_name: str) -> Path:
    path = tmp_path / f"iot.{format_name}"
    args = ["bench", "generate", "--use-case", "iot", "--hosts", "5", "--duration", "10m"]
    assert main([*args, "--format", format_name, "--batch", "50", "-o", str(path)]) == 0
    return path


def _latitudes(tmp_path: Path) -> int:
    """Latitude values in the iot data set: a line may lack it (iot's missing values)."""
    return _generate(tmp_path, "lp").read_text().count("latitude=")


def _wait_for_count(url: str, db: str, query: str, expected: int) -> int:
    """The count once it reaches ``expected``, or after 60 s: delivery is asynchronous."""
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.get(f"{url}/query", params={"db": db, "q": query}, timeout=10).json()
        series = answer["results"][0].get("series")
        count = int(series[0]["values"][0][1]) if series else 0
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


@pytest.mark.e2e
def test_every_format_loads_through_the_real_crisp_collector(tmp_path: Path) -> None:
    expected = _latitudes(tmp_path)
    stack = Stack(tmp_path)
    with stack.storage(), stack.collector():
        for format_name in ("lp", "json", "remote-write", "otlp"):
            db = format_name.replace("-", "_")
            load = ["bench", "load", "--url", stack.collector_url, "--target", "crisp"]
            data = _generate(tmp_path, format_name)
            assert main([*load, "--db", db, "--file", str(data), "--no-progress"]) == 0
            # Line protocol and JSON keep fields; remote-write and OTLP make a series each.
            if format_name in ("lp", "json"):
                query = "SELECT count(latitude) FROM readings WHERE time >= 0"
            else:
                query = "SELECT count(value) FROM readings_latitude WHERE time >= 0"
            count = _wait_for_count(stack.storage_url, db, query, expected)
            assert count == expected, format_name


@pytest.mark.integration
def test_remote_write_loads_into_real_victoriametrics(tmp_path: Path) -> None:
    require_binary("victoria-metrics", "apt-get install victoria-metrics")
    expected = _latitudes(tmp_path)
    data = _generate(tmp_path, "remote-write")
    with running_server("victoriametrics", tmp_path / "vm") as server:
        load = ["bench", "load", "--url", server.url, "--target", "victoriametrics"]
        assert main([*load, "--file", str(data), "--no-progress"]) == 0
        httpx.get(f"{server.url}/internal/force_flush", timeout=30)
        query = {"query": "sum(count_over_time(readings_latitude[1h]))", "time": END_OF_DATA}
        answer = httpx.get(f"{server.url}/api/v1/query", params=query, timeout=30).json()
    assert int(answer["data"]["result"][0]["value"][1]) == expected
