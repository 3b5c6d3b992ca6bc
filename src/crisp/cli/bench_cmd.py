"""``crisp bench``: generate data, load it, time queries, compare Crisp with references."""

from __future__ import annotations

import argparse
import sys

from crisp.cli.options import add_setting_flags
from crisp.core.settings import Settings

HELP = "benchmark Crisp, InfluxDB and VictoriaMetrics (generate, load, query, compare)"
TARGETS = ("crisp", "influxdb", "victoriametrics")
# Settings flags go before the step: `crisp bench --log-level debug load ...`.
SETTINGS = ("log_format", "log_level")


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, SETTINGS)
    sub = parser.add_subparsers(dest="bench_command", metavar="STEP", required=True)
    _configure_generate(sub.add_parser("generate", help="write a deterministic data set"))
    _configure_load(sub.add_parser("load", help="send a data file to a target and time it"))
    _configure_query(sub.add_parser("query", help="time a query set against a target"))
    _configure_compare(
        sub.add_parser("compare", help="run load and queries on every target in turn")
    )
    _configure_alerts(
        sub.add_parser("alerts", help="time one alerting worker on N rules (embedded engine)")
    )


def _configure_generate(parser: argparse.ArgumentParser) -> None:
    from crisp.bench.dataset import DEFAULT_START, USE_CASES
    from crisp.bench.encoders import FORMAT_NAMES

    parser.add_argument("--use-case", choices=USE_CASES, default="cpu-only")
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--start", default=DEFAULT_START, help="RFC 3339, default %(default)s")
    parser.add_argument("--duration", default="1h", help="e.g. 1h, 30m (default %(default)s)")
    parser.add_argument("--interval", default="10s", help="between points of a series")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--format",
        choices=FORMAT_NAMES,
        default="lp",
        help="lp: line protocol lines; json, remote-write, otlp: pre-built request bodies",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=5000,
        help="lines per request body of json, remote-write and otlp (default %(default)s)",
    )
    parser.add_argument(
        "--floats", action="store_true", help="cpu-only fields as floats, not integers"
    )
    parser.add_argument("-o", "--output", required=True, help="file, or - for stdout")


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8086")
    parser.add_argument("--target", choices=TARGETS, required=True)
    parser.add_argument("--db", default="benchmark")


def _configure_load(parser: argparse.ArgumentParser) -> None:
    _add_target(parser)
    parser.add_argument(
        "--file", required=True, help="a file of crisp bench generate, in any --format"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="lines per request of a line-protocol file (default 5000); other formats "
        "keep the bodies generate built",
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--processes", type=int, default=1, help="client processes sharing the connections"
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: minimal asyncio HTTP/1.1 client, ~15x less CPU than httpx (measured)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="VALUES_PER_S",
        help="pace to this many field values/s; reports acknowledgement latency",
    )
    parser.add_argument(
        "--create-db", action="store_true", help="CREATE DATABASE first (not for VictoriaMetrics)"
    )
    parser.add_argument("--json-out", default=None, help="write the result here as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _configure_query(parser: argparse.ArgumentParser) -> None:
    from crisp.bench.dataset import DEFAULT_START

    _add_target(parser)
    parser.add_argument(
        "--queries",
        default="builtin",
        help="query-set file, JSON or YAML (docs/bench/queries.md), or 'builtin' (Q1-Q3)",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--start", default=DEFAULT_START, help="data set start, for {start} in queries"
    )
    parser.add_argument("--json-out", default=None)


def _configure_alerts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=50, help="api-latency hosts writing data")
    parser.add_argument("--interval", default="30s", help="every rule's evaluation interval")
    parser.add_argument("--rounds", type=int, default=3, help="steady-state intervals measured")
    parser.add_argument(
        "--firing",
        type=float,
        default=0.02,
        help="share of rules whose threshold the data crosses (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-query-families",
        action="store_true",
        help="run every query alone, as if no two rules' queries differed only in their "
        "aggregate (the worker's worst case)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="console database, an empty one (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--json-out", default=None, help="write the result here as JSON")
    parser.add_argument("--no-progress", action="store_true")


def _configure_compare(parser: argparse.ArgumentParser) -> None:
    from crisp.bench.dataset import USE_CASES

    parser.add_argument(
        "--quick", action="store_true", help="1000 hosts x 1 h, short phases: under 2 minutes"
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    parser.add_argument(
        "--use-case", choices=USE_CASES, default=None, help="data set (default cpu-only)"
    )
    parser.add_argument(
        "--queries", default=None, help="query-set file, JSON or YAML (default: builtin Q1-Q3)"
    )
    parser.add_argument("--hosts", type=int, default=None, help="override the data set's hosts")
    parser.add_argument("--duration", default=None, help="override the data set's duration")
    # Defaults of the options below come from the full or the --quick configuration.
    parser.add_argument("--connections", type=int, default=None, help="default 4")
    parser.add_argument("--batch", type=int, default=None, help="default 5000")
    parser.add_argument("--runs", type=int, default=None, help="default 5 (quick 3)")
    parser.add_argument("--ack-rate", type=float, default=None, help="values/s of the paced phase")
    parser.add_argument(
        "--paced-seconds", type=float, default=None, help="length of the paced phase"
    )
    parser.add_argument(
        "--paced-batch", type=int, default=None, help="lines per paced request (default 500)"
    )
    parser.add_argument(
        "--settle", type=float, default=None, help="seconds to wait before measuring disk"
    )
    parser.add_argument("--out-dir", default="docs/bench", help="table, chart and JSON go here")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--report",
        default="docs/BENCHMARKS.md",
        help="Markdown file whose marked results section is replaced",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    import logging

    # httpx logs every request at INFO: thousands of lines during a load.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.bench_command == "generate":
            return _generate(args)
        if args.bench_command == "load":
            from crisp.bench.load_cmd import run_load_command

            return run_load_command(args)
        if args.bench_command == "query":
            from crisp.bench.query_cmd import run_query_command

            return run_query_command(args)
        if args.bench_command == "alerts":
            from crisp.bench.alerts import run_alerts_command

            return run_alerts_command(args)
        from crisp.bench.compare import run_compare_command

        return run_compare_command(args)
    except (ValueError, OSError, RuntimeError) as error:
        print(f"crisp bench {args.bench_command}: {error}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    from crisp.bench.bodyfile import write_data_file
    from crisp.bench.dataset import DatasetSpec
    from crisp.bench.timespec import parse_duration_ns, parse_rfc3339_ns

    spec = DatasetSpec(
        use_case=args.use_case,
        hosts=args.hosts,
        start_ns=parse_rfc3339_ns(args.start),
        duration_ns=parse_duration_ns(args.duration),
        interval_ns=parse_duration_ns(args.interval),
        seed=args.seed,
        floats=args.floats,
    )
    if args.batch < 1:
        raise ValueError("--batch must be at least 1")
    if args.output == "-":
        write_data_file(spec, args.format, args.batch, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return 0
    with open(args.output, "wb") as out:
        lines = write_data_file(spec, args.format, args.batch, out)
    print(f"wrote {lines} lines to {args.output} ({args.format})", file=sys.stderr)
    return 0
