"""Duration literals as InfluxQL writes them (``1h30m``) and as InfluxDB 1.x prints them.

InfluxQL accepts compound literals of ``<int><unit>`` pairs; ``SHOW RETENTION POLICIES``
prints Go's ``time.Duration`` form (``168h0m0s``), which clients compare textually.
"""

from __future__ import annotations

import re

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

UNITS: dict[str, int] = {
    "ns": NANOSECOND,
    "u": MICROSECOND,
    "µ": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
    "d": DAY,
    "w": WEEK,
}

# "ms" and "ns" must be tried before "m"/"s" or "1ms" would read as 1m + garbage.
_PART = r"[0-9]+(?:ns|ms|u|µ|s|m|h|d|w)"
DURATION_RE = re.compile(rf"(?:{_PART})+")
_PART_RE = re.compile(r"([0-9]+)(ns|ms|u|µ|s|m|h|d|w)")


def parse_duration(text: str) -> int:
    """Nanoseconds of an InfluxQL duration literal; ValueError if it is not one."""
    if not DURATION_RE.fullmatch(text):
        raise ValueError(f"invalid duration: {text}")
    return sum(int(n) * UNITS[unit] for n, unit in _PART_RE.findall(text))


def format_duration(ns: int) -> str:
    """The shortest InfluxQL literal for ``ns`` (single unit, so it re-parses exactly)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    magnitude = abs(ns)
    for unit in ("w", "d", "h", "m", "s", "ms", "u"):
        if magnitude % UNITS[unit] == 0:
            return f"{sign}{magnitude // UNITS[unit]}{unit}"
    return f"{sign}{magnitude}ns"


def format_go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``, which InfluxDB 1.x uses in SHOW RETENTION POLICIES."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    magnitude = abs(ns)
    if magnitude < SECOND:
        for unit, size in (("ms", MILLISECOND), ("µs", MICROSECOND)):
            if magnitude >= size:
                return f"{sign}{_trim_fraction(magnitude, size)}{unit}"
        return f"{sign}{magnitude}ns"
    hours, rest = divmod(magnitude, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    seconds = _trim_fraction(rest, SECOND)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _trim_fraction(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"
