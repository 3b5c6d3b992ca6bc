import subprocess
import sys
from pathlib import Path

import pytest

from crisp.cli.main import COMMANDS, main


def run_crisp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_bad_environment_value_exits_2_naming_the_variable() -> None:
    result = run_crisp("config", env={"CRISP_WRITER_BATCH_SIZE": "abc", "PATH": "/usr/bin"})
    assert result.returncode == 2
    assert "CRISP_WRITER_BATCH_SIZE='abc'" in result.stderr
    assert "positive integer" in result.stderr


def test_config_prints_effective_values_with_secrets_hidden(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISP_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("CRISP_DATA_DIR", "/srv/crisp")
    assert main(["config", "--listen", "0.0.0.0:9999"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert "CRISP_ADMIN_TOKEN" in out
    assert "0.0.0.0:9999" in out
    assert "/srv/crisp" in out


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_documents_its_flags_and_variables(command: str) -> None:
    result = run_crisp(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "CRISP_LOG_LEVEL" in result.stdout
    assert "--log-level" in result.stdout


def test_top_level_help_lists_the_commands() -> None:
    result = run_crisp("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command.name in result.stdout


def test_storage_on_a_directory_another_engine_holds_exits_1_with_the_reason(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from crisp.storage.engine import Engine, EngineOptions

    with Engine(tmp_path, EngineOptions(background=False)):
        status = main(["storage", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0"])
    assert status == 1
    error = capfd.readouterr().err
    assert f"data directory {tmp_path} is in use by another Crisp storage engine" in error
    assert "Traceback" not in error
