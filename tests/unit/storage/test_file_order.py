"""Parquet row order: the tag with the most distinct values first, so one series' rows sit
in few row groups that a tag filter can find from their statistics; files written in
the old order (tags by name) read and merge the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.storage import persist
from crisp.storage.engine import Engine
from tests.unit.storage.conftest import make_batch, quiet_options

TAGS = ("arch", "host", "region")
S = 10**9


def cpu_rows(times: range, value_offset: int = 0) -> list[dict[str, Any]]:
    """40 hosts over 2 archs and 4 regions: host has the most values, arch the fewest."""
    return [
        {"time": t * S, "host": f"h{h:02d}", "arch": ("x64", "x86")[h % 2],
         "region": f"r{h % 4}", "v": h * 1000 + t + value_offset}
        for t in times for h in range(40)
    ]  # fmt: skip


def query(engine: Engine, q: str) -> list[Any]:
    [result] = execute(
        q, storage=engine, database="db", rp=None, now_ns=10**15, guards=QueryGuards()
    )
    assert "error" not in result, result
    return [(one.get("tags"), one["values"]) for one in result.get("series", [])]


def stored(engine: Engine) -> list[Path]:
    return [engine._dir / f.path for f in engine.files()]


def as_name_order_file(path: Path) -> None:
    """Rewrite ``path`` the way files were written before: rows sorted by the tags in
    name order, no stored counts."""
    table = pq.read_table(path)
    tags = sorted(t for t in TAGS if t in table.column_names)
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in [*tags, "time"]])
    table = table.take(order).replace_schema_metadata(None)
    pq.write_table(table, path, **persist.parquet_write_options(table.schema))
    assert persist.stored_tag_counts(path) is None


def test_tag_order_puts_the_most_distinct_values_first() -> None:
    counts = {"arch": 2, "host": 4000, "region": 9, "rack": 100, "team": 9}
    order = persist.tag_order(["arch", "host", "rack", "region", "team", "os"], counts)
    assert order == ["host", "rack", "region", "team", "arch", "os"]


@pytest.mark.parametrize("duplicates", [False, True], ids=["arrow-sort", "duckdb-dedupe"])
def test_flushed_rows_are_sorted_by_host_first(engine: Engine, duplicates: bool) -> None:
    data = cpu_rows(range(3))
    if duplicates:
        data.append(data[0])  # not provably unique: the flush goes through DuckDB
    engine.write("db", None, make_batch("cpu", data, tags=TAGS))
    engine.flush()
    [path] = stored(engine)
    table = pq.read_table(path)
    keys = list(
        zip(table.column("host").to_pylist(), table.column("time").to_pylist(), strict=True)
    )
    assert keys == sorted(keys)
    assert persist.stored_tag_counts(path) == {"arch": 2, "host": 40, "region": 4}
    assert json.loads(pq.read_schema(path).metadata[persist.TAG_CARDINALITY_KEY])["host"] == 40


def test_one_host_lies_in_few_row_groups(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persist, "ROW_GROUP_ROWS", 50)
    engine.write("db", None, make_batch("cpu", cpu_rows(range(10)), tags=TAGS))
    engine.flush()
    [path] = stored(engine)
    meta = pq.ParquetFile(path).metadata
    host = meta.schema.names.index("host")
    assert meta.num_row_groups == 8
    spans = [(meta.row_group(i).column(host).statistics.min,
              meta.row_group(i).column(host).statistics.max)
             for i in range(meta.num_row_groups)]  # fmt: skip
    # 10 rows per host, 50 per row group: each host's statistics admit one row group.
    for h in range(40):
        name = f"h{h:02d}"
        assert sum(lo <= name <= hi for lo, hi in spans) == 1


def test_old_name_order_files_read_and_merge_with_new_ones(data_dir: Path) -> None:
    options = quiet_options(compaction_cold_after_s=0.0)
    with Engine(data_dir, options) as engine:
        engine.create_database("db")
        engine.write("db", None, make_batch("cpu", cpu_rows(range(6)), tags=TAGS))
        engine.flush()
        [old] = stored(engine)
    as_name_order_file(old)
    one_host = "SELECT v FROM cpu WHERE host = 'h07' AND time >= 0"
    per_host = "SELECT max(v) FROM cpu WHERE time >= 0 GROUP BY host"
    with Engine(data_dir, options) as engine:
        assert query(engine, one_host) == [(None, [[t * S, 7000 + t] for t in range(6)])]
        # New-order rows overwrite times 4 and 5 and add 6 to 8, every series.
        engine.write("db", None, make_batch("cpu", cpu_rows(range(4, 9), 100), tags=TAGS))
        engine.flush()
        assert persist.stored_tag_counts(stored(engine)[1]) is not None
        expected = [[t * S, 7000 + t + (100 if t >= 4 else 0)] for t in range(9)]
        assert query(engine, one_host) == [(None, expected)]
        maxima = [({"host": f"h{h:02d}"}, [[8 * S, h * 1000 + 108]]) for h in range(40)]
        assert query(engine, per_host) == maxima
        assert engine.compact() == 1
        [merged] = stored(engine)
        # Estimated by DuckDB (the old file had no counts), then sorted host first.
        counts = persist.stored_tag_counts(merged)
        assert counts is not None
        assert counts["host"] > counts["region"] > counts["arch"]
        hosts = pq.read_table(merged).column("host").to_pylist()
        assert hosts == sorted(hosts)
        assert query(engine, one_host) == [(None, expected)]
        assert query(engine, per_host) == maxima
