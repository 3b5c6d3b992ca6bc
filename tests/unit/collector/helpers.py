"""Small batches and spooled records for the collector's unit tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from crisp.collector.app import create_app
from crisp.collector.handlers import CollectorContext
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import SpoolRecord, decode_record, encode_record
from crisp.collector.spool import Spool
from crisp.core.batch import PointBatch
from crisp.protocols.line_protocol import parse_line_protocol


def lp_batch(text: str) -> PointBatch:
    result = parse_line_protocol(text.encode(), default_time_ns=0)
    assert not result.errors, result.errors
    return result.batch


def record(seq: int, database: str = "db", rp: str | None = None) -> bytes:
    return encode_record(database, rp, lp_batch(f"m,src=t seq={seq}i {seq}"))


def seqs(batch: PointBatch) -> list[int]:
    return [int(v) for m in batch for v in m.table.column("seq").to_pylist()]


NOW_NS = 1_767_225_600_000_000_000


class Harness:
    def __init__(self, tmp_path: Path, **ctx_args: Any) -> None:
        registry = CollectorRegistry()
        self.spool = Spool(tmp_path / "spool", max_bytes=ctx_args.pop("max_bytes", 10**8))
        ctx = CollectorContext(
            spool=self.spool,
            metrics=CollectorMetrics(registry),
            clock_ns=lambda: NOW_NS,
            **ctx_args,
        )
        self.client = TestClient(create_app(ctx, registry, "embedded"))

    def close(self) -> None:
        asyncio.run(self.spool.close())

    def spooled(self) -> list[SpoolRecord]:
        payloads, _ = self.spool.read(self.spool.acknowledged, 1 << 30)
        return [decode_record(p) for p in payloads]

    def rows(self) -> list[tuple[str, str | None, str, dict[str, Any]]]:
        return [
            (r.database, r.rp, m.measurement, row)
            for r in self.spooled()
            for m in r.batch
            for row in m.table.to_pylist()
        ]
