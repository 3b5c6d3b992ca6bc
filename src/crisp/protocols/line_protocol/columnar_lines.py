"""The vectorised path: the common lines of a body parsed by Arrow kernels, in bulk.

A line is *common* when it has no backslash, no space, comma or equals sign inside a
quoted string, one space before the fields and at most one before the timestamp: the
shape of nearly all generated traffic (telegraf, TSBS, client libraries). For those
lines the body is split into lines, sections, field items, keys and values with
whole-array kernels; the distinct ``measurement,tags`` texts are parsed together by
kernels too (``series_columns``; keys seen before come from ``known_series``), and
each distinct field value text is validated by regular expression and cast once. No
Python object is created per value or per series; tag columns are taken from per-tag
value arrays. When every line names the same field keys in the same order (generated
traffic), field columns are cut out by position instead of by sorting.

Any line that is not common, or that any vectorised check rejects, goes to the
per-line parsers, which produce the error reasons. If two lines disagree on a
column's kind (type conflict, tag/field clash) the result depends on line order, so
this path gives up and the caller parses the body line by line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import (
    FieldType,
    LineError,
    MeasurementBatch,
    ParseResult,
    PointBatch,
    measurement_schema,
)
from crisp.protocols.line_protocol.line_syntax import ParsedLine, SeriesKey
from crisp.protocols.line_protocol.series_columns import SeriesColumns
from crisp.protocols.line_protocol.single_line import SURROUNDING_WHITESPACE, LineParser
from crisp.protocols.line_protocol.values import INT64_MAX, UINT64_MAX

_INTEGER_PATTERN = r"^-?[0-9]{1,19}i$"
_UNSIGNED_PATTERN = r"^[0-9]{1,20}u$"
_TIME_PATTERN = r"^-?[0-9]{1,19}$"
_INT64_DIGITS = str(INT64_MAX)
_UINT64_DIGITS = str(UINT64_MAX)
_FLOAT_PATTERN = r"^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_TRUE = pa.array(["t", "T", "true", "True", "TRUE"])
_FALSE = pa.array(["f", "F", "false", "False", "FALSE"])

_TYPE_CODES = (
    FieldType.FLOAT,
    FieldType.INTEGER,
    FieldType.UNSIGNED,
    FieldType.BOOLEAN,
    FieldType.STRING,
)
# Without backslashes a string cannot contain a quote, so a quoted value that held a
# separator was cut into pieces that fail this pattern, and its line goes per-line.
_STRING_PATTERN = r'^"[^"]*"$'

_NO_TYPE = -1

ColumnKind = FieldType | None  # None: a tag


def _arange(length: int) -> pa.Array:
    ones = pa.repeat(pa.scalar(1, pa.int64()), length)
    return pc.subtract(pc.cumulative_sum(ones), 1)


def _within(digits: pa.Array, limit: str) -> pa.Array:
    """Whether unsigned decimal texts are at most ``limit``, without casting them.

    Keeping out-of-range values away from ``cast`` is what makes the casts infallible;
    among texts as long as ``limit``, byte order is numeric order. The one value this
    refuses in range (-2**63) takes the per-line path.
    """
    length = pc.utf8_length(digits)
    return pc.or_(
        pc.less(length, len(limit)),
        pc.and_(pc.equal(length, len(limit)), pc.less_equal(digits, limit)),
    )


def _unsigned_part(texts: pa.Array) -> pa.Array:
    return pc.utf8_ltrim(texts, characters="-")


def _starts(lists: pa.Array) -> pa.Array:
    """Index in ``lists.values`` of each list's first element.

    ``take`` at offsets is much cheaper than ``list_element`` on freshly split arrays.
    """
    return lists.offsets.slice(0, len(lists))


def _all(*masks: pa.Array) -> pa.Array:
    return reduce(pc.and_, masks)


def _any(*masks: pa.Array) -> pa.Array:
    return reduce(pc.or_, masks)


@dataclass
class _FieldItems:
    """Every ``key=value`` item of the candidate lines, flattened."""

    line: pa.Array  # candidate-local line of each item
    key: pa.Array  # index into ``key_names``
    key_names: list[str]
    value: pa.Array  # index into the value texts that were typed
    type_code: pa.Array  # index into _TYPE_CODES, or _NO_TYPE
    bad: pa.Array  # item the vectorised checks cannot accept
    typed: dict[FieldType, pa.Array]  # each typed text cast to each type (junk if not)
    per_line: pa.Array  # number of items of each candidate line
    # k when every candidate line names the same k distinct keys in the same order (the
    # shape of generated traffic): item i is then key i % k of line i // k. 0 otherwise.
    uniform_width: int


def _uniform_width(per_line: pa.Array, keys: pa.Array) -> int:
    """``_FieldItems.uniform_width`` of lines with ``per_line`` items, keyed ``keys``."""
    if len(per_line) == 0:
        return 0
    bounds = pc.min_max(per_line).as_py()
    width = int(bounds["min"])
    if width != bounds["max"]:
        return 0
    codes = keys.to_numpy(zero_copy_only=False).reshape(len(per_line), width)
    first = codes[0]
    if len(np.unique(first)) != width or not bool((codes == first).all()):
        return 0
    return width


def _type_values(values: pa.Array) -> tuple[pa.Array, pa.Array, dict[FieldType, pa.Array]]:
    """Type code, rejection flag and the value cast to each type, for each value text."""
    without_suffix = pc.utf8_slice_codeunits(values, 0, -1)
    is_int = pc.and_(
        pc.match_substring_regex(values, _INTEGER_PATTERN),
        _within(_unsigned_part(without_suffix), _INT64_DIGITS),
    )
    is_uint = pc.and_(
        pc.match_substring_regex(values, _UNSIGNED_PATTERN),
        _within(without_suffix, _UINT64_DIGITS),
    )
    is_true = pc.is_in(values, value_set=_TRUE)
    is_bool = pc.or_(is_true, pc.is_in(values, value_set=_FALSE))
    is_float = pc.match_substring_regex(values, _FLOAT_PATTERN)
    is_string = pc.match_substring_regex(values, _STRING_PATTERN)
    type_code = pc.if_else(
        is_int,
        1,
        pc.if_else(
            is_uint,
            2,
            pc.if_else(is_bool, 3, pc.if_else(is_float, 0, pc.if_else(is_string, 4, _NO_TYPE))),
        ),
    )
    floats = pc.cast(pc.if_else(is_float, values, "0"), pa.float64())
    typed = {
        FieldType.FLOAT: floats,
        FieldType.INTEGER: pc.cast(pc.if_else(is_int, without_suffix, "0"), pa.int64()),
        FieldType.UNSIGNED: pc.cast(pc.if_else(is_uint, without_suffix, "0"), pa.uint64()),
        FieldType.BOOLEAN: is_true,
        FieldType.STRING: pc.utf8_slice_codeunits(values, 1, -1),
    }
    bad = _any(
        pc.equal(type_code, _NO_TYPE),
        pc.and_(is_float, pc.is_inf(floats)),  # "1e999": the per-line path explains
    )
    return type_code, bad, typed


_SAMPLE_SIZE = 2048


def _distinct_values(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Value texts to validate and cast, and each item's index among them.

    Integer and boolean metrics repeat a lot (counters at rest, flags), so checking
    each distinct text once pays; float readings rarely repeat, and hashing them would
    only add a pass. A sample decides.
    """
    sample = values.slice(0, _SAMPLE_SIZE)
    if pc.count_distinct(sample).as_py() * 2 <= len(sample):
        encoded = pc.dictionary_encode(values)
        return encoded.dictionary, encoded.indices
    return values, _arange(len(values))


