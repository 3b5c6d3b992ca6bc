from pathlib import Path

import pytest

from crisp.cli.main import build_parser, main
from crisp.cli.options import settings_from_args
from crisp.core.settings import Address, SettingError, load_settings


def test_listen_and_sink_flags_set_the_collector_settings() -> None:
    args = build_parser().parse_args(
        ["collector", "--listen", "0.0.0.0:9100", "--sink", "http://db:8086/"]
    )
    settings = settings_from_args(args, environ={})
    assert settings.collector_listen == Address("0.0.0.0", 9100)
    assert settings.sink == "http://db:8086"
    assert settings.listen == Address("127.0.0.1", 8086)  # the storage API's, untouched
    assert args.action == "run"


def test_collector_defaults_do_not_clash_with_storage_or_console() -> None:
    settings = load_settings(environ={})
    ports = {settings.listen.port, settings.console_listen.port, settings.collector_listen.port}
    assert len(ports) == 3
    assert settings.sink == "embedded"


@pytest.mark.parametrize("value", ["ftp://x", "http://", "nowhere"])
def test_bad_sink_is_a_setting_error(value: str) -> None:
    with pytest.raises(SettingError, match="CRISP_SINK"):
        load_settings(environ={"CRISP_SINK": value})


def test_replay_with_nothing_to_send_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["collector", "replay-dead-letters", "--spool-dir", str(tmp_path)])
    assert code == 0
    assert "resent 0 dead-letter files" in capsys.readouterr().out


@pytest.mark.parametrize("tokens", ["not json", None])  # bad file, missing file
def test_serve_with_a_bad_tokens_file_exits_2_with_the_reason(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tokens: str | None,
) -> None:
    path = tmp_path / "tokens.json"
    if tokens is not None:
        path.write_text(tokens)
    monkeypatch.setenv("CRISP_WRITE_TOKENS_FILE", str(path))
    code = main(["serve", "--data-dir", str(tmp_path / "data"), "--spool-dir", str(tmp_path / "s")])
    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("crisp serve: configuration error:")
    assert "tokens.json" in error
