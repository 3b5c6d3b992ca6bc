"""One line of line protocol → series key, typed fields and timestamp.

Two parsers share this module's result type:

* ``parse_plain_line``: for lines without backslashes, which is nearly all real
  traffic. It uses ``str`` splitting and caches the parsed series key per distinct
  ``measurement,tags`` text, per body and across bodies (``SharedSeriesKeys``, a
  bounded thread-safe LRU), so a process parses each series key about once. It never
  reports an error itself: anything irregular returns ``None`` and the caller re-parses
  the line with ``parse_escaped_line``, so both paths report exactly the same reasons.
* ``parse_escaped_line``: a character scanner implementing the full grammar
  (escapes, quoted strings) and producing the user-facing error reasons.

Escaping follows InfluxDB 1.x: the measurement escapes ``,`` and space; tag keys, tag
values and field keys escape ``,``, ``=`` and space; a backslash before any other
character is kept literally. String field values escape ``"`` and ``\\``.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from crisp.core.batch import TIME_COLUMN, FieldType
from crisp.protocols.line_protocol.limits import LineProtocolLimits
from crisp.protocols.line_protocol.values import (
    FieldValue,
    InvalidValue,
    parse_timestamp,
    parse_unquoted_value,
)

MEASUREMENT_ESCAPES = ", "
KEY_ESCAPES = ",= "

Tags = tuple[tuple[str, str], ...]
Fields = dict[str, tuple[FieldType, FieldValue]]


class LineSyntaxError(Exception):
    """The line breaks the grammar or a limit; ``str()`` is the reason shown to users."""


@dataclass(frozen=True, slots=True)
class SeriesKey:
    measurement: str
    tags: Tags  # sorted by key, keys unique
    # Derived from ``tags`` once, so that bodies reusing a cached key reuse them too.
    tag_keys: tuple[str, ...] = field(init=False, compare=False, repr=False)
    tag_values: tuple[str, ...] = field(init=False, compare=False, repr=False)
    tag_key_set: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        keys = tuple(key for key, _ in self.tags)
        shared = _TAG_KEY_SETS.get(keys)
        if shared is None:
            shared = (keys, frozenset(keys))
            if len(_TAG_KEY_SETS) < _MAX_TAG_KEY_SETS and sum(map(len, keys)) <= 1024:
                shared = _TAG_KEY_SETS.setdefault(keys, shared)
        object.__setattr__(self, "measurement", sys.intern(self.measurement))
        object.__setattr__(self, "tag_keys", shared[0])
        object.__setattr__(self, "tag_values", tuple(value for _, value in self.tags))
        object.__setattr__(self, "tag_key_set", shared[1])


# Series of a measurement nearly always have the same tag keys. Sharing one tuple and
# one set per distinct key list makes the per-body dedupes by tag keys identity checks.
# Bounded in entries and key length (beyond, keys are merely not shared); dict
# operations are atomic, so threads may share it.
_MAX_TAG_KEY_SETS = 4096
_TAG_KEY_SETS: dict[tuple[str, ...], tuple[tuple[str, ...], frozenset[str]]] = {}


@dataclass(frozen=True, slots=True)
class ParsedLine:
    series: SeriesKey
    fields: Fields
    time_ns: int | None  # None: the point takes the body's default time


def _make_series(measurement: str, tags: list[tuple[str, str]], max_tags: int) -> SeriesKey:
    if len(tags) > max_tags:
        raise LineSyntaxError(f"too many tags ({len(tags)} > {max_tags})")
    tags.sort()
    for index, (key, _) in enumerate(tags):
        if key == TIME_COLUMN:
            raise LineSyntaxError('invalid tag key "time": it names the timestamp column')
        # Sorted, so duplicates are neighbours; InfluxDB 1.x rejects them too.
        if index and tags[index - 1][0] == key:
            raise LineSyntaxError(f'duplicate tag key "{key}"')
    return SeriesKey(measurement, tuple(tags))


def _add_field(fields: Fields, key: str, typed: tuple[FieldType, FieldValue]) -> None:
    if key == TIME_COLUMN:
        raise LineSyntaxError('invalid field key "time": it names the timestamp column')
    previous = fields.get(key)
    # A repeated field key is not an error in InfluxDB 1.x: the later value is what
    # ends up stored. Different types in one line are a type conflict there as well.
    if previous is not None and previous[0] is not typed[0]:
        raise LineSyntaxError(
            f'field type conflict: field "{key}" is type {typed[0].value}, '
            f"already {previous[0].value} in this line"
        )
    fields[key] = typed


def _finish(
    series: SeriesKey, fields: Fields, time_text: str, multiplier: int, limits: LineProtocolLimits
) -> ParsedLine:
    if len(fields) > limits.max_fields:
        raise LineSyntaxError(f"too many fields ({len(fields)} > {limits.max_fields})")
    for key, _ in series.tags:
        if key in fields:
            # One column per name: a name cannot be both a tag and a field.
            raise LineSyntaxError(f'tag key "{key}" is also used as a field key')
    if not time_text:
        return ParsedLine(series, fields, None)
    try:
        time_ns = parse_timestamp(time_text, multiplier)
    except InvalidValue as error:
        raise LineSyntaxError(str(error)) from None
    return ParsedLine(series, fields, time_ns)


# ---------------------------------------------------------------------------
# Fast path: no backslash, no double quote.


def _parse_series_text(text: str, max_tags: int) -> SeriesKey | None:
    """A plain ``measurement,tags`` text's series key; ``None``: use the escaped path."""
    measurement, *tag_texts = text.split(",")
    if not measurement:
        return None
    tags: list[tuple[str, str]] = []
    for tag_text in tag_texts:
        key, equals, value = tag_text.partition("=")
        if not key or not equals or not value or "=" in value:
            return None
        tags.append((key, value))
    try:
        return _make_series(measurement, tags, max_tags)
    except LineSyntaxError:
        return None


