"""Docs that tests keep honest: every setting and command is documented."""

from pathlib import Path

import pytest

from crisp.cli.main import COMMANDS
from crisp.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", Settings.names())
def test_every_setting_is_in_the_configuration_doc(name: str) -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    row = next((line for line in doc.splitlines() if f"`{Settings.env_name(name)}`" in line), "")
    assert row, f"{Settings.env_name(name)} missing from docs/configuration.md"
    assert f"`{Settings.flag_name(name)}`" in row


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"`crisp {command}`" in (ROOT / "README.md").read_text()


def test_readme_quick_start_is_the_two_make_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in quick_start.splitlines() if line.startswith("    ")]
    assert commands == ["make run", "make test"]
