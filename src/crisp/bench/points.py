"""Generated line protocol read back as points, to encode it in other wire formats.

Line protocol is the generators' one output, so every format carries exactly the
same data. The reader covers only what the generators write: no escapes, no spaces
inside keys or values, strings without quotes or commas, integers with ``i``,
nanosecond timestamps. Parsing user data is ``crisp.protocols``' job, not this.
"""

from __future__ import annotations

from typing import NamedTuple

FieldValue = int | float | str


class Point(NamedTuple):
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, FieldValue], ...]
    time_ns: int


def _value(text: str) -> FieldValue:
    if text.endswith("i"):
        return int(text[:-1])
    if text.startswith('"'):
        return text[1:-1]
    return float(text)


def parse_line(line: str) -> Point:
    try:
        key, field_text, stamp = line.split(" ")
        measurement, *tag_items = key.split(",")
        tags = tuple((k, v) for k, _, v in (item.partition("=") for item in tag_items))
        fields = tuple(
            (k, _value(v)) for k, _, v in (item.partition("=") for item in field_text.split(","))
        )
        return Point(measurement, tags, fields, int(stamp))
    except ValueError as error:
        raise ValueError(f"not a generated line-protocol line: {line[:120]!r}") from error


def parse_lines(body: bytes) -> list[Point]:
    return [parse_line(line) for line in body.decode().splitlines() if line]