class SharedSeriesKeys:
    """Series keys parsed by the plain path, kept across bodies: a bounded LRU.

    A server sees the same series in every write (each host reports every interval),
    so parsing a key once per process instead of once per body saves most of the
    per-series work. Results are keyed by the key text and the tag limit (the only
    limit the parse depends on), so parsers with other limits can share it.

    Thread-safe: request threads share one instance; each batch of lookups takes the
    lock once, and parsing runs outside it. Bounded by entry count and by an estimate
    of the memory the entries hold (``entry_cost``: a 64 KiB key must not count like a
    100-byte one); the least recently used keys are evicted first. The defaults keep
    about 14,000 TSBS-like series (10 tags, ~160-byte keys, ~2.3 KB each measured);
    a process writing more distinct series than fit still gets correct results, only
    without the saving.
    """

    def __init__(self, max_entries: int = 100_000, max_bytes: int = 32 * 2**20) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], SeriesKey | None] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def entry_cost(text: str) -> int:
        """Estimated bytes an entry holds: the text, the parsed copy, per-tag objects."""
        return 2 * len(text) + 160 * text.count(",") + 400

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Estimated bytes held by the cached entries (sum of ``entry_cost``)."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get_many(self, texts: Sequence[str], max_tags: int) -> list[SeriesKey | None]:
        """The series key of each text (``None``: not a plain, valid key)."""
        found: list[SeriesKey | None] = []
        missing: list[int] = []
        entries = self._entries
        with self._lock:
            move_to_end = entries.move_to_end
            for index, text in enumerate(texts):
                key = (text, max_tags)
                try:
                    found.append(entries[key])
                except KeyError:
                    found.append(None)
                    missing.append(index)
                else:
                    move_to_end(key)
        if not missing:
            return found
        parsed = [(texts[index], _parse_series_text(texts[index], max_tags)) for index in missing]
        for index, (_, series) in zip(missing, parsed, strict=True):
            found[index] = series
        with self._lock:
            for text, series in parsed:
                key = (text, max_tags)
                if key not in entries:
                    self._bytes += self.entry_cost(text)
                entries[key] = series
                entries.move_to_end(key)
            while entries and (len(entries) > self.max_entries or self._bytes > self.max_bytes):
                (text, _), _ = entries.popitem(last=False)
                self._bytes -= self.entry_cost(text)
        return found


#: The instance ``parse_line_protocol`` uses unless given a parser with its own.
SHARED_SERIES_KEYS = SharedSeriesKeys()


class SeriesKeyCache:
    """Series keys parsed by the plain path, by their ``measurement,tags`` text.

    Lives for one body, in front of a ``SharedSeriesKeys`` that outlives it: the
    per-line path looks a key up once per line, and a plain dict is cheaper than the
    shared cache's lock.
    """

    def __init__(self, limits: LineProtocolLimits, shared: SharedSeriesKeys | None = None) -> None:
        self._max_tags = limits.max_tags
        self._shared = SHARED_SERIES_KEYS if shared is None else shared
        self._known: dict[str, SeriesKey | None] = {}

    def get(self, text: str) -> SeriesKey | None:
        try:
            return self._known[text]
        except KeyError:
            (series,) = self._shared.get_many([text], self._max_tags)
            self._known[text] = series
            return series


