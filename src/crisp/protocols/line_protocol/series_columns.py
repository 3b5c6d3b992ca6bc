"""A body's distinct ``measurement,tags`` texts → columns, parsed with Arrow kernels.

The vectorised parser needs, per distinct series key text: whether it is a plain valid
key, its measurement, which tag keys it has and each tag's value. Parsing the keys one
by one in Python and holding an object per series cost ~20-30 µs a key, most of a
body's time when its series are many and new (4,000 hosts × 16 endpoints: every body
a different slice of 128 k series). Here each step is one kernel over all the keys,
and tag columns are built with ``take`` from per-tag value arrays.

Validity is exactly ``line_syntax._parse_series_text``'s (the per-line path's): a
non-empty measurement, then ``key=value`` pairs with a non-empty key and value and no
second ``=``, at most ``max_tags`` pairs, no key ``time``, no key twice. A key that is
not valid here sends its lines to the per-line parser, which names the problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import TIME_COLUMN

# Lines are split on newlines first, so no key text can hold one: a safe separator.
_SEPARATOR = "\n"


@dataclass(frozen=True)
class SeriesColumns:
    """Per distinct key text (the positions of the array it was parsed from)."""

    ok: pa.BooleanArray
    measurement: pa.Int64Array  # index into ``measurement_names``; -1 when not ok
    measurement_names: list[str]
    layout: pa.Int64Array  # index into ``layouts``; -1 when not ok
    layouts: list[tuple[str, ...]]  # tag keys, sorted
    tag_values: dict[str, pa.Array]  # per tag key: its value in each key, null if absent

    def __len__(self) -> int:
        return len(self.ok)

    def values_of(self, tag: str) -> pa.Array:
        found = self.tag_values.get(tag)
        return pa.nulls(len(self.ok), pa.string()) if found is None else found

    def take(self, indices: pa.Array) -> SeriesColumns:
        """The keys at ``indices``, codes and names unchanged."""
        return SeriesColumns(
            ok=self.ok.take(indices),
            measurement=self.measurement.take(indices),
            measurement_names=self.measurement_names,
            layout=self.layout.take(indices),
            layouts=self.layouts,
            tag_values={name: values.take(indices) for name, values in self.tag_values.items()},
        )


def parse_series_columns(texts: pa.Array, max_tags: int) -> SeriesColumns:
    """Parse every text of ``texts`` (distinct key texts, no backslash) at once."""
    n = len(texts)
    parts = pc.split_pattern(texts, ",")
    n_pairs = pc.subtract(pc.list_value_length(parts), 1)
    measurement_text = pc.list_element(parts, 0)
    pairs = pc.list_slice(parts, 1)
    pair_text = pc.list_flatten(pairs)
    pair_key_index = pc.list_parent_indices(pairs)

    single_equals = pc.equal(pc.count_substring(pair_text, "="), 1)
    # Pairs without exactly one "=" are bad anyway; a stand-in keeps the split regular.
    kv = pc.split_pattern(pc.if_else(single_equals, pair_text, "?=?"), "=")
    tag_key = pc.list_element(kv, 0)
    tag_value = pc.list_element(kv, 1)
    non_empty = pc.and_(
        pc.greater(pc.binary_length(tag_key), 0), pc.greater(pc.binary_length(tag_value), 0)
    )
    pair_ok = pc.and_(single_equals, non_empty)
    bad_keys = pc.filter(pair_key_index, pc.invert(pair_ok))
    ok = pc.and_(
        pc.greater(pc.binary_length(measurement_text), 0),
        pc.invert(pc.is_in(pa.array(np.arange(n, dtype=np.int64)), value_set=bad_keys)),
    )

    offsets = pc.cumulative_sum(n_pairs)
    key_lists = pa.ListArray.from_arrays(
        pa.concat_arrays([pa.array([0], pa.int32()), pc.cast(offsets, pa.int32())]), tag_key
    )
    layout_text = pc.dictionary_encode(pc.binary_join(key_lists, _SEPARATOR))
    layouts: list[tuple[str, ...]] = []
    layout_ids: dict[tuple[str, ...], int] = {}
    code_of_text: list[int] = []
    for text in layout_text.dictionary.to_pylist():
        keys = tuple(sorted(text.split(_SEPARATOR))) if text else ()
        valid = (
            len(keys) <= max_tags
            and TIME_COLUMN not in keys
            and len(set(keys)) == len(keys)
        )
        if not valid:
            code_of_text.append(-1)
            continue
        code_of_text.append(layout_ids.setdefault(keys, len(layout_ids)))
        if len(layouts) < len(layout_ids):
            layouts.append(keys)
    layout = pc.take(pa.array(code_of_text, pa.int64()), layout_text.indices)
    ok = pc.and_(ok, pc.greater_equal(layout, 0))
    layout = pc.if_else(ok, layout, -1)

    measurements = pc.dictionary_encode(pc.if_else(ok, measurement_text, None))
    measurement = pc.fill_null(pc.cast(measurements.indices, pa.int64()), -1)

    tag_values: dict[str, pa.Array] = {}
    positions = pa.array(np.arange(n, dtype=np.int64))
    for name in sorted({key for keys in layouts for key in keys}):
        has = pc.equal(tag_key, name)
        holders = pc.filter(pair_key_index, has)
        # Each valid key holds the tag once; invalid keys' values are never read.
        tag_values[name] = pc.take(
            pc.filter(tag_value, has), pc.index_in(positions, value_set=holders)
        )
    return SeriesColumns(
        ok=ok,
        measurement=measurement,
        measurement_names=measurements.dictionary.to_pylist(),
        layout=layout,
        layouts=layouts,
        tag_values=tag_values,
    )
