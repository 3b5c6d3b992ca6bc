"""``crisp collector``: the stateless ingest gateway, and its dead-letter replay."""

from __future__ import annotations

import argparse
import sys

from crisp.cli.options import add_setting_alias, add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

HELP = (
    "run the ingest gateway: line protocol, JSON, Prometheus and OTLP in, spooled and "
    "batched to a sink (embedded engine, an InfluxDB-compatible URL or a NATS JetStream "
    "stream that `crisp consume` reads)"
)
SETTINGS = (
    "sink",
    "sink_token",
    "sink_timeout",
    "sink_retry_initial",
    "sink_retry_max",
    "spool_dir",
    "spool_max_bytes",
    "nats_stream_max_bytes",
    "collector_default_db",
    "collector_udp_listen",
    "collector_udp_db",
    "collector_udp_precision",
    "collector_max_series_per_measurement",
    "collector_max_series_per_database",
    "writer_batch_size",
    "writer_flush_interval",
    "data_dir",
    "wal_fsync",
    "max_body_size",
    "admin_token",
    "write_tokens_file",
    "collector_aggregation_file",
    "collector_workers",
    "log_format",
    "log_level",
)
ACTIONS = ("run", "replay-dead-letters", "hash-token")
# Exit status for usage and configuration errors, as argparse uses.
EXIT_USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=ACTIONS,
        default="run",
        help="run (default): serve the ingest API; replay-dead-letters: resend the "
        "batches the sink refused (from SPOOL_DIR/dead-letter) to a running collector; "
        "hash-token: read a token on standard input, print the sha256 that "
        "CRISP_WRITE_TOKENS_FILE takes",
    )
    parser.add_argument(
        "--to",
        metavar="URL",
        default=None,
        help="replay-dead-letters only: where to resend (default: this collector's address)",
    )
    add_setting_alias(parser, "--listen", "collector_listen")
    add_setting_flags(parser, SETTINGS)
    # Set by the supervisor of CRISP_COLLECTOR_WORKERS on the processes it starts.
    parser.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "replay-dead-letters":
        return _replay(settings, args.to or settings.collector_listen.url)
    if args.action == "hash-token":
        return _hash_token()
    # Imported here so `crisp --help` and `crisp config` stay fast and light.
    from prometheus_client import CollectorRegistry

    from crisp.collector.node import collector_node
    from crisp.collector.workers import Supervisor, check_workers, worker_settings

    worker = args.worker_index
    try:
        if worker is None and settings.collector_workers > 1:
            check_workers(settings)
            # Built, not started: a bad file or URL stops start-up here, once.
            collector_node(worker_settings(settings, 0), CollectorRegistry(), shared_port=True)
            commands = [worker_command(args, i) for i in range(settings.collector_workers)]
            return Supervisor(commands, settings).run()
        if worker is not None:
            settings = worker_settings(settings, worker)
        components = collector_node(settings, CollectorRegistry(), shared_port=worker is not None)
    except (ValueError, OSError) as error:  # a bad NATS URL, tokens or aggregation file
        print(f"crisp collector: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return run_until_stopped(components)


def worker_command(args: argparse.Namespace, index: int) -> list[str]:
    """This command line for worker ``index``: the same flags (the environment is
    inherited), plus its index."""
    command = [sys.executable, "-m", "crisp", "collector"]
    for name in ("collector_listen", *SETTINGS):
        value = getattr(args, f"setting_{name}", None)
        if value is not None:
            command += [Settings.flag_name(name), value]
    return [*command, "--worker-index", str(index)]


def _replay(settings: Settings, target: str) -> int:
    from crisp.collector.node import DEAD_LETTER_DIR
    from crisp.collector.replay import replay_dead_letters

    # With CRISP_COLLECTOR_WORKERS each worker keeps its own, under SPOOL_DIR/worker-N.
    directories = [settings.spool_dir / DEAD_LETTER_DIR]
    directories += sorted(settings.spool_dir.glob(f"worker-*/{DEAD_LETTER_DIR}"))
    failed = False
    for directory in directories:
        report = replay_dead_letters(directory, target, token=settings.admin_token)
        print(f"resent {len(report.sent)} dead-letter files from {directory} to {target}")
        for path, reason in report.refused:
            print(f"still refused: {path}: {reason}")
        failed = failed or bool(report.refused)
        if report.unreachable:
            print(f"stopped: {report.unreachable}; the remaining files are kept")
            return 1
    return 1 if failed else 0


def _hash_token() -> int:
    from crisp.collector.write_tokens import hash_token

    # Read from stdin, not argv: a token on the command line ends in shell history.
    token = sys.stdin.readline().strip()
    if not token:
        print("crisp collector hash-token: no token on standard input", file=sys.stderr)
        return EXIT_USAGE
    print(hash_token(token))
    return 0
