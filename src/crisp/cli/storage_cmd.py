"""``crisp storage``: one storage node, the embedded engine behind the InfluxDB API."""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = "run one storage node: the embedded engine and its InfluxDB-compatible HTTP API"
SETTINGS = (
    "data_dir",
    "listen",
    "wal_fsync",
    "write_ack",
    "max_body_size",
    "admin_token",
    "log_format",
    "log_level",
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, SETTINGS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `crisp --help` and `crisp config` stay fast and light.
    from prometheus_client import CollectorRegistry

    from crisp.runtime.storage_node import storage_node

    return run_until_stopped(storage_node(settings, CollectorRegistry()))
