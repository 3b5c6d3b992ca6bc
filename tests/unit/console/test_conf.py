"""Django settings from Crisp Settings: database choice, secret key, vendored assets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crisp.console.conf import (
    PACKAGE_DIR,
    database_config,
    options_from,
    resolve_secret_key,
)
from crisp.core.settings import SettingError, Settings, load_settings


def test_sqlite_in_the_data_dir_by_default(tmp_path: Path) -> None:
    config = database_config(Settings(data_dir=tmp_path))
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str((tmp_path / "console.sqlite3").resolve())


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_url(scheme: str) -> None:
    settings = load_settings({"CRISP_DATABASE_URL": f"{scheme}://u:p@db.example:5433/crisp"})
    config = database_config(settings)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 5433, "crisp")
    assert ("CRISP_DATABASE_URL", "<set>") in list(settings.display_items())


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CRISP_DATABASE_URL", "mysql://x/y"),
        ("CRISP_METRICS_URL", "ftp://x"),
        ("CRISP_DEBUG", "maybe"),
        ("CRISP_ALLOWED_HOSTS", " , "),
        ("CRISP_LATENCY_FIELD", " "),
        ("CRISP_REQUEST_COUNTER", "http_requests"),
        ("CRISP_REQUEST_COUNTER", "http_requests."),
    ],
)
def test_bad_console_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingError, match=variable):
        load_settings({variable: value})


def test_console_settings_parse() -> None:
    settings = load_settings(
        {
            "CRISP_ALLOWED_HOSTS": "a.example, b.example",
            "CRISP_DEBUG": "true",
            "CRISP_METRICS_URL": "http://storage:8086/",
        }
    )
    assert settings.allowed_hosts == "a.example,b.example"
    assert settings.debug is True
    assert settings.metrics_url == "http://storage:8086"


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = resolve_secret_key(settings)
    assert len(key) >= 50
    assert resolve_secret_key(settings) == key
    mode = stat.S_IMODE((tmp_path / "data" / "console-secret-key").stat().st_mode)
    assert mode == 0o600


def test_configured_secret_key_wins(tmp_path: Path) -> None:
    assert resolve_secret_key(Settings(data_dir=tmp_path, secret_key="k")) == "k"
    assert not (tmp_path / "console-secret-key").exists()


def test_vendored_chart_library_ships_with_its_license() -> None:
    vendor = PACKAGE_DIR / "static" / "vendor" / "uplot"
    assert (vendor / "uPlot.iife.min.js").stat().st_size > 10_000
    assert "MIT License" in (vendor / "LICENSE").read_text()
    template = (PACKAGE_DIR / "templates" / "console" / "explore.html").read_text()
    assert "vendor/uplot/uPlot.iife.min.js" in template


@pytest.mark.parametrize(
    ("value", "counter"),
    [
        (None, ("http_requests", "count")),
        ("app.requests.n", ("app.requests", "n")),
        ("", None),
    ],
)
def test_request_counter_setting(value: str | None, counter: tuple[str, str] | None) -> None:
    environ = {} if value is None else {"CRISP_REQUEST_COUNTER": value}
    options = options_from(load_settings(environ), backend_factory=lambda: None)
    assert options.request_counter == counter