def parse_plain_line(
    line: str, cache: SeriesKeyCache, multiplier: int, limits: LineProtocolLimits
) -> ParsedLine | None:
    """Parse a line free of ``\\``; ``None`` means "use the escaped path"."""
    key_text, _, rest = line.partition(" ")
    series = cache.get(key_text)
    if series is None:
        return None
    rest = rest.lstrip(" ")
    field_text, _, time_text = rest.partition(" ")
    if not field_text:
        return None
    time_text = time_text.lstrip(" ")
    if " " in time_text:
        return None
    fields: Fields = {}
    try:
        for item in field_text.split(","):
            key, equals, value = item.partition("=")
            if not key or not equals or not value or "=" in value:
                return None
            if value[0] == '"':
                # Without backslashes a string cannot hold a quote, so a string that held
                # a separator was cut into pieces that fail this test.
                if len(value) < 2 or value[-1] != '"' or '"' in value[1:-1]:
                    return None
                _add_field(fields, key, (FieldType.STRING, value[1:-1]))
            else:
                _add_field(fields, key, parse_unquoted_value(value))
        return _finish(series, fields, time_text, multiplier, limits)
    except (InvalidValue, LineSyntaxError):
        return None


# ---------------------------------------------------------------------------
# Full grammar.


def _scan_name(line: str, start: int, stops: str, escapes: str) -> tuple[str, int]:
    """Unescaped name from ``start`` up to the first unescaped stop character."""
    parts: list[str] = []
    end = len(line)
    position = start
    chunk_start = start
    while position < end:
        char = line[position]
        if char == "\\" and position + 1 < end and line[position + 1] in escapes:
            parts.append(line[chunk_start:position])
            chunk_start = position + 1  # keep the escaped character, drop the backslash
            position += 2
            continue
        if char in stops:
            break
        position += 1
    parts.append(line[chunk_start:position])
    return "".join(parts), position


def _scan_string(line: str, start: int) -> tuple[str, int]:
    """String value whose opening quote is at ``start``; returns text and end index."""
    parts: list[str] = []
    end = len(line)
    position = start + 1
    chunk_start = position
    while position < end:
        char = line[position]
        if char == "\\" and position + 1 < end and line[position + 1] in '"\\':
            parts.append(line[chunk_start:position])
            chunk_start = position + 1
            position += 2
            continue
        if char == '"':
            parts.append(line[chunk_start:position])
            return "".join(parts), position + 1
        position += 1
    raise LineSyntaxError("unbalanced quotes")


def _skip_spaces(line: str, position: int) -> int:
    end = len(line)
    while position < end and line[position] == " ":
        position += 1
    return position


def parse_escaped_line(line: str, multiplier: int, limits: LineProtocolLimits) -> ParsedLine:
    """Parse any line (already stripped of surrounding whitespace) or raise the reason."""
    end = len(line)
    measurement, position = _scan_name(line, 0, MEASUREMENT_ESCAPES, MEASUREMENT_ESCAPES)
    if not measurement:
        raise LineSyntaxError("missing measurement")
    tags: list[tuple[str, str]] = []
    while position < end and line[position] == ",":
        key, position = _scan_name(line, position + 1, KEY_ESCAPES, KEY_ESCAPES)
        if not key:
            raise LineSyntaxError("missing tag key")
        if position >= end or line[position] != "=":
            raise LineSyntaxError("missing tag value")
        value, position = _scan_name(line, position + 1, KEY_ESCAPES, KEY_ESCAPES)
        if not value:
            raise LineSyntaxError("missing tag value")
        if position < end and line[position] == "=":
            raise LineSyntaxError("invalid tag format")
        tags.append((key, value))
    series = _make_series(measurement, tags, limits.max_tags)

    position = _skip_spaces(line, position)
    if position >= end:
        raise LineSyntaxError("missing fields")
    fields: Fields = {}
    while True:
        key, position = _scan_name(line, position, KEY_ESCAPES, KEY_ESCAPES)
        if not key:
            raise LineSyntaxError("missing field key")
        if position >= end or line[position] != "=":
            raise LineSyntaxError("invalid field format")
        position += 1
        if position >= end or line[position] in ", ":
            raise LineSyntaxError("missing field value")
        if line[position] == '"':
            text, position = _scan_string(line, position)
            _add_field(fields, key, (FieldType.STRING, text))
        else:
            value_end = position
            while value_end < end and line[value_end] not in ", ":
                value_end += 1
            try:
                typed = parse_unquoted_value(line[position:value_end])
            except InvalidValue as error:
                raise LineSyntaxError(str(error)) from None
            _add_field(fields, key, typed)
            position = value_end
        if position >= end or line[position] == " ":
            break
        if line[position] != ",":
            # Text glued to a closing quote: f="a"b
            raise LineSyntaxError("invalid field format")
        position += 1
        if position >= end or line[position] == " ":
            raise LineSyntaxError("invalid field format")

    position = _skip_spaces(line, position)
    time_text = line[position:]
    if " " in time_text:
        raise LineSyntaxError("invalid timestamp: unexpected text after it")
    return _finish(series, fields, time_text, multiplier, limits)
