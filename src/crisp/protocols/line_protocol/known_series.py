"""Series keys the vectorised parser has seen, kept across bodies, in columns.

A server sees the same series in every write (each host reports every interval), so a
body's distinct keys are looked up here first and only the unknown ones are parsed
(``series_columns``). At 4,000 hosts × 10 tags the lookup costs ~1-2 ms a body where
parsing the keys again cost ~25. Entries are the parse result of a key text for one
tag limit; the store is bounded by an estimate of its memory and simply cleared when
full (re-parsing is cheap). Bodies made mostly of keys never seen before are parsed and
not stored once the store is full (a series churn, or more series than fit), so they
cannot thrash it.

Thread-safe: request threads share one instance. Lookups and additions take the lock
briefly; the stored arrays are immutable and replaced, never changed, so a body keeps
using the arrays it took.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.protocols.line_protocol.series_columns import SeriesColumns, parse_series_columns

# A body whose keys are mostly new is not stored when that would overflow the store.
_STORE_WHEN_KNOWN_AT_LEAST = 0.5


def _entry_cost(key: str) -> int:
    """Estimated bytes a stored key holds: its text in the index and in the tag columns."""
    return 2 * len(key) + 64


@dataclass(frozen=True)
class _Rows:
    """Every stored key's parse result, by row; codes index the store's name lists."""

    ok: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    measurement: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    layout: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tags: dict[str, pa.Array] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ok)


def _global_codes(local: pa.Array, names: list[Any], index: dict[Any, int]) -> np.ndarray:
    """``local`` codes into ``names`` as codes of the store's ``index`` (extended; its
    values number the names in order of arrival), -1 kept."""
    mapping = [index.setdefault(name, len(index)) for name in names]
    codes = local.to_numpy(zero_copy_only=False)
    return np.array([*mapping, -1], np.int64)[np.where(codes >= 0, codes, len(names))]


def _local(codes: np.ndarray, names: list[Any]) -> tuple[pa.Array, list[Any]]:
    """Global ``codes`` renumbered 0.. over the names a body uses (-1 kept)."""
    used = np.unique(codes[codes >= 0])
    renumber = np.full(len(names) + 1, -1, np.int64)
    renumber[used] = np.arange(len(used))
    return pa.array(renumber[codes]), [names[i] for i in used]


class KnownSeries:
    def __init__(self, max_bytes: int = 32 * 2**20) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._clear_locked(None)

    def _clear_locked(self, max_tags: int | None) -> None:
        self._max_tags = max_tags
        self._rows = _Rows()
        self._ids: dict[str, int] = {}
        self._bytes = 0
        self._measurements: list[str] = []
        self._measurement_index: dict[str, int] = {}
        self._layouts: list[tuple[str, ...]] = []
        self._layout_index: dict[tuple[str, ...], int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def size_bytes(self) -> int:
        """Estimated bytes the stored keys hold."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._clear_locked(None)

    def columns(self, texts: pa.Array, max_tags: int) -> SeriesColumns:
        """What ``parse_series_columns(texts, max_tags)`` returns, from the store where
        it can."""
        keys = texts.to_pylist()
        with self._lock:
            if self._max_tags != max_tags:
                # Entries depend on the tag limit; a process uses one limit in practice.
                self._clear_locked(max_tags)
            get = self._ids.get
            ids = [get(key, -1) for key in keys]
            # Replaced, never changed, by _add_locked: consistent with ``ids`` after
            # the lock, whatever other threads add or clear meanwhile.
            rows = self._rows
            measurements, layouts = self._measurements, self._layouts
        missing = [i for i, row in enumerate(ids) if row < 0]
        if not missing:
            return self._gather(rows, np.array(ids, np.int64), measurements, layouts)
        cost = sum(_entry_cost(keys[i]) for i in missing)
        mostly_new = len(missing) > len(keys) * (1 - _STORE_WHEN_KNOWN_AT_LEAST)
        if mostly_new and self._bytes + cost > self.max_bytes:
            # More series than fit, or churn: storing would only evict what is reused.
            return parse_series_columns(texts, max_tags)
        parsed = parse_series_columns(pc.take(texts, pa.array(missing)), max_tags)
        with self._lock:
            if self._max_tags == max_tags:
                self._add_locked([keys[i] for i in missing], parsed)
            get = self._ids.get
            ids = [get(key, -1) for key in keys]
            rows = self._rows
            measurements, layouts = self._measurements, self._layouts
        if min(ids, default=0) < 0:
            # Cleared to make room (or for another limit): parse this body's keys instead.
            return parse_series_columns(texts, max_tags)
        return self._gather(rows, np.array(ids, np.int64), measurements, layouts)

    def stored_columns(self, texts: pa.Array, max_tags: int) -> SeriesColumns | None:
        """``columns(texts, max_tags)`` when every text is stored, else None (nothing is
        parsed or added). ``texts`` may repeat (one per line): the result then has a
        row per text, without a distinct step first."""
        keys = texts.to_pylist()
        with self._lock:
            if self._max_tags != max_tags:
                return None
            get = self._ids.get
            ids = [get(key, -1) for key in keys]
            rows = self._rows
            measurements, layouts = self._measurements, self._layouts
        if min(ids, default=0) < 0:
            return None
        return self._gather(rows, np.array(ids, np.int64), measurements, layouts)

    def _add_locked(self, keys: list[str], parsed: SeriesColumns) -> None:
        fresh = [i for i, key in enumerate(keys) if key not in self._ids]  # others raced us
        if len(fresh) < len(keys):
            keys = [keys[i] for i in fresh]
            parsed = parsed.take(pa.array(fresh, pa.int64()))
        cost = sum(_entry_cost(key) for key in keys)
        if self._bytes + cost > self.max_bytes:
            self._clear_locked(self._max_tags)
            if cost > self.max_bytes:
                return
        measurement = _global_codes(
            parsed.measurement, parsed.measurement_names, self._measurement_index
        )
        layout = _global_codes(parsed.layout, parsed.layouts, self._layout_index)
        self._measurements = list(self._measurement_index)
        self._layouts = list(self._layout_index)
        old = self._rows
        tags = {}
        for name in set(old.tags) | set(parsed.tag_values):
            before = old.tags.get(name, pa.nulls(len(old), pa.string()))
            tags[name] = pa.concat_arrays([before, parsed.values_of(name)])
        self._rows = _Rows(
            ok=np.concatenate([old.ok, parsed.ok.to_numpy(zero_copy_only=False)]),
            measurement=np.concatenate([old.measurement, measurement]),
            layout=np.concatenate([old.layout, layout]),
            tags=tags,
        )
        first = len(old)
        for offset, key in enumerate(keys):
            self._ids[key] = first + offset
        self._bytes += cost

    @staticmethod
    def _gather(
        rows: _Rows, ids: np.ndarray, measurements: list[str], layouts: list[tuple[str, ...]]
    ) -> SeriesColumns:
        measurement, measurement_names = _local(rows.measurement[ids], measurements)
        layout, used_layouts = _local(rows.layout[ids], layouts)
        indices = pa.array(ids)
        names = {name for keys in used_layouts for name in keys}
        return SeriesColumns(
            ok=pa.array(rows.ok[ids]),
            measurement=measurement,
            measurement_names=measurement_names,
            layout=layout,
            layouts=used_layouts,
            tag_values={name: rows.tags[name].take(indices) for name in sorted(names)},
        )


#: The instance the vectorised parser uses unless its ``LineParser`` was given another.
KNOWN_SERIES = KnownSeries()
