from pathlib import Path

import pytest

from crisp.core.settings import Address, SettingError, Settings, load_settings


def test_defaults_match_the_documented_contract() -> None:
    settings = load_settings(environ={})
    assert settings.data_dir == Path("crisp-data")
    assert settings.listen == Address("127.0.0.1", 8086)
    assert settings.console_listen == Address("127.0.0.1", 8000)
    assert settings.writer_batch_size == 5000
    assert settings.writer_flush_interval == 1.0
    assert settings.wal_fsync == "always"


def test_environment_overrides_default_and_flag_overrides_environment() -> None:
    env = {"CRISP_LISTEN": "0.0.0.0:9000", "CRISP_WRITER_BATCH_SIZE": "100"}
    assert load_settings(env).listen == Address("0.0.0.0", 9000)
    settings = load_settings(env, {"listen": "127.0.0.1:7000", "writer_batch_size": None})
    assert settings.listen == Address("127.0.0.1", 7000)
    assert settings.writer_batch_size == 100


@pytest.mark.parametrize(
    ("variable", "value", "expects"),
    [
        ("CRISP_WRITER_BATCH_SIZE", "abc", "a positive integer"),
        ("CRISP_WRITER_BATCH_SIZE", "0", "a positive integer"),
        ("CRISP_LISTEN", "8086", "HOST:PORT"),
        ("CRISP_LISTEN", "localhost:99999", "HOST:PORT"),
        ("CRISP_WAL_FSYNC", "sometimes", "one of always, interval"),
        ("CRISP_LOG_FORMAT", "xml", "one of text, json"),
        ("CRISP_WRITER_FLUSH_INTERVAL", "soon", "a duration"),
    ],
)
def test_bad_value_names_the_variable_and_what_it_expects(
    variable: str, value: str, expects: str
) -> None:
    with pytest.raises(SettingError) as caught:
        load_settings({variable: value})
    assert variable in str(caught.value)
    assert repr(value) in str(caught.value)
    assert expects in str(caught.value)


def test_bad_flag_is_named_as_a_flag() -> None:
    with pytest.raises(SettingError, match="--listen"):
        load_settings({}, {"listen": "nowhere"})


@pytest.mark.parametrize(
    ("text", "seconds"), [("1000ms", 1.0), ("2s", 2.0), ("5m", 300.0), ("1h", 3600.0), ("0.5", 0.5)]
)
def test_durations_take_units(text: str, seconds: float) -> None:
    assert load_settings({"CRISP_WRITER_FLUSH_INTERVAL": text}).writer_flush_interval == seconds


def test_ipv6_address_round_trips() -> None:
    address = load_settings({"CRISP_LISTEN": "[::1]:8086"}).listen
    assert address == Address("::1", 8086)
    assert str(address) == "[::1]:8086"


def test_secrets_are_hidden_in_display() -> None:
    shown = dict(Settings(admin_token="s3cret").display_items())
    assert shown["CRISP_ADMIN_TOKEN"] == "<set>"
    assert "s3cret" not in repr(list(Settings(admin_token="s3cret").display_items()))
