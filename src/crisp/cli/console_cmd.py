"""``crisp console``: the web console (Django + DRF) reading metrics over HTTP."""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = "run the web console (explore, dashboards, API, admin) on CRISP_CONSOLE_LISTEN"
SETTINGS = (
    "data_dir",
    "listen",
    "database_url",
    "metrics_url",
    "metrics_token",
    "metrics_timeout",
    "secret_key",
    "allowed_hosts",
    "debug",
    "latency_measurement",
    "latency_field",
    "latency_service_tag",
    "latency_breakdown_tags",
    "request_counter",
    "console_default_db",
    "log_format",
    "log_level",
)


def configure(parser: argparse.ArgumentParser) -> None:
    # `--listen` is the console's own address here; the storage API address, used when
    # CRISP_METRICS_URL is empty, stays available as --storage-listen.
    parser.add_argument(
        "--listen",
        dest="setting_console_listen",
        metavar="HOST:PORT",
        default=None,
        help=f"Address of the web console. Env {Settings.env_name('console_listen')}; "
        f"default {Settings().console_listen}.",
    )
    add_setting_flags(parser, [name for name in SETTINGS if name != "listen"])
    parser.add_argument(
        "--storage-listen",
        dest="setting_listen",
        metavar="HOST:PORT",
        default=None,
        help=f"Storage API the console queries when CRISP_METRICS_URL is empty. "
        f"Env {Settings.env_name('listen')}; default {Settings().listen}.",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `crisp --help` stays fast and light.
    from crisp.console.components import console_components

    return run_until_stopped(console_components(settings))
