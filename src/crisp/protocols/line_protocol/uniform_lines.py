"""The fastest path: bodies whose every line has the same shape, parsed with NumPy.

Generated traffic (TSBS, telegraf's per-plugin batches, client libraries writing one
measurement) is made of lines that differ only in tag and field *values*: one
measurement, the same field keys in the same order, a timestamp on every line or on
none. For such a body the separators alone locate every part: the body is scanned
for newlines, for spaces and for ``=`` and ``,`` together, the positions of each
line's fields fall out by counting, integers and timestamps are read one digit place
at a time over all texts, floats are cut into one Arrow string array and cast, and
the series key texts are looked up in ``known_series`` as on the vectorised path
(parsed there when new). No Arrow list arrays are built and no Python object is
created per value.

The path is all or nothing: at the first thing it does not handle (an escape, a
quote, a comment, a blank line with spaces, a value out of range, a second
measurement, a different field order, a type that differs between lines ...) it
returns ``None`` and the body goes to the vectorised path, which handles and reports
everything. So it never produces an error of its own, and its result is exactly
what the line-by-line parser gives for the bodies it accepts (the fuzz tests compare).
"""

from __future__ import annotations

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
from crisp.protocols.line_protocol.single_line import LineParser
from crisp.protocols.line_protocol.values import INT64_MAX

_NEWLINE, _SPACE, _EQUALS, _COMMA, _HASH = (ord(c) for c in "\n =,#")
_MINUS, _ZERO, _I, _U = ord("-"), ord("0"), ord("i"), ord("u")
# Bytes that would need the per-line grammar somewhere in the body: escapes, quoted
# strings, and whitespace that stripping or splitting treats specially.
_IRREGULAR = (b"\\", b'"', b"\r", b"\t")
_BOOLEAN_INITIALS = np.array([ord(c) for c in "tTfF"], np.uint8)
_TRUE = pa.array(["t", "T", "true", "True", "TRUE"])
_FALSE = pa.array(["f", "F", "false", "False", "FALSE"])
_FLOAT_PATTERN = r"^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
# 19 decimal digits always fit in a uint64 (10**19 - 1 < 2**64).
_MAX_DIGITS = 19
_POWERS = 10 ** np.arange(_MAX_DIGITS - 1, -1, -1, dtype=np.uint64)


class _NotUniform(Exception):
    """The body is not one this path handles; the vectorised path takes it."""


def _require(condition: bool | np.bool_) -> None:
    if not condition:
        raise _NotUniform


def _decimal(buf: np.ndarray, start: np.ndarray, end: np.ndarray, *, signed: bool) -> np.ndarray:
    """int64 (``signed``) or uint64 values of the decimal texts ``buf[start:end]``.

    Reads each text from the right in a window as wide as the longest; refuses (raises
    ``_NotUniform``) empty texts, non-digits, more than 19 digits and values out of
    range, which the per-line path reports or handles (-2**63 included).
    """
    if signed:
        negative = buf[start] == _MINUS
        start = start + negative
    digits = end - start
    _require(digits.size == 0 or (digits.min() >= 1 and digits.max() <= _MAX_DIGITS))
    numbers = np.zeros(digits.shape, np.uint64)
    # Digit by digit from the right, each step over every text at once (a trailing
    # axis of digits would make NumPy's inner loops a few elements long). Positions
    # before a short text belong to its own line (a key always comes first) or, for
    # the body's first bytes, wrap around to its end: masked out either way.
    for place in range(int(digits.max()) if digits.size else 0):
        digit = (buf[end - 1 - place] - np.uint8(_ZERO)) * (digits > place)
        _require(digit.max() <= 9)
        numbers += digit.astype(np.uint64) * _POWERS[-1 - place]
    if not signed:
        return numbers
    _require(numbers.size == 0 or numbers.max() <= INT64_MAX)
    signed_numbers = numbers.astype(np.int64)
    return np.where(negative, -signed_numbers, signed_numbers)


def _texts(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> pa.StringArray:
    """The texts ``buf[start:end]`` as one Arrow string array (their bytes copied)."""
    start, end = start.ravel(), end.ravel()
    lengths = end - start
    offsets = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    # Position of every text byte: each text's start, then +1 per byte within it.
    positions = np.repeat(start - offsets[:-1], lengths) + np.arange(total)
    data = buf[positions]
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))


