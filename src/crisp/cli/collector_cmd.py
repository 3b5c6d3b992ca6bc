"""``crisp collector``: the stateless ingest gateway, and its dead-letter replay."""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = (
    "run the ingest gateway: line protocol, JSON, Prometheus and OTLP in, spooled and "
    "batched to a sink (embedded engine or an InfluxDB-compatible URL)"
)
SETTINGS = (
    "sink",
    "sink_token",
    "sink_timeout",
    "sink_retry_initial",
    "sink_retry_max",
    "spool_dir",
    "spool_max_bytes",
    "collector_default_db",
    "writer_batch_size",
    "writer_flush_interval",
    "data_dir",
    "wal_fsync",
    "max_body_size",
    "admin_token",
    "log_format",
    "log_level",
)
ACTIONS = ("run", "replay-dead-letters")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=ACTIONS,
        default="run",
        help="run (default): serve the ingest API; replay-dead-letters: resend the "
        "batches the sink refused (from SPOOL_DIR/dead-letter) to a running collector",
    )
    parser.add_argument(
        "--to",
        metavar="URL",
        default=None,
        help="replay-dead-letters only: where to resend (default: this collector's address)",
    )
    help_text, expects, _ = Settings.describe("collector_listen")
    # `--listen` reads naturally for this command; the long name works too, as
    # everywhere else. Both set the same setting.
    parser.add_argument(
        "--listen",
        Settings.flag_name("collector_listen"),
        dest="setting_collector_listen",
        metavar="COLLECTOR_LISTEN",
        default=None,
        help=f"{help_text} Env {Settings.env_name('collector_listen')}; expects {expects}; "
        f"default {Settings().collector_listen}.",
    )
    add_setting_flags(parser, SETTINGS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "replay-dead-letters":
        return _replay(settings, args.to or settings.collector_listen.url)
    # Imported here so `crisp --help` and `crisp config` stay fast and light.
    from prometheus_client import CollectorRegistry

    from crisp.collector.node import collector_node

    return run_until_stopped(collector_node(settings, CollectorRegistry()))


def _replay(settings: Settings, target: str) -> int:
    from crisp.collector.node import DEAD_LETTER_DIR
    from crisp.collector.replay import replay_dead_letters

    directory = settings.spool_dir / DEAD_LETTER_DIR
    report = replay_dead_letters(directory, target, token=settings.admin_token)
    print(f"resent {len(report.sent)} dead-letter files to {target}")
    for path, reason in report.refused:
        print(f"still refused: {path}: {reason}")
    if report.unreachable:
        print(f"stopped: {report.unreachable}; the remaining files are kept")
    return 0 if not report.refused and not report.unreachable else 1
