"""``crisp bench load``: argument handling, progress bar and report around the loader."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crisp.bench.bodies import Body
from crisp.bench.bodyfile import DEFAULT_BATCH, read_data_file
from crisp.bench.loader import LoadPlan, LoadResult, run_load
from crisp.bench.targets import COLLECTOR_HINT, create_database, write_route


def load(
    plan: LoadPlan, bodies: list[Body], show_progress: bool, label: str = "load"
) -> LoadResult:
    total = sum(body.lines for body in bodies)
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines"),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # stdout carries the report
        transient=True,
        disable=not (show_progress and sys.stderr.isatty()),
    ) as progress:
        task = progress.add_task(label, total=total)
        return run_load(plan, bodies, lambda sent: progress.update(task, completed=sent))


def describe(result: LoadResult) -> str:
    lat = result.latency
    text = (
        f"{result.lines} lines, {result.values} field values in {result.elapsed_s:.2f} s: "
        f"{result.lines_per_s:,.0f} lines/s, {result.values_per_s:,.0f} values/s\n"
        f"request latency ms: p50 {lat.p50_ms:.1f}  p95 {lat.p95_ms:.1f}  "
        f"p99 {lat.p99_ms:.1f}  max {lat.max_ms:.1f}  ({lat.count} requests)\n"
        f"client CPU: {result.client_cpu_s:.2f} s"
    )
    if result.ack_latency is not None:
        ack = result.ack_latency
        text += (
            f"\nacknowledgement latency ms at the set rate (from when due): p50 {ack.p50_ms:.1f}"
            f"  p95 {ack.p95_ms:.1f}  p99 {ack.p99_ms:.1f}  max {ack.max_ms:.1f}"
        )
    if result.errors_by_status:
        text += f"\nerrors by status: {result.errors_by_status}"
    if result.lines != result.lines_sent:
        text += f"\nWARNING: {result.lines_sent - result.lines} lines were not acknowledged"
    return text


def run_load_command(args: argparse.Namespace) -> int:
    data = read_data_file(Path(args.file), args.batch)
    route = write_route(args.target, data.format, args.db)
    if args.create_db:
        create_database(args.target, args.url, args.db)
    plan = LoadPlan(
        url=args.url.rstrip("/"),
        write_path=route.path,
        connections=args.connections,
        processes=args.processes,
        client=args.client,
        rate=args.rate,
        headers=route.headers,
    )
    result = load(plan, data.bodies, show_progress=not args.no_progress)
    print(describe(result))
    if "404" in result.errors_by_status and args.target == "crisp" and data.format != "lp":
        print(f"HINT: {args.url} has no {route.path.split('?')[0]}: {COLLECTOR_HINT}")
    if args.json_out:
        document: dict[str, Any] = {
            "target": args.target,
            "url": args.url,
            "db": args.db,
            "file": args.file,
            "format": data.format,
            "batch": data.batch or args.batch or DEFAULT_BATCH,
            "connections": args.connections,
            "processes": args.processes,
            "client": args.client,
            "rate_values_per_s": args.rate,
            "result": result.as_dict(),
        }
        Path(args.json_out).write_text(json.dumps(document, indent=2) + "\n")
    return 0 if not result.errors_by_status else 1