class _Body:
    def __init__(
        self, body: bytes, line_parser: LineParser, default_time_ns: int, min_newlines: int
    ) -> None:
        self.body = body
        self.buf = np.frombuffer(body, np.uint8)
        self.parser = line_parser
        self.default_time_ns = default_time_ns
        self.min_newlines = min_newlines

    def lines(self, newlines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end of every non-empty line; such lines begin and end with a
        character that needs no stripping and no line is a comment."""
        buf = self.buf
        _require(len(newlines) >= self.min_newlines)
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [len(buf)]))
        used = ends > starts
        if not used.all():
            starts, ends = starts[used], ends[used]
        _require(len(starts) > 0)
        first, last = buf[starts], buf[ends - 1]
        _require(not bool(((first == _SPACE) | (first == _HASH) | (last == _SPACE)).any()))
        _require(int((ends - starts).max()) <= self.parser.limits.max_line_bytes)
        return starts, ends

    def run(self) -> ParseResult:
        buf = self.buf
        # One pass per separator: sparse hits make flatnonzero cheap (a single pass
        # for all four, then split, measured slower).
        starts, ends = self.lines(np.flatnonzero(buf == _NEWLINE))
        n = len(starts)
        spaces = np.flatnonzero(buf == _SPACE)
        # Every space lies inside a line (lines neither start nor end with one); with
        # exactly one or two per line in total, each line's must fall within it.
        if len(spaces) == 2 * n:
            pairs = spaces.reshape(n, 2)
            key_end, fields_end = pairs[:, 0], pairs[:, 1]
            _require(bool((fields_end < ends).all()))
            has_time = True
        else:
            _require(len(spaces) == n)
            key_end, fields_end = spaces, ends
            has_time = False
        # Non-empty key and fields, in this line: then no line has more spaces than
        # its share, so none has fewer.
        _require(bool((key_end > starts).all() and (fields_end > key_end + 1).all()))

        field_types, field_names, field_arrays = self.fields(
            key_end + 1, fields_end, np.flatnonzero((buf == _EQUALS) | (buf == _COMMA))
        )
        times = self.times(fields_end + 1, ends) if has_time else None
        return self.assemble(starts, key_end, times, field_types, field_names, field_arrays)

    def fields(
        self, first: np.ndarray, end: np.ndarray, separators: np.ndarray
    ) -> tuple[list[FieldType], list[str], list[pa.Array]]:
        """Typed field columns of the field sections ``body[first:end]``; ``separators``
        are the positions of every "=" and "," of the body."""
        buf = self.buf
        lo, hi = np.searchsorted(separators, first), np.searchsorted(separators, end)
        count = int(hi[0] - lo[0])
        _require(count % 2 == 1 and bool((hi - lo == count).all()))
        width = (count + 1) // 2
        _require(width <= self.parser.limits.max_fields)
        # (2 * width - 1, lines): the separators of each line's fields, one line a column.
        positions = separators[lo[None, :] + np.arange(count)[:, None]]
        # Strictly "=", ",", "=" ... ",", "=": one "=" per item.
        _require(bool((buf[positions[0::2]] == _EQUALS).all()))
        _require(bool((buf[positions[1::2]] == _COMMA).all()))
        # (width, lines) matrices: item j of every line is row j, contiguous.
        key_end = positions[0::2]
        separators = positions[1::2]
        key_start = np.empty_like(key_end)
        key_start[0], key_start[1:] = first, separators + 1
        value_end = np.empty_like(key_end)
        value_end[:-1], value_end[-1] = separators, end
        value_start = key_end + 1
        # One "=" per item, in order: key, "=", value, each non-empty.
        _require(bool((key_end > key_start).all() and (value_end > value_start).all()))

        names = self.field_names(key_start, key_end)
        last = buf[value_end - 1]
        is_int, is_uint = (last == _I).all(axis=1), (last == _U).all(axis=1)
        columns: list[tuple[FieldType, pa.Array] | None] = [None] * width
        for suffixed, signed, field_type in (
            (is_int, True, FieldType.INTEGER),
            (is_uint, False, FieldType.UNSIGNED),
        ):
            if suffixed.any():
                rows = np.flatnonzero(suffixed)
                numbers = _decimal(buf, value_start[rows], value_end[rows] - 1, signed=signed)
                for j, column in zip(rows, numbers, strict=True):
                    columns[j] = (field_type, pa.array(column, field_type.arrow_type))
        for j in np.flatnonzero(~(is_int | is_uint)):
            columns[j] = self.unsuffixed(value_start[j], value_end[j])
        field_types = [column[0] for column in columns if column is not None]
        arrays = [column[1] for column in columns if column is not None]
        return field_types, names, arrays

    def field_names(self, key_start: np.ndarray, key_end: np.ndarray) -> list[str]:
        """The field keys, the same on every line, else ``_NotUniform``."""
        width, n = key_start.shape
        # The body cut at every key's bounds, in body order: element 2m is the m-th key.
        bounds = np.empty(2 * width * n + 1, np.int32)
        bounds[0:-1:2], bounds[1::2], bounds[-1] = key_start.T.ravel(), key_end.T.ravel(), len(
            self.buf
        )
        pieces = pa.StringArray.from_buffers(
            2 * width * n, pa.py_buffer(bounds), pa.py_buffer(self.body)
        )
        # Item j of every line, then item j + 1 ...: key j is one slice.
        order = 2 * (np.arange(n)[None, :] * width + np.arange(width)[:, None])
        keys = pieces.take(pa.array(order.ravel()))
        names: list[str] = keys.take(pa.array(np.arange(width) * n)).to_pylist()
        for j, name in enumerate(names):
            _require(pc.all(pc.equal(keys.slice(j * n, n), name)).as_py())
        _require(len(set(names)) == len(names) and "time" not in names)
        return names

    def unsuffixed(self, start: np.ndarray, end: np.ndarray) -> tuple[FieldType, pa.Array]:
        """A column of floats or of booleans (strings never reach this path)."""
        texts = _texts(self.buf, start, end)
        if np.isin(self.buf[start], _BOOLEAN_INITIALS).all():
            is_true = pc.is_in(texts, value_set=_TRUE)
            _require(pc.all(pc.or_(is_true, pc.is_in(texts, value_set=_FALSE))).as_py())
            return FieldType.BOOLEAN, is_true
        _require(pc.all(pc.match_substring_regex(texts, _FLOAT_PATTERN)).as_py())
        numbers = pc.cast(texts, pa.float64())
        _require(not pc.any(pc.is_inf(numbers)).as_py())  # "1e999": the per-line path says
        return FieldType.FLOAT, numbers

    def times(self, start: np.ndarray, end: np.ndarray) -> pa.Array:
        raw = _decimal(self.buf, start, end, signed=True)
        multiplier = self.parser.multiplier
        _require(raw.size == 0 or int(np.abs(raw).max()) <= INT64_MAX // multiplier)
        return pa.array(raw * multiplier, pa.int64())

    def assemble(
        self,
        starts: np.ndarray,
        key_end: np.ndarray,
        times: pa.Array | None,
        field_types: list[FieldType],
        field_names: list[str],
        field_arrays: list[pa.Array],
    ) -> ParseResult:
        n = len(starts)
        # Key texts straight out of the body: element 2i is line i's key, 2i+1 the rest.
        bounds = np.empty(2 * n + 1, np.int32)
        bounds[0:-1:2], bounds[1::2], bounds[-1] = starts, key_end, len(self.buf)
        pieces = pa.StringArray.from_buffers(2 * n, pa.py_buffer(bounds), pa.py_buffer(self.body))
        key_texts = pieces.take(pa.array(np.arange(0, 2 * n, 2)))
        known, max_tags = self.parser.known_series, self.parser.limits.max_tags
        # Usually every key is stored already: a row per line straight from the store.
        series = known.stored_columns(key_texts, max_tags)
        line_rows = None
        if series is None:
            encoded = pc.dictionary_encode(key_texts)
            series, line_rows = known.columns(encoded.dictionary, max_tags), encoded.indices
        _require(pc.all(series.ok).as_py() and len(series.measurement_names) == 1)
        tag_keys = sorted({tag for keys in series.layouts for tag in keys})
        _require(not set(tag_keys) & set(field_names))  # a name both a tag and a field
        columns: dict[str, pa.Array] = {
            key: series.values_of(key) if line_rows is None else series.values_of(key).take(
                line_rows
            )
            for key in tag_keys
        }
        columns.update(zip(field_names, field_arrays, strict=True))
        schema = measurement_schema(tag_keys, dict(zip(field_names, field_types, strict=True)))
        if times is None:
            times = pa.repeat(pa.scalar(self.default_time_ns, pa.int64()), n)
        arrays = [times] + [columns[column.name] for column in list(schema)[1:]]
        name = series.measurement_names[0]
        batch = PointBatch()
        batch.add(MeasurementBatch(name, pa.Table.from_arrays(arrays, schema=schema)))
        errors: list[LineError] = []
        return ParseResult(batch, errors)


def parse_uniform(
    body: bytes, line_parser: LineParser, default_time_ns: int, min_newlines: int = 0
) -> ParseResult | None:
    """The body's result when every line has the same shape (see module doc), else None.

    Bodies with fewer than ``min_newlines`` newlines are declined (small bodies are
    parsed faster line by line). ``body`` must be valid UTF-8 (the caller decoded it)
    and under 2 GiB.
    """
    if any(irregular in body for irregular in _IRREGULAR):
        return None
    try:
        return _Body(body, line_parser, default_time_ns, min_newlines).run()
    except _NotUniform:
        return None
