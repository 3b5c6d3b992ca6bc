"""Parsing of the time arguments benchmarks take: RFC 3339 instants and Go-like durations."""

from __future__ import annotations

import re
from datetime import UTC, datetime

NS_PER_S = 1_000_000_000
EXAMPLE = "2016-01-01T00:00:00Z"

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_S,
    "m": 60 * NS_PER_S,
    "h": 3600 * NS_PER_S,
    "d": 86400 * NS_PER_S,
}
_DURATION_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h|d)")


def parse_duration_ns(text: str) -> int:
    """``1h``, ``10s``, ``1h30m`` → nanoseconds; raises ValueError on anything else."""
    position, total = 0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += int(match.group(1)) * _UNIT_NS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"bad duration {text!r}: expected e.g. 10s, 1h, 1h30m")
    return total


def parse_rfc3339_ns(text: str) -> int:
    """``2016-01-01T00:00:00Z`` → Unix nanoseconds; a time zone is required."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"bad time {text!r}: expected RFC 3339, e.g. {EXAMPLE}") from error
    if moment.tzinfo is None:
        raise ValueError(f"bad time {text!r}: RFC 3339 needs a zone, e.g. Z")
    # Integer arithmetic on the parts: a float timestamp would lose nanoseconds.
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def format_rfc3339(ns: int) -> str:
    """Unix nanoseconds → ``2016-01-01T00:00:00Z`` (whole seconds, as queries use)."""
    return datetime.fromtimestamp(ns // NS_PER_S, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
