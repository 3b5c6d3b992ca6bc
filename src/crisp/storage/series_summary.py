"""A write's distinct series and their time ranges (``SeriesSummary``).

Every write is summarised once, outside every lock: the catalog checks which series
are new, and the buffer proves (lazily) that no two chunks hold the same series and
time. ``summarize_and_encode`` does it from dictionary codes: each tag column is
dictionary-encoded (the WAL record stores exactly those encoded columns, so the work
is shared), the codes of a row are combined into one integer, and one NumPy sort by
(series, time) gives the distinct series, their first and last time and whether a
(series, time) repeats. Python objects are made per distinct *value* and picked per
series in C. Tables whose combined codes would not fit in 62 bits, or without tags,
take an Arrow group-by instead.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import KIND_TAG, TIME_COLUMN, column_kind

# A table's tag columns (sorted names) and one row of their values (None = absent).
TagNames = tuple[str, ...]
TagRow = tuple[str | None, ...]

_CODE_LIMIT = 2**62


@dataclass(frozen=True)
class SeriesSummary:
    """A table's distinct series with their time range.

    Shared by the catalog check (which series are new) and the buffer (can two
    chunks hold the same series and time, i.e. must reads deduplicate?). Row order
    carries no meaning.
    """

    tag_names: TagNames
    rows: list[TagRow]
    min_time: Sequence[int]
    max_time: Sequence[int]
    # No (series, time) appears twice within the table itself.
    distinct_times: bool


def tag_names_of(table: pa.Table) -> TagNames:
    return tuple(sorted(f.name for f in table.schema if column_kind(f) == KIND_TAG))


def summarize(table: pa.Table) -> SeriesSummary:
    return summarize_and_encode(table)[0]


def summarize_and_encode(table: pa.Table) -> tuple[SeriesSummary, dict[str, pa.Array]]:
    """The table's summary, and its tag columns dictionary-encoded (``pc.dictionary_encode``
    of each; empty when the group-by path was taken)."""
    tags = tag_names_of(table)
    n = table.num_rows
    if not tags or n == 0:
        return _summarize_grouped(table, tags), {}
    encoded: dict[str, pa.Array] = {}
    key = np.zeros(n, np.int64)
    scale = 1
    codes_of: dict[str, np.ndarray] = {}
    for tag in tags:
        column = table.column(tag)
        values = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        dictionary = pc.dictionary_encode(values)
        encoded[tag] = dictionary
        indices = dictionary.indices
        if indices.null_count:
            indices = pc.fill_null(indices, -1)
        # 0 for an absent tag, 1.. for the values.
        codes = indices.to_numpy(zero_copy_only=False).astype(np.int64) + 1
        cardinality = len(dictionary.dictionary) + 1
        if scale > _CODE_LIMIT // cardinality:
            return _summarize_grouped(table, tags), encoded
        key += codes * scale
        scale *= cardinality
        codes_of[tag] = codes
    column = table.column(TIME_COLUMN)
    times = (column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()).to_numpy()
    order = np.lexsort((times, key))
    sorted_key, sorted_times = key[order], times[order]
    same_series = sorted_key[1:] == sorted_key[:-1]
    first = np.flatnonzero(np.concatenate(([True], ~same_series)))
    last = np.concatenate((first[1:], [n])) - 1
    repeats = bool((same_series & (sorted_times[1:] == sorted_times[:-1])).any())
    representative = order[first]
    columns = [
        _pick(encoded[tag].dictionary.to_pylist(), codes_of[tag][representative])
        for tag in tags
    ]
    summary = SeriesSummary(
        tag_names=tags,
        rows=list(zip(*columns, strict=True)),
        min_time=int64_array(sorted_times[first]),
        max_time=int64_array(sorted_times[last]),
        distinct_times=not repeats,
    )
    return summary, encoded


def _pick(values: list[str], codes: np.ndarray) -> Sequence[str | None]:
    """``[None, *values][code]`` for each code, in C (one shared ``str`` per value)."""
    choices: list[str | None] = [None, *values]
    if len(codes) == 1:
        return [choices[int(codes[0])]]
    picked: tuple[str | None, ...] = itemgetter(*codes.tolist())(choices)
    return picked


def _summarize_grouped(table: pa.Table, tags: TagNames) -> SeriesSummary:
    aggregates = [(TIME_COLUMN, "min"), (TIME_COLUMN, "max"), (TIME_COLUMN, "count_distinct")]
    grouped = table.select([*tags, TIME_COLUMN]).group_by(list(tags), use_threads=False)
    result = grouped.aggregate(aggregates)
    distinct = result.column(f"{TIME_COLUMN}_count_distinct")
    columns = [result.column(t).to_pylist() for t in tags]
    rows: list[TagRow] = list(zip(*columns, strict=True)) if tags else [()] * result.num_rows
    return SeriesSummary(
        tag_names=tags,
        rows=rows,
        min_time=int64_array(result.column(f"{TIME_COLUMN}_min").to_numpy()),
        max_time=int64_array(result.column(f"{TIME_COLUMN}_max").to_numpy()),
        distinct_times=pc.sum(distinct).as_py() == table.num_rows,
    )


def int64_array(values: Sequence[int] | np.ndarray) -> array[int]:
    """Times as a compact ``array('q')`` (8 bytes each, not a list of Python ints)."""
    if isinstance(values, array):
        return values
    if isinstance(values, np.ndarray):
        out = array("q")
        out.frombytes(values.astype("<i8", copy=False).tobytes())
        return out
    return array("q", values)
