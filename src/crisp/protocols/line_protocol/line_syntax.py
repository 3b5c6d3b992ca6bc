"""One line of line protocol → series key, typed fields and timestamp.

Two parsers share this module's result type:

* ``parse_plain_line``: for lines without backslashes, which is nearly all real
  traffic. It uses ``str`` splitting and caches the parsed series key
  per distinct ``measurement,tags`` text, so a body with many points per series parses
  each series key once. It never reports an error itself: anything irregular returns
  ``None`` and the caller re-parses the line with ``parse_escaped_line``, so both paths
  report exactly the same reasons.
* ``parse_escaped_line``: a character scanner implementing the full grammar
  (escapes, quoted strings) and producing the user-facing error reasons.

Escaping follows InfluxDB 1.x: the measurement escapes ``,`` and space; tag keys, tag
values and field keys escape ``,``, ``=`` and space; a backslash before any other
character is kept literally. String field values escape ``"`` and ``\\``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class ParsedLine:
    series: SeriesKey
    fields: Fields
    time_ns: int | None  # None: the point takes the body's default time


def _make_series(
    measurement: str, tags: list[tuple[str, str]], limits: LineProtocolLimits
) -> SeriesKey:
    if len(tags) > limits.max_tags:
        raise LineSyntaxError(f"too many tags ({len(tags)} > {limits.max_tags})")
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


class SeriesKeyCache:
    """Series keys parsed by the plain path, by their ``measurement,tags`` text.

    Lives for one body: the number of distinct series in a body is bounded by its
    number of lines, and in practice it is far smaller.
    """

    def __init__(self, limits: LineProtocolLimits) -> None:
        self._limits = limits
        self._known: dict[str, SeriesKey | None] = {}

    def get(self, text: str) -> SeriesKey | None:
        try:
            return self._known[text]
        except KeyError:
            series = self._parse(text)
            self._known[text] = series
            return series

    def _parse(self, text: str) -> SeriesKey | None:
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
            return _make_series(measurement, tags, self._limits)
        except LineSyntaxError:
            return None


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
    series = _make_series(measurement, tags, limits)

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
