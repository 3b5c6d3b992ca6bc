"""A slow, obviously-correct line protocol parser used only as a test oracle.

Written independently of ``crisp.protocols.line_protocol``: one character at a time
through an explicit state machine, producing plain Python values. It reports *which*
lines fail, not why; behaviour tests check the reasons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_TAGS = 256
MAX_FIELDS = 1024
MAX_LINE_BYTES = 64 * 1024


@dataclass
class RefPoint:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, tuple[str, object]]  # key → (type name, value)
    time: int | None


@dataclass
class RefResult:
    points: list[RefPoint] = field(default_factory=list)
    error_lines: list[int] = field(default_factory=list)


class Reject(Exception):
    pass


def _digits(text: str) -> bool:
    return len(text) > 0 and all(c in "0123456789" for c in text)


def _number_value(text: str) -> tuple[str, object]:
    if text.endswith("i"):
        body = text[:-1]
        negative = body.startswith("-")
        if not _digits(body[1:] if negative else body):
            raise Reject
        value = int(body)
        if value < INT64_MIN or value > INT64_MAX:
            raise Reject
        return "integer", value
    if text.endswith("u"):
        if not _digits(text[:-1]):
            raise Reject
        value = int(text[:-1])
        if value > 2**64 - 1:
            raise Reject
        return "unsigned", value
    # float: [-] mantissa [exponent]
    rest = text[1:] if text.startswith("-") else text
    mantissa, exponent = rest, ""
    for index, char in enumerate(rest):
        if char in "eE":
            mantissa, exponent = rest[:index], rest[index + 1 :]
            break
    whole, _, fraction = mantissa.partition(".")
    if "." in fraction:
        raise Reject
    if not (whole == "" or _digits(whole)) or not (fraction == "" or _digits(fraction)):
        raise Reject
    if whole == "" and fraction == "":
        raise Reject
    if "e" in rest.lower():
        exponent_digits = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not _digits(exponent_digits):
            raise Reject
    number = float(text)
    if math.isinf(number):
        raise Reject
    return "float", number


def _unquoted_value(text: str) -> tuple[str, object]:
    spellings = {"t": True, "T": True, "true": True, "True": True, "TRUE": True}
    spellings |= {"f": False, "F": False, "false": False, "False": False, "FALSE": False}
    if text in spellings:
        return "boolean", spellings[text]
    return _number_value(text)


def parse_line(line: str, multiplier: int) -> RefPoint:
    """Parse one stripped, non-comment line; raise ``Reject`` if it is invalid."""
    state = "measurement"
    current = ""
    measurement = ""
    tag_key = ""
    tags: list[tuple[str, str]] = []
    field_key = ""
    fields: list[tuple[str, tuple[str, object]]] = []
    time_text = ""
    escapable = {
        "measurement": ", ",
        "tag_key": ",= ",
        "tag_value": ",= ",
        "field_key": ",= ",
    }
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        nxt = line[i + 1] if i + 1 < n else ""
        if state in escapable and c == "\\" and nxt != "" and nxt in escapable[state]:
            current += nxt
            i += 2
            continue
        if state == "measurement":
            if c == "," or c == " ":
                if current == "":
                    raise Reject
                measurement, current = current, ""
                state = "tag_key" if c == "," else "spaces_before_fields"
            else:
                current += c
        elif state == "tag_key":
            if c == "=":
                if current == "":
                    raise Reject
                tag_key, current = current, ""
                state = "tag_value"
            elif c in ", ":
                raise Reject
            else:
                current += c
        elif state == "tag_value":
            if c in ", ":
                if current == "":
                    raise Reject
                tags.append((tag_key, current))
                current = ""
                state = "tag_key" if c == "," else "spaces_before_fields"
            elif c == "=":
                raise Reject
            else:
                current += c
        elif state == "spaces_before_fields":
            if c != " ":
                state = "field_key"
                continue
        elif state == "field_key":
            if c == "=":
                if current == "":
                    raise Reject
                field_key, current = current, ""
                state = "value_start"
            elif c in ", ":
                raise Reject
            else:
                current += c
        elif state == "value_start":
            if c == '"':
                state = "string"
            elif c in ", ":
                raise Reject
            else:
                current += c
                state = "unquoted"
        elif state == "unquoted":
            if c in ", ":
                fields.append((field_key, _unquoted_value(current)))
                current = ""
                state = "field_key" if c == "," else "spaces_before_time"
                if c == "," and (i + 1 >= n or line[i + 1] == " "):
                    raise Reject
            else:
                current += c
        elif state == "string":
            if c == "\\" and nxt in ('"', "\\"):
                current += nxt
                i += 2
                continue
            if c == '"':
                fields.append((field_key, ("string", current)))
                current = ""
                state = "after_string"
            else:
                current += c
        elif state == "after_string":
            if c == ",":
                state = "field_key"
                if i + 1 >= n or line[i + 1] == " ":
                    raise Reject
            elif c == " ":
                state = "spaces_before_time"
            else:
                raise Reject
        elif state == "spaces_before_time":
            if c != " ":
                state = "time"
                continue
        elif state == "time":
            if c == " ":
                raise Reject
            time_text += c
        i += 1

    if state == "unquoted":
        fields.append((field_key, _unquoted_value(current)))
    elif state in ("measurement", "tag_key", "tag_value", "spaces_before_fields"):
        raise Reject  # no fields at all
    elif state in ("field_key", "value_start", "string"):
        raise Reject  # a field cut short
    if state == "time" and not (
        _digits(time_text) or (time_text.startswith("-") and _digits(time_text[1:]))
    ):
        raise Reject

    tag_dict: dict[str, str] = {}
    for key, value in tags:
        if key in tag_dict or key == "time":
            raise Reject
        tag_dict[key] = value
    if len(tag_dict) > MAX_TAGS:
        raise Reject
    field_dict: dict[str, tuple[str, object]] = {}
    for key, typed in fields:
        if key == "time" or key in tag_dict:
            raise Reject
        if key in field_dict and field_dict[key][0] != typed[0]:
            raise Reject
        field_dict[key] = typed
    if len(field_dict) > MAX_FIELDS:
        raise Reject
    timestamp = None
    if time_text:
        timestamp = int(time_text) * multiplier
        if timestamp < INT64_MIN or timestamp > INT64_MAX:
            raise Reject
    return RefPoint(measurement, dict(sorted(tag_dict.items())), field_dict, timestamp)


def parse_body(body: bytes, multiplier: int, default_time: int) -> RefResult:
    """Every line through ``parse_line``, then the per-body column rules."""
    result = RefResult()
    column_kinds: dict[str, dict[str, str]] = {}  # measurement → column → "tag"/type
    for number, raw in enumerate(body.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            result.error_lines.append(number)
            continue
        while text and text[0] in " \t\r":
            text = text[1:]
        while text and text[-1] in " \t\r":
            text = text[:-1]
        if text == "" or text.startswith("#"):
            continue
        if len(text.encode("utf-8")) > MAX_LINE_BYTES:
            result.error_lines.append(number)
            continue
        try:
            point = parse_line(text, multiplier)
        except Reject:
            result.error_lines.append(number)
            continue
        kinds = column_kinds.setdefault(point.measurement, {})
        wanted = dict.fromkeys(point.tags, "tag")
        wanted |= {key: typed[0] for key, typed in point.fields.items()}
        if any(kinds.get(key, kind) != kind for key, kind in wanted.items()):
            result.error_lines.append(number)
            continue
        kinds.update(wanted)
        if point.time is None:
            point.time = default_time
        result.points.append(point)
    return result
