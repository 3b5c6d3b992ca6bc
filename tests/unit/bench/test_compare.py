"""compare: report text and skipped targets (real runs: tests/e2e/test_bench_compare.py)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pytest

from crisp.bench import servers
from crisp.bench.compare import QUICK, benchmark_target, build_bodies
from crisp.bench.report import BEGIN, END, markdown_table, replace_section

TINY = [b"cpu,hostname=host_0 usage_user=1i 1451606400000000000\n"]


def test_replace_section_keeps_the_rest_of_the_document() -> None:
    document = f"# B\n\nintro\n\n{BEGIN}\nold\n{END}\n\n## after\n"
    updated = replace_section(document, "new\n")
    assert updated == f"# B\n\nintro\n\n{BEGIN}\nnew\n{END}\n\n## after\n"
    assert replace_section("# B\n", "x\n") == f"# B\n\n{BEGIN}\nx\n{END}\n"


def test_a_target_that_does_not_start_is_skipped_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(target: str, root: Path, data_dir: Path, port: int) -> tuple[list[str], str]:
        script = "import sys; print('boom: engine missing'); sys.exit(3)"
        return [sys.executable, "-c", script], "/ping"

    monkeypatch.setattr(servers, "command_for", failing)
    body = build_bodies(iter(TINY))
    report = benchmark_target("crisp", QUICK, body, [], progress=False)
    assert report.skipped == "crisp exited with status 3 during start-up: boom: engine missing"
    table = markdown_table(QUICK, [report])
    assert "**crisp skipped**: crisp exited with status 3" in table
    assert "|" not in table  # no result table when nothing ran


def test_missing_binary_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    report = benchmark_target("victoriametrics", QUICK, build_bodies(iter(TINY)), [], False)
    assert report.skipped == "victoria-metrics is not installed (apt-get install victoria-metrics)"


def test_compare_rejects_unknown_targets() -> None:
    from crisp.bench.compare import run_compare_command

    args = argparse.Namespace(targets="influxdb,mysql")
    with pytest.raises(ValueError, match="unknown targets mysql"):
        run_compare_command(args)


def test_compare_options_override_the_quick_configuration() -> None:
    from crisp.bench.compare import config_from_args
    from crisp.cli.main import build_parser

    args = build_parser().parse_args(
        ["bench", "compare", "--quick", "--use-case", "iot", "--queries", "q.yaml", "--runs", "1"]
    )
    config = config_from_args(args)
    assert config.spec.use_case == "iot"
    assert config.spec.hosts == QUICK.spec.hosts
    assert config.queries == "q.yaml"
    assert config.runs == 1
    assert config.batch == QUICK.batch
