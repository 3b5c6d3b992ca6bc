"""``crisp alerts import`` / ``export`` as a user types them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crisp.cli.main import main
from crisp.console.alerts import models
from tests.unit.console.alerts.test_api import FILE
from tests.unit.console.fixtures import World

pytestmark = pytest.mark.django_db


def test_import_twice_then_export(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(FILE)
    assert main(["alerts", "import", str(path), "--team", "team-a"]) == 0
    assert "rules: 2 created, 0 updated" in capsys.readouterr().out
    assert main(["alerts", "import", str(path), "--team", "Team A"]) == 0
    assert "rules: 0 created, 2 updated" in capsys.readouterr().out
    assert models.AlertRule.objects.count() == 2

    out = tmp_path / "export.yaml"
    assert main(["alerts", "export", "--team", "team-a", "-o", str(out)]) == 0
    doc = yaml.safe_load(out.read_text())
    assert sorted(r["name"] for r in doc["alert_rules"]) == ["disk_full", "p95_high"]
    assert main(["alerts", "export", "--team", "team-a"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == doc


def test_an_invalid_file_exits_non_zero_naming_rule_and_field(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "alert_rules:\n"
        "  - {name: cpu_high, severity: urgent, threshold: 80%, duration: 5m}\n"
        "  - {name: disk, threshold: many}\n"
    )
    assert main(["alerts", "import", str(path), "--team", "team-a"]) == 1
    err = capsys.readouterr().err
    assert "alert_rules[0] (cpu_high): severity: expected one of info, warning, critical" in err
    assert "alert_rules[1] (disk): threshold: expected a number or a percentage" in err
    assert not models.AlertRule.objects.exists()


def test_an_unknown_team_or_file_exits_non_zero(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "export", "--team", "nobody"]) == 1
    assert "no team 'nobody'" in capsys.readouterr().err
    assert main(["alerts", "import", str(tmp_path / "missing.yaml"), "--team", "team-a"]) == 1
    assert "cannot read" in capsys.readouterr().err