def _split_items(field_text: pa.Array) -> _FieldItems:
    items = pc.split_pattern(field_text, ",")
    per_line = pc.list_value_length(items)
    parent = pc.list_parent_indices(items)
    key_value = pc.split_pattern(pc.list_flatten(items), "=")
    well_formed = pc.equal(pc.list_value_length(key_value), 2)
    starts = _starts(key_value)
    keys = pc.take(key_value.values, starts)
    # Items without exactly one "=" are rejected below; any in-bounds index will do.
    values = pc.take(key_value.values, pc.if_else(well_formed, pc.add(starts, 1), starts))
    bad = pc.invert(well_formed)
    encoded_keys = pc.dictionary_encode(keys)
    key_names: list[str] = encoded_keys.dictionary.to_pylist()
    is_time = pa.array([name == "time" for name in key_names], pa.bool_())
    distinct, value_index = _distinct_values(values)
    type_code, bad_value, typed = _type_values(distinct)
    bad = _any(
        bad,
        pc.equal(pc.utf8_length(keys), 0),
        pc.equal(pc.utf8_length(values), 0),
        pc.take(is_time, encoded_keys.indices),
        pc.take(bad_value, value_index),
    )
    return _FieldItems(
        line=parent,
        key=encoded_keys.indices,
        key_names=key_names,
        value=value_index,
        type_code=pc.take(type_code, value_index),
        bad=bad,
        typed=typed,
        per_line=per_line,
        uniform_width=_uniform_width(per_line, encoded_keys.indices),
    )


