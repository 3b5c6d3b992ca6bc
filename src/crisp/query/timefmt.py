"""Timestamps as text, both ways: InfluxQL time literals in, ``epoch=``/RFC3339 out.

Nanosecond precision is kept in integers throughout; ``datetime`` only ever handles
whole seconds, because it cannot hold nanoseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crisp.query.errors import QueryError
from crisp.query.results import Series, StatementResult

_NS_PER_S = 1_000_000_000
EPOCH_UNITS: dict[str, int] = {
    "ns": 1,
    "n": 1,
    "u": 1_000,
    "µ": 1_000,
    "ms": 1_000_000,
    "s": _NS_PER_S,
    "m": 60 * _NS_PER_S,
    "h": 3600 * _NS_PER_S,
}
_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise QueryError(f"unable to find time zone {name}") from error


def utc_offset_ns(tz: ZoneInfo | None, at_ns: int) -> int:
    """The zone's offset from UTC at the instant ``at_ns`` (0 without a zone)."""
    if tz is None:
        return 0
    moment = _EPOCH + timedelta(seconds=at_ns // _NS_PER_S)
    offset = moment.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) * _NS_PER_S if offset else 0


def parse_time(text: str, tz: ZoneInfo | None = None) -> int:
    """Nanoseconds of an InfluxQL time string (RFC3339, or ``YYYY-MM-DD[ HH:MM:SS]``).

    A string without an offset is read in ``tz`` (the query's ``tz()``), else UTC.
    """
    match = _TIME_RE.fullmatch(text.strip())
    if not match:
        raise QueryError(f"invalid time literal: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        naive = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError as error:
        raise QueryError(f"invalid time literal: {text!r}") from error
    if offset == "Z":
        aware = naive.replace(tzinfo=UTC)
    elif offset:
        sign = 1 if offset[0] == "+" else -1
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        aware = naive.replace(tzinfo=UTC) - sign * delta
    else:
        aware = naive.replace(tzinfo=tz or UTC)
    seconds = (aware - _EPOCH) // timedelta(seconds=1)
    nanos = int((fraction or "").ljust(9, "0") or 0)
    return seconds * _NS_PER_S + nanos


def format_rfc3339(ns: int, tz: ZoneInfo | None = None) -> str:
    """Go's RFC3339Nano as InfluxDB prints it: fraction trimmed of zeros, ``Z`` for UTC."""
    seconds, nanos = divmod(ns, _NS_PER_S)
    moment = _EPOCH + timedelta(seconds=seconds)
    if tz is not None:
        moment = moment.astimezone(tz)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + str(nanos).rjust(9, "0").rstrip("0")
    offset = moment.utcoffset()
    if tz is None or not offset:
        return text + "Z"
    total = int(offset.total_seconds())
    sign = "+" if total >= 0 else "-"
    hours, rest = divmod(abs(total), 3600)
    return f"{text}{sign}{hours:02d}:{rest // 60:02d}"


def format_time(ns: int, epoch: str | None, tz: ZoneInfo | None = None) -> int | str:
    """A timestamp as the ``epoch`` query parameter asks (None: RFC3339 text)."""
    if epoch is None:
        return format_rfc3339(ns, tz)
    unit = EPOCH_UNITS.get(epoch)
    if unit is None:
        raise QueryError(f"invalid epoch precision: {epoch}")
    # Go's integer division truncates toward zero; keep pre-1970 times the same.
    return -(-ns // unit) if ns < 0 else ns // unit


def format_results(
    results: list[StatementResult], epoch: str | None, tz: ZoneInfo | None = None
) -> list[StatementResult]:
    """``results`` with every ``time`` column rendered per ``epoch``; the input is left
    untouched. Only the rows of time columns are new: a deep copy of a large answer
    cost more than rendering it."""
    rendered: list[StatementResult] = []
    for result in results:
        if "series" in result:
            result = {**result, "series": [_render_series(s, epoch, tz) for s in result["series"]]}
        rendered.append(result)
    return rendered


def _render_series(series: Series, epoch: str | None, tz: ZoneInfo | None) -> Series:
    if not series["columns"] or series["columns"][0] != "time":
        return series
    values = [
        [format_time(row[0], epoch, tz), *row[1:]] if isinstance(row[0], int) else row
        for row in series["values"]
    ]
    return {**series, "values": values}
