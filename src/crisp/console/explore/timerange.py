"""Time ranges of the explore model: relative (``-1h``) or absolute (RFC3339), and
the automatic GROUP BY interval (about 120 buckets, rounded to a step people read)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crisp.query.errors import QueryError
from crisp.query.influxql.durations import DAY, HOUR, MINUTE, SECOND, WEEK, parse_duration
from crisp.query.timefmt import parse_time

_RELATIVE_RE = re.compile(r"-((?:[0-9]+(?:ms|s|m|h|d|w))+)")
# About 120 buckets: a 30-minute view gets 15 s buckets, so services reporting every
# 10-15 s fill every bucket (at 300, 10 s buckets left every third one empty and the
# chart broke into dashes), and a chart of 100 series stays light.
TARGET_BUCKETS = 120
MAX_BUCKETS = 10_000
MAX_RANGE_NS = 400 * DAY
NICE_STEPS = (
    SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, WEEK,
)  # fmt: skip


@dataclass(frozen=True)
class TimePoint:
    """``now - ago_ns`` (relative) or ``at_ns`` (absolute epoch ns); exactly one is set."""

    ago_ns: int | None = None
    at_ns: int | None = None

    def resolve(self, now_ns: int) -> int:
        return now_ns - self.ago_ns if self.ago_ns is not None else int(self.at_ns or 0)


def parse_time_point(text: str) -> TimePoint:
    """``now``, ``-30m``/``-1h``/``-7d``, or RFC3339; ValueError with the accepted forms."""
    value = text.strip()
    if value == "now":
        return TimePoint(ago_ns=0)
    if match := _RELATIVE_RE.fullmatch(value):
        return TimePoint(ago_ns=parse_duration(match.group(1)))
    try:
        return TimePoint(at_ns=parse_time(value))
    except (ValueError, QueryError):
        pass
    raise ValueError(f"invalid time {text!r}: use now, -15m, -1h, -7d or RFC3339")


def parse_interval(text: str) -> int:
    try:
        ns = parse_duration(text.strip())
    except ValueError:
        raise ValueError(f"invalid interval {text!r}: use a duration such as 10s, 1m, 1h") from None
    if ns < SECOND:
        raise ValueError("interval must be at least 1s")
    return ns


def auto_interval(
    range_ns: int, buckets: int = TARGET_BUCKETS, steps: tuple[int, ...] = NICE_STEPS
) -> int:
    """The smallest of ``steps`` giving at most about ``buckets`` buckets over the range."""
    wanted = max(range_ns // buckets, 1)
    for step in steps:
        if step >= wanted:
            return step
    return steps[-1]
