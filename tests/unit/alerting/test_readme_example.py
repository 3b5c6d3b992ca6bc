"""The README's alert file example is a valid alert file."""

from pathlib import Path

from crisp.alerting.rules import load_alert_file

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_alert_example_loads() -> None:
    section = README.read_text().split("## Alerts", 1)[1].split("\n## ", 1)[0]
    lines = [
        line[4:]
        for line in section.splitlines()
        if line.startswith("    ") and not line.lstrip().startswith(".venv/bin/crisp")
    ]
    alert_file = load_alert_file("\n".join(lines))
    assert [c.name for c in alert_file.channels] == ["oncall", "slack"]
    (rule,) = alert_file.rules
    assert rule.group_by == ("service",)
    assert alert_file.routes[0].notify == ("oncall",)
