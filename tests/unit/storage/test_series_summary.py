"""A write's summary must name exactly its distinct series, their time ranges and
whether a (series, time) repeats, however the tag columns look."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType, measurement_schema
from crisp.storage.series_summary import summarize, summarize_and_encode
from crisp.storage.wal import decode_write, encode_write

_TAG_VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "é", "", "a,b", "x" * 40]))


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    tags = draw(st.lists(st.sampled_from(["host", "dc", "rack", "os"]), unique=True))
    n = draw(st.integers(1, 60))
    times = draw(st.lists(st.integers(-(2**63) + 1, 2**63 - 1) | st.integers(0, 3), min_size=n,
                          max_size=n))
    columns: dict[str, list[object]] = {"time": times}
    for tag in tags:
        columns[tag] = draw(st.lists(_TAG_VALUES, min_size=n, max_size=n))
    columns["value"] = list(range(n))
    schema = measurement_schema(tags, {"value": FieldType.INTEGER})
    table = pa.Table.from_pydict(columns, schema=schema)
    if n > 1 and draw(st.booleans()):  # several chunks, as a merged batch has
        cut = draw(st.integers(1, n - 1))
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    return table


def expected(table: pa.Table, tags: tuple[str, ...]) -> tuple[dict[tuple, tuple[int, int]], bool]:
    ranges: dict[tuple, tuple[int, int]] = {}
    seen: set[tuple] = set()
    distinct = True
    for row in table.to_pylist():
        key = tuple(row[t] for t in tags)
        t = row["time"]
        distinct = distinct and (key, t) not in seen
        seen.add((key, t))
        lo, hi = ranges.get(key, (t, t))
        ranges[key] = (min(lo, t), max(hi, t))
    return ranges, distinct


@settings(max_examples=300, deadline=None)
@given(tables())
def test_summary_matches_a_row_by_row_count(table: pa.Table) -> None:
    summary = summarize(table)
    ranges, distinct = expected(table, summary.tag_names)
    assert summary.tag_names == tuple(sorted(c for c in table.column_names if c not in
                                             ("time", "value")))
    got = {
        row: (lo, hi)
        for row, lo, hi in zip(summary.rows, summary.min_time, summary.max_time, strict=True)
    }
    assert len(got) == len(summary.rows)  # each series once
    assert got == ranges
    assert summary.distinct_times == distinct


@settings(max_examples=100, deadline=None)
@given(tables())
def test_wal_record_with_the_summary_encoding_reads_back_the_same(table: pa.Table) -> None:
    _, encoded = summarize_and_encode(table)
    payload = encode_write(7, "db", "rp", {"m": table}, {"m": encoded})
    assert decode_write(payload).tables["m"].to_pylist() == table.to_pylist()
    assert decode_write(payload).tables["m"].schema.equals(table.schema, check_metadata=True)
