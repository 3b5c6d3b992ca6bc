"""``crisp bench compare``: the same data, load and queries against each target in turn.

Targets run one at a time (the machine is small and shared), each on a free loopback
port with a fresh data dir that is deleted afterwards. Per target: throughput load,
a short paced load for acknowledgement latency, a settle (and flush where the server
has one), disk bytes, the query set, peak RSS; then a graceful stop and disk bytes
again, since a stop persists what was only buffered.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crisp.bench.bodies import Body, field_values
from crisp.bench.dataset import DatasetSpec
from crisp.bench.generate import generate_batches
from crisp.bench.load_cmd import load
from crisp.bench.loader import LoadPlan, LoadResult
from crisp.bench.query_cmd import describe as describe_query
from crisp.bench.query_cmd import load_query_set
from crisp.bench.query_runner import QueryTiming, run_queries
from crisp.bench.servers import RunningServer, ServerUnavailable, disk_bytes, running_server
from crisp.bench.targets import TARGETS, create_database, write_path
from crisp.bench.timespec import NS_PER_S, parse_duration_ns

DB = "benchmark"


@dataclass(frozen=True)
class CompareConfig:
    spec: DatasetSpec
    queries: str = "builtin"  # a query-set file, or the built-in Q1-Q3
    batch: int = 5000
    connections: int = 4
    runs: int = 5
    ack_rate: float = 100_000.0  # values/s of the paced phase, as in the design brief
    paced_seconds: float = 10.0
    # Small requests in the paced phase: many latency samples in a few seconds, and the
    # size an agent flushing often sends.
    paced_batch: int = 500
    settle_seconds: float = 10.0


# The full run's series count and request shape on a quarter of its time range
# (3.6 M values, loads of a few seconds), with short paced and settle phases: all
# three targets in under 2 minutes on 2 cores (51 s to 1 min 41 s measured).
QUICK = CompareConfig(
    DatasetSpec(hosts=1000, duration_ns=3600 * NS_PER_S),
    runs=3,
    paced_seconds=3.0,
    settle_seconds=3.0,
)
FULL = CompareConfig(DatasetSpec(hosts=1000, duration_ns=4 * 3600 * NS_PER_S))


@dataclass
class TargetReport:
    target: str
    skipped: str | None = None
    load: LoadResult | None = None
    paced: LoadResult | None = None
    server_cpu_s: float | None = None
    disk_bytes_settled: int | None = None
    disk_bytes_stopped: int | None = None
    peak_rss_bytes: int | None = None
    queries: list[QueryTiming] = field(default_factory=list)

    @property
    def values_stored(self) -> int:
        return sum(r.values for r in (self.load, self.paced) if r is not None)

    def bytes_per_value(self, disk: int | None) -> float | None:
        return disk / self.values_stored if disk is not None and self.values_stored else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "skipped": self.skipped,
            "load": self.load.as_dict() if self.load else None,
            "paced": self.paced.as_dict() if self.paced else None,
            "server_cpu_s_during_load": self.server_cpu_s,
            "values_stored": self.values_stored,
            "disk_bytes_settled": self.disk_bytes_settled,
            "disk_bytes_stopped": self.disk_bytes_stopped,
            "bytes_per_value_settled": self.bytes_per_value(self.disk_bytes_settled),
            "bytes_per_value_stopped": self.bytes_per_value(self.disk_bytes_stopped),
            "peak_rss_bytes": self.peak_rss_bytes,
            "queries": [q.as_dict() for q in self.queries],
        }


def build_bodies(batches: Iterator[bytes]) -> list[Body]:
    return [Body(data, data.count(b"\n"), field_values(data)) for data in batches]


def paced_bodies(config: CompareConfig) -> list[Body]:
    """A later time range than the main load (no overwrites), ``paced_seconds`` long."""
    spec = dataclasses.replace(
        config.spec,
        start_ns=config.spec.start_ns + config.spec.duration_ns,
        seed=config.spec.seed + 1,
    )
    wanted = config.ack_rate * config.paced_seconds
    bodies: list[Body] = []
    for body in build_bodies(generate_batches(spec, config.paced_batch)):
        if sum(b.values for b in bodies) >= wanted:
            break
        bodies.append(body)
    return bodies


def benchmark_target(
    target: str, config: CompareConfig, main: list[Body], paced: list[Body], progress: bool
) -> TargetReport:
    report = TargetReport(target)
    root = Path(tempfile.mkdtemp(prefix=f"crisp-bench-{target}-"))
    try:
        with running_server(target, root) as server:
            _measure(server, report, config, main, paced, progress)
            report.peak_rss_bytes = server.peak_rss_bytes()
        report.disk_bytes_stopped = disk_bytes(root / "data")
    except ServerUnavailable as error:
        report.skipped = str(error)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report


def _measure(
    server: RunningServer,
    report: TargetReport,
    config: CompareConfig,
    main: list[Body],
    paced: list[Body],
    progress: bool,
) -> None:
    create_database(server.target, server.url, DB)
    plan = LoadPlan(server.url, write_path(server.target, DB), connections=config.connections)
    cpu_before = server.cpu_seconds()
    report.load = load(plan, main, progress, label=f"{server.target} load")
    report.server_cpu_s = server.cpu_seconds() - cpu_before
    if paced:
        paced_plan = dataclasses.replace(plan, rate=config.ack_rate)
        report.paced = load(paced_plan, paced, progress, label=f"{server.target} paced")
    _flush(server)
    time.sleep(config.settle_seconds)
    report.disk_bytes_settled = disk_bytes(server.data_dir)
    queries = load_query_set(config.queries, config.spec.start_ns)
    report.queries = run_queries(server.url, server.target, DB, queries, config.runs)


def _flush(server: RunningServer) -> None:
    # VictoriaMetrics keeps recent rows in memory for a few seconds; it has an API to
    # write them out. InfluxDB 1.x and Crisp have none: the settle time covers them.
    if server.target == "victoriametrics":
        httpx.get(f"{server.url}/internal/force_flush", timeout=60)


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    config = QUICK if args.quick else FULL
    spec = config.spec
    if args.use_case is not None:
        spec = dataclasses.replace(spec, use_case=args.use_case)
    if args.hosts is not None:
        spec = dataclasses.replace(spec, hosts=args.hosts)
    if args.duration is not None:
        spec = dataclasses.replace(spec, duration_ns=parse_duration_ns(args.duration))
    overrides: dict[str, Any] = {"spec": spec}
    for name, value in (
        ("queries", args.queries),
        ("batch", args.batch),
        ("connections", args.connections),
        ("runs", args.runs),
        ("ack_rate", args.ack_rate),
        ("paced_seconds", args.paced_seconds),
        ("paced_batch", args.paced_batch),
        ("settle_seconds", args.settle),
    ):
        if value is not None:
            overrides[name] = value
    return dataclasses.replace(config, **overrides)


def run_compare_command(args: argparse.Namespace) -> int:
    from crisp.bench.report import write_outputs

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise ValueError(f"unknown targets {', '.join(sorted(unknown))}; of {', '.join(TARGETS)}")
    config = config_from_args(args)
    main = build_bodies(generate_batches(config.spec, config.batch))
    paced = paced_bodies(config)
    print(
        f"data set: {config.spec.use_case}, {config.spec.hosts} hosts, "
        f"{sum(b.lines for b in main)} lines, {sum(b.values for b in main)} values; "
        f"paced phase {sum(b.values for b in paced)} values at {config.ack_rate:,.0f}/s "
        f"in {config.paced_batch}-line requests",
        flush=True,
    )
    reports = []
    for target in targets:
        print(f"== {target}", flush=True)
        report = benchmark_target(target, config, main, paced, not args.no_progress)
        print(summary_lines(report), flush=True)
        reports.append(report)
    write_outputs(config, reports, Path(args.out_dir), Path(args.report) if args.report else None)
    return 0 if any(r.skipped is None for r in reports) else 1


def summary_lines(report: TargetReport) -> str:
    if report.skipped:
        return f"skipped: {report.skipped}"
    from crisp.bench.load_cmd import describe

    lines = [describe(r) for r in (report.load, report.paced) if r is not None]
    per_value = report.bytes_per_value(report.disk_bytes_settled)
    lines.append(
        f"disk {report.disk_bytes_settled} bytes settled ({per_value or 0:.2f} B/value), "
        f"{report.disk_bytes_stopped} after stop; peak RSS {report.peak_rss_bytes} bytes"
    )
    lines += [describe_query(q) for q in report.queries]
    return "\n".join(lines)


def reports_document(config: CompareConfig, reports: Sequence[TargetReport]) -> dict[str, Any]:
    spec = config.spec
    return {
        "data_set": {
            "use_case": spec.use_case,
            "hosts": spec.hosts,
            "start_ns": spec.start_ns,
            "duration_s": spec.duration_ns / NS_PER_S,
            "interval_s": spec.interval_ns / NS_PER_S,
            "seed": spec.seed,
            "floats": spec.floats,
        },
        "queries": config.queries,
        "batch": config.batch,
        "connections": config.connections,
        "runs": config.runs,
        "ack_rate_values_per_s": config.ack_rate,
        "paced_batch": config.paced_batch,
        "targets": [r.as_dict() for r in reports],
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n")