def _lines_repeating_a_key(items: _FieldItems) -> pa.Array:
    """Lines naming a field twice; the per-line path applies "last one wins" to them.

    A stable sort by key keeps each key's items in line order, so a repeat within a
    line shows up as two neighbours with the same key and the same line.
    """
    if items.uniform_width:
        return pa.array([], pa.int64())  # every line has the same distinct keys
    order = pc.sort_indices(items.key)
    keys = pc.take(items.key, order)
    lines = pc.take(items.line, order)
    count = len(order)
    if count < 2:
        return pa.array([], pa.int64())
    repeat = pc.and_(
        pc.equal(keys.slice(1), keys.slice(0, count - 1)),
        pc.equal(lines.slice(1), lines.slice(0, count - 1)),
    )
    return pc.filter(lines.slice(1), repeat)


@dataclass
class _MeasurementParts:
    """One measurement's rows from both paths, before they become one table."""

    vector_rows: list[pa.Array] = field(default_factory=list)  # [global lines, series, times]
    python_rows: list[tuple[int, ParsedLine, int]] = field(default_factory=list)
    vector_fields: dict[str, tuple[pa.Array, pa.Array]] = field(default_factory=dict)


class _Vectorised:
    def __init__(self, text: str, line_parser: LineParser, default_time_ns: int) -> None:
        self.parser = line_parser
        self.default_time_ns = default_time_ns
        self.text = text
        self.raw = pc.list_flatten(pc.split_pattern(pa.array([text], pa.string()), "\n"))

    def run(self) -> ParseResult | None:
        limits = self.parser.limits
        lines = pc.utf8_trim(self.raw, characters=SURROUNDING_WHITESPACE)
        blank = pc.or_(pc.equal(pc.utf8_length(lines), 0), pc.starts_with(lines, "#"))
        # Sections: key, fields and an optional timestamp. Runs of spaces give empty
        # sections, which the field checks reject, sending the line to the per-line path.
        parts = pc.split_pattern(lines, " ")
        n_parts = pc.list_value_length(parts)
        conditions = [
            pc.invert(blank),
            pc.greater_equal(n_parts, 2),
            pc.less_equal(n_parts, 3),
            pc.less_equal(pc.binary_length(lines), limits.max_line_bytes),
        ]
        # One memchr-speed scan of the body spares a kernel pass per absent character.
        if "\\" in self.text:
            conditions.append(pc.invert(pc.match_substring(lines, "\\")))
        candidate = _all(*conditions)
        cand_index = pc.cast(pc.indices_nonzero(candidate), pa.int64())
        n_cand = len(cand_index)
        if n_cand == 0:
            return None
        starts = pc.take(_starts(parts), cand_index)
        has_time = pc.equal(pc.take(n_parts, cand_index), 3)
        key_text = pc.take(parts.values, starts)
        field_text = pc.take(parts.values, pc.add(starts, 1))
        time_text = pc.take(parts.values, pc.if_else(has_time, pc.add(starts, 2), starts))

        encoded_series = pc.dictionary_encode(key_text)
        series_of_line = encoded_series.indices
        series = self.parser.known_series.columns(encoded_series.dictionary, limits.max_tags)
        series_ok = series.ok

        time_ok = pc.and_(
            pc.match_substring_regex(time_text, _TIME_PATTERN),
            _within(_unsigned_part(time_text), _INT64_DIGITS),
        )
        raw_time = pc.cast(pc.if_else(time_ok, time_text, "0"), pa.int64())
        multiplier = self.parser.multiplier
        time_ok = pc.and_(time_ok, pc.less_equal(pc.abs(raw_time), INT64_MAX // multiplier))
        times = pc.if_else(has_time, pc.multiply(raw_time, multiplier), self.default_time_ns)

        items = _split_items(field_text)
        item_series = pc.take(series_of_line, items.line)
        bad_item_lines = [pc.filter(items.line, items.bad)]
        bad_item_lines.append(_lines_repeating_a_key(items))
        bad_item_lines.append(self._tag_field_clashes(series, items, item_series))
        bad_lines = pa.concat_arrays(bad_item_lines)
        if len(bad_lines):
            line_has_bad_item = pc.is_in(_arange(n_cand), value_set=bad_lines)
        else:
            line_has_bad_item = pa.repeat(pa.scalar(False), n_cand)
        too_many_fields = pc.greater(items.per_line, limits.max_fields)
        good = pc.invert(
            _any(
                pc.invert(pc.take(series_ok, series_of_line)),
                pc.and_(has_time, pc.invert(time_ok)),
                line_has_bad_item,
                too_many_fields,
            )
        )

        good_global = pc.filter(cand_index, good)
        rest = pc.indices_nonzero(
            pc.and_(
                pc.invert(blank),
                pc.invert(pc.is_in(_arange(len(lines)), value_set=good_global)),
            )
        )
        errors, python_rows = self._parse_rest(rest)
        return self._assemble(
            series, series_of_line, cand_index, good, times, items, item_series, python_rows, errors
        )

    def _tag_field_clashes(
        self, series: SeriesColumns, items: _FieldItems, item_series: pa.Array
    ) -> pa.Array:
        """Candidate lines where a field key equals one of the line's tag keys."""
        # Series of one measurement nearly always share their tag keys: few layouts.
        if all(set(keys).isdisjoint(items.key_names) for keys in series.layouts):
            return pa.array([], pa.int64())  # the usual case, without a per-pair loop
        n_keys = len(items.key_names)
        pair = pc.add(pc.multiply(pc.cast(item_series, pa.int64()), n_keys), items.key)
        layout_of = series.layout.to_pylist()
        clashing = []
        for code in pc.unique(pair).to_pylist():
            layout = layout_of[code // n_keys]
            name = items.key_names[code % n_keys]
            if layout >= 0 and name in series.layouts[layout]:
                clashing.append(code)
        if not clashing:
            return pa.array([], pa.int64())
        return pc.filter(items.line, pc.is_in(pair, value_set=pa.array(clashing, pa.int64())))

    def _parse_rest(self, rest: pa.Array) -> tuple[list[LineError], list[tuple[int, ParsedLine]]]:
        errors: list[LineError] = []
        rows: list[tuple[int, ParsedLine]] = []
        indices = rest.to_pylist()
        for index, raw_line in zip(indices, pc.take(self.raw, rest).to_pylist(), strict=True):
            parsed = self.parser.parse(index + 1, raw_line)
            if isinstance(parsed, LineError):
                errors.append(parsed)
            elif parsed is not None:
                rows.append((index, parsed))
        return errors, rows

    def _assemble(
        self,
        series: SeriesColumns,
        series_of_line: pa.Array,
        cand_index: pa.Array,
        good: pa.Array,
        times: pa.Array,
        items: _FieldItems,
        item_series: pa.Array,
        python_rows: list[tuple[int, ParsedLine]],
        errors: list[LineError],
    ) -> ParseResult | None:
        kinds: dict[tuple[str, str], set[ColumnKind]] = defaultdict(set)
        measurement_ids = {name: i for i, name in enumerate(series.measurement_names)}
        for _, parsed in python_rows:
            measurement_ids.setdefault(parsed.series.measurement, len(measurement_ids))
        names = list(measurement_ids)
        series_measurement = series.measurement

        # A line with an unparsable key is never good: good series have both codes.
        good_series = pc.unique(pc.filter(series_of_line, good))
        n_layouts = max(1, len(series.layouts))
        tag_sets = pc.unique(
            pc.add(
                pc.multiply(pc.take(series.measurement, good_series), n_layouts),
                pc.take(series.layout, good_series),
            )
        )
        for code in tag_sets.to_pylist():
            measurement, layout = divmod(code, n_layouts)
            for tag in series.layouts[layout]:
                kinds[names[measurement], tag].add(None)
        item_good = pc.take(good, items.line)
        n_keys = len(items.key_names)
        group = pc.add(pc.multiply(pc.take(series_measurement, item_series), n_keys), items.key)
        n_types = len(_TYPE_CODES)
        group_type = pc.add(pc.multiply(group, n_types), pc.cast(items.type_code, pa.int64()))
        for code in pc.unique(pc.filter(group_type, item_good)).to_pylist():
            group_code, type_code = divmod(code, n_types)
            measurement, key_index = divmod(group_code, n_keys)
            kinds[names[measurement], items.key_names[key_index]].add(_TYPE_CODES[type_code])
        for _, parsed in python_rows:
            for tag, _ in parsed.series.tags:
                kinds[parsed.series.measurement, tag].add(None)
            for key_name, (field_type, _) in parsed.fields.items():
                kinds[parsed.series.measurement, key_name].add(field_type)
        if any(len(kind) > 1 for kind in kinds.values()):
            return None

        parts = [_MeasurementParts() for _ in names]
        line_measurement = pc.take(series_measurement, series_of_line)
        good_lines = pc.indices_nonzero(good)
        good_measurement = pc.take(line_measurement, good_lines)
        local_lines: dict[int, pa.Array] = {}
        for measurement in pc.unique(good_measurement).to_pylist():
            local = pc.filter(good_lines, pc.equal(good_measurement, measurement))
            local_lines[measurement] = local
            parts[measurement].vector_rows = [
                pc.take(cand_index, local),
                pc.take(series_of_line, local),
                pc.take(times, local),
            ]
        for index, parsed in python_rows:
            time_ns = self.default_time_ns if parsed.time_ns is None else parsed.time_ns
            parts[measurement_ids[parsed.series.measurement]].python_rows.append(
                (index, parsed, time_ns)
            )
        if items.uniform_width:
            self._uniform_vector_fields(parts, local_lines, items, cand_index)
        else:
            self._group_vector_fields(parts, group, item_good, items, cand_index)

        tables: list[tuple[int, MeasurementBatch]] = []
        for measurement, part in enumerate(parts):
            built = self._table(names[measurement], part, series, kinds)
            if built is not None:
                tables.append(built)
        batch = PointBatch()
        for _, measurement_batch in sorted(tables, key=lambda pair: pair[0]):
            batch.add(measurement_batch)
        errors.sort(key=lambda error: error.line_number)
        return ParseResult(batch, errors)

    def _uniform_vector_fields(
        self,
        parts: list[_MeasurementParts],
        local_lines: dict[int, pa.Array],
        items: _FieldItems,
        cand_index: pa.Array,
    ) -> None:
        """``_group_vector_fields`` for uniform items: positions by arithmetic, no sort."""
        width = items.uniform_width
        for measurement, local in local_lines.items():
            lines = pc.take(cand_index, local)
            first_item = pc.multiply(pc.cast(local, pa.int64()), width)
            for key_index in range(width):
                members = pc.add(first_item, key_index)
                type_code = items.type_code[members[0].as_py()].as_py()
                distinct = items.typed[_TYPE_CODES[type_code]]
                key = items.key[key_index].as_py()
                parts[measurement].vector_fields[items.key_names[key]] = (
                    lines,
                    pc.take(distinct, pc.take(items.value, members)),
                )

    def _group_vector_fields(
        self,
        parts: list[_MeasurementParts],
        group: pa.Array,
        item_good: pa.Array,
        items: _FieldItems,
        cand_index: pa.Array,
    ) -> None:
        """Per (measurement, field key): global line and value of each good item."""
        good_items = pc.indices_nonzero(item_good)
        if len(good_items) == 0:
            return
        good_group = pc.take(group, good_items)
        order = pc.take(good_items, pc.sort_indices(good_group))
        runs = pc.run_end_encode(pc.take(group, order))
        item_lines = pc.take(cand_index, items.line)
        n_keys = len(items.key_names)
        start = 0
        for end, code in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
            members = order.slice(start, end - start)
            start = end
            measurement, key_index = divmod(code, n_keys)
            type_code = pc.take(items.type_code, members.slice(0, 1))[0].as_py()
            distinct = items.typed[_TYPE_CODES[type_code]]
            values = pc.take(distinct, pc.take(items.value, members))
            parts[measurement].vector_fields[items.key_names[key_index]] = (
                pc.take(item_lines, members),
                values,
            )

    def _table(
        self,
        name: str,
        part: _MeasurementParts,
        series: SeriesColumns,
        kinds: dict[tuple[str, str], set[ColumnKind]],
    ) -> tuple[int, MeasurementBatch] | None:
        python_rows = part.python_rows
        if not part.vector_rows and not python_rows:
            return None
        if part.vector_rows:
            vector_lines, vector_series, vector_times = part.vector_rows
        else:
            vector_lines = pa.array([], pa.int64())
            vector_series = pa.array([], pa.int32())
            vector_times = pa.array([], pa.int64())
        row_lines = pa.concat_arrays(
            [vector_lines, pa.array([row[0] for row in python_rows], pa.int64())]
        )
        order = pc.sort_indices(row_lines)
        sorted_lines = pc.take(row_lines, order)
        time_column = pc.take(
            pa.concat_arrays([vector_times, pa.array([row[2] for row in python_rows], pa.int64())]),
            order,
        )

        # Tag values of the vector rows come from each distinct series, not each row.
        used_layouts = pc.unique(pc.take(series.layout, vector_series)).to_pylist()
        python_series = [row[1].series for row in python_rows]
        key_tuples = {series.layouts[layout] for layout in used_layouts}
        key_tuples |= {key.tag_keys for key in python_series}
        tag_keys = sorted({tag for keys in key_tuples for tag in keys})
        columns: dict[str, pa.Array] = {}
        for key, python_values in zip(
            tag_keys, _tag_value_lists(tag_keys, python_series), strict=True
        ):
            vector_part = pc.take(series.values_of(key), vector_series)
            python_part = pa.array(python_values, pa.string())
            columns[key] = pc.take(pa.concat_arrays([vector_part, python_part]), order)

        field_types: dict[str, FieldType] = {}
        python_fields: dict[str, tuple[list[int], list[object]]] = defaultdict(lambda: ([], []))
        for index, parsed, _ in python_rows:
            for key, (_, value) in parsed.fields.items():
                lines_of_key, values_of_key = python_fields[key]
                lines_of_key.append(index)
                values_of_key.append(value)
        for key in set(part.vector_fields) | set(python_fields):
            (field_type,) = kinds[name, key]
            assert field_type is not None
            field_types[key] = field_type
            key_lines = (
                [pa.array(python_fields[key][0], pa.int64())] if key in python_fields else []
            )
            key_values = (
                [pa.array(python_fields[key][1], field_type.arrow_type)]
                if key in python_fields
                else []
            )
            if key in part.vector_fields:
                key_lines.append(part.vector_fields[key][0])
                key_values.append(part.vector_fields[key][1])
            if len(key_lines) == 1 and key_lines[0].equals(sorted_lines):
                # Every row has the field, in row order (the usual case): no lookup.
                columns[key] = key_values[0]
                continue
            positions = pc.index_in(sorted_lines, value_set=pa.concat_arrays(key_lines))
            columns[key] = pc.take(pa.concat_arrays(key_values), positions)

        schema = measurement_schema(tag_keys, field_types)
        arrays = [time_column] + [columns[column.name] for column in list(schema)[1:]]
        table = pa.Table.from_arrays(arrays, schema=schema)
        return sorted_lines[0].as_py(), MeasurementBatch(name, table)


def _tag_value_lists(tag_keys: list[str], keys: list[SeriesKey]) -> Sequence[Sequence[str | None]]:
    """For each of ``tag_keys`` (sorted), its value in each series (``None``: absent)."""
    if not keys:
        return [[] for _ in tag_keys]
    first = keys[0].tag_keys
    if list(first) == tag_keys and all(key.tag_keys is first for key in keys):
        # The usual case, every series with every tag: a transpose, no lookups.
        return list(zip(*(key.tag_values for key in keys), strict=True))
    tags = [dict(key.tags) for key in keys]
    return [[t.get(tag) for t in tags] for tag in tag_keys]


def parse_vectorised(
    text: str, line_parser: LineParser, default_time_ns: int
) -> ParseResult | None:
    """The body's result, or ``None`` when line order matters and it must go line by line."""
    try:
        return _Vectorised(text, line_parser, default_time_ns).run()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # The checks before every cast are meant to make kernels infallible; should one
        # still refuse some input, the line-by-line path is the definition anyway.
        return None
