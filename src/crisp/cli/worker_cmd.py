"""``crisp worker``: evaluates alert rules and sends notifications (several may run)."""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = "evaluate alert rules and send notifications, reading metrics over HTTP"
SETTINGS = (
    "data_dir",
    "database_url",
    "secret_key",
    "metrics_url",
    "metrics_token",
    "metrics_timeout",
    "listen",
    "console_listen",
    "console_default_db",
    "worker_listen",
    "worker_lease",
    "alert_history_retention",
    "log_format",
    "log_level",
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, SETTINGS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `crisp --help` stays fast and light.
    from prometheus_client import CollectorRegistry

    from crisp.console.alerts.components import worker_components

    return run_until_stopped(worker_components(settings, CollectorRegistry()))
