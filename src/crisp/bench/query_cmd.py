"""``crisp bench query``: run a query set against one target and print the timings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crisp.bench.query_runner import QueryTiming, run_queries
from crisp.bench.queryset import (
    BenchQuery,
    bind,
    builtin_query_set,
    parse_query_set,
    syntax_of,
)
from crisp.bench.timespec import parse_rfc3339_ns


def load_query_set(source: str, start_ns: int) -> list[BenchQuery]:
    if source == "builtin":
        queries = builtin_query_set()
    else:
        queries = parse_query_set(Path(source).read_text(), syntax_of(source))
    return [bind(query, start_ns) for query in queries]


def describe(timing: QueryTiming) -> str:
    if timing.skipped:
        return f"{timing.name:<8} skipped: {timing.skipped}"
    if timing.error:
        return f"{timing.name:<8} ERROR: {timing.error}"
    t = timing.timing
    return (
        f"{timing.name:<8} median {t.median_ms:9.2f} ms  min {t.min_ms:9.2f}  "
        f"max {t.max_ms:9.2f}  ({t.runs} runs, {timing.points} points)  {timing.description}"
    )


def run_query_command(args: argparse.Namespace) -> int:
    queries = load_query_set(args.queries, parse_rfc3339_ns(args.start))
    timings = run_queries(
        args.url.rstrip("/"),
        args.target,
        args.db,
        queries,
        args.runs,
        on_query=lambda timing: print(describe(timing), flush=True),
    )
    if args.json_out:
        document = {
            "target": args.target,
            "url": args.url,
            "db": args.db,
            "runs": args.runs,
            "queries": [timing.as_dict() for timing in timings],
        }
        Path(args.json_out).write_text(json.dumps(document, indent=2) + "\n")
    return 1 if any(timing.error for timing in timings) else 0
