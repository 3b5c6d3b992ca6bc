"""``crisp serve``: every component in one process, on embedded defaults."""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = "run everything in one process (storage and its API) on embedded defaults"
SETTINGS = (
    "data_dir",
    "listen",
    "console_listen",
    "wal_fsync",
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

    # The console joins this list when it exists; storage comes first, it is what the
    # others depend on.
    return run_until_stopped(storage_node(settings, CollectorRegistry()))
