"""``crisp consume``: read the collector's NATS JetStream stream into storage."""

from __future__ import annotations

import argparse
import sys

from crisp.cli.options import add_setting_alias, add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = (
    "read batches from a NATS JetStream stream (a collector with --sink nats://…) and "
    "write them to storage (embedded engine or an InfluxDB-compatible URL), acknowledging "
    "each message only after storage did"
)
SETTINGS = (
    "sink",
    "sink_token",
    "sink_timeout",
    "sink_retry_initial",
    "sink_retry_max",
    "consume_durable",
    "nats_stream_max_bytes",
    "collector_default_db",
    "spool_dir",
    "data_dir",
    "wal_fsync",
    "log_format",
    "log_level",
)
# Exit status for usage and configuration errors, as argparse uses.
EXIT_USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_alias(parser, "--nats", "consume_nats", metavar="NATS_URL")
    add_setting_alias(parser, "--listen", "consume_listen")
    add_setting_flags(parser, SETTINGS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `crisp --help` and `crisp config` stay fast and light.
    from prometheus_client import CollectorRegistry

    from crisp.consume.node import consume_node

    try:
        components = consume_node(settings, CollectorRegistry())
    except ValueError as error:
        print(f"crisp consume: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return run_until_stopped(components)
