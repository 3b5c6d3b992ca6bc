"""Routing by labels: which channels hear about an alert, and how alerts are grouped.

A file's ``routes:`` section is a list tried in order, as in Alertmanager::

    routes:
      - match: {severity: critical}      # label matchers (all must hold); "a=~x|y" too
        notify: phone+sms                # channels; empty: the rule's own ``notify``
        group_by: [alertname, service]   # one notification per distinct label values
        group_wait: 30s                  # wait before the first notification of a group
        group_interval: 5m               # wait before notifying a group that changed
        repeat_interval: 4h              # resend a group that still fires
        continue: false                  # keep matching later routes
        mute:                            # mute windows: nothing is sent while one holds
          - {weekdays: [sat, sun]}
          - {times: ["22:00-07:00"], weekdays: [mon-fri], timezone: Europe/Paris}

The first matching route wins unless it says ``continue``. An alert that matches no
route goes to its rule's ``notify`` channels with the default timings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crisp.alerting.silences import Matcher, parse_matcher
from crisp.query.influxql.durations import HOUR, MINUTE, SECOND, format_duration, parse_duration

DEFAULT_GROUP_BY = ("alertname",)
DEFAULT_GROUP_WAIT_NS = 30 * SECOND
DEFAULT_GROUP_INTERVAL_NS = 5 * MINUTE
DEFAULT_REPEAT_INTERVAL_NS = 4 * HOUR

_ROUTE_KEYS = frozenset(
    {"match", "notify", "group_by", "group_wait", "group_interval", "repeat_interval", "continue",
     "mute"}
)  # fmt: skip
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RANGE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")


@dataclass(frozen=True)
class MuteWindow:
    """Times of the week when a route sends nothing (Alertmanager's time intervals).

    ``weekdays`` (0 = Monday) and ``times`` (minutes of the day, ``[start, end)``; a
    range past midnight such as 22:00-07:00 wraps) are read in ``timezone``; an empty
    list means "any".
    """

    weekdays: frozenset[int] = frozenset()
    times: tuple[tuple[int, int], ...] = ()
    timezone: str = "UTC"

    def contains(self, now_ns: int) -> bool:
        zone = UTC if self.timezone == "UTC" else ZoneInfo(self.timezone)
        local = datetime.fromtimestamp(now_ns / 1e9, zone)
        minute = local.hour * 60 + local.minute
        if not self.times:
            return not self.weekdays or local.weekday() in self.weekdays
        for start, end in self.times:
            if start <= end:
                if start <= minute < end and self._day_ok(local.weekday()):
                    return True
            elif minute >= start and self._day_ok(local.weekday()):
                return True  # the evening part of a range that wraps past midnight
            elif minute < end and self._day_ok((local.weekday() - 1) % 7):
                return True  # its morning part belongs to the day it started on
        return False

    def _day_ok(self, weekday: int) -> bool:
        return not self.weekdays or weekday in self.weekdays


@dataclass(frozen=True)
class Timing:
    group_wait_ns: int = DEFAULT_GROUP_WAIT_NS
    group_interval_ns: int = DEFAULT_GROUP_INTERVAL_NS
    repeat_interval_ns: int = DEFAULT_REPEAT_INTERVAL_NS


@dataclass(frozen=True)
class Route:
    matchers: tuple[Matcher, ...] = ()
    notify: tuple[str, ...] = ()
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    timing: Timing = Timing()
    continue_matching: bool = False
    mute: tuple[MuteWindow, ...] = ()

    def muted(self, now_ns: int) -> bool:
        return any(w.contains(now_ns) for w in self.mute)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)


DEFAULT_ROUTE = Route()


@dataclass(frozen=True)
class Destination:
    """One channel an alert goes to, with the route that decided its grouping."""

    channel: str
    route_index: int  # -1: the default route
    route: Route

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if "..." in self.route.group_by:  # Alertmanager's "group by every label"
            return dict(labels)
        return {k: labels.get(k, "") for k in self.route.group_by}


def destinations(
    labels: Mapping[str, str], rule_notify: Sequence[str], routes: Sequence[Route]
) -> list[Destination]:
    """Channels for an alert with ``labels`` whose rule notifies ``rule_notify``."""
    out: list[Destination] = []
    seen: set[str] = set()
    for index, route in enumerate(routes):
        if not route.matches(labels):
            continue
        for channel in route.notify or tuple(rule_notify):
            if channel not in seen:
                seen.add(channel)
                out.append(Destination(channel, index, route))
        if not route.continue_matching:
            return out
    if not out:
        out = [Destination(c, -1, DEFAULT_ROUTE) for c in dict.fromkeys(rule_notify)]
    return out


# ---------------------------------------------------------------- file format


class RouteError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def parse_route(raw: object) -> Route:
    """One ``routes:`` entry; raises RouteError naming the field."""
    if not isinstance(raw, dict):
        raise RouteError("route", "expected a mapping")
    unknown = sorted(set(raw) - _ROUTE_KEYS, key=str)
    if unknown:
        raise RouteError(str(unknown[0]), "unknown field")
    matchers = _matchers(raw.get("match"))
    notify = _names(raw.get("notify"))
    group_by = raw.get("group_by", list(DEFAULT_GROUP_BY))
    if isinstance(group_by, str):
        group_by = [group_by]
    if not isinstance(group_by, list) or not all(isinstance(g, str) and g for g in group_by):
        raise RouteError("group_by", "expected a label name or a list of label names")
    timing = Timing(
        _duration(raw, "group_wait", DEFAULT_GROUP_WAIT_NS),
        _duration(raw, "group_interval", DEFAULT_GROUP_INTERVAL_NS, minimum=SECOND),
        _duration(raw, "repeat_interval", DEFAULT_REPEAT_INTERVAL_NS, minimum=SECOND),
    )
    cont = raw.get("continue", False)
    if not isinstance(cont, bool):
        raise RouteError("continue", "expected true or false")
    mute = _mute_windows(raw.get("mute"))
    return Route(tuple(matchers), notify, tuple(group_by), timing, cont, mute)


def dump_route(route: Route) -> dict[str, Any]:
    out: dict[str, Any] = {
        "match": [f"{m.name}{m.op}{m.value}" for m in route.matchers],
        "group_by": list(route.group_by),
        "group_wait": format_duration(route.timing.group_wait_ns),
        "group_interval": format_duration(route.timing.group_interval_ns),
        "repeat_interval": format_duration(route.timing.repeat_interval_ns),
    }
    if route.notify:
        out["notify"] = list(route.notify)
    if route.continue_matching:
        out["continue"] = True
    if route.mute:
        out["mute"] = [_dump_window(w) for w in route.mute]
    return out


def _dump_window(window: MuteWindow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if window.weekdays:
        out["weekdays"] = [_WEEKDAYS[d] for d in sorted(window.weekdays)]
    if window.times:
        out["times"] = [
            f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in window.times
        ]
    if window.timezone != "UTC":
        out["timezone"] = window.timezone
    return out


def _mute_windows(raw: object) -> tuple[MuteWindow, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RouteError("mute", "expected a list of windows ({weekdays, times, timezone})")
    return tuple(_mute_window(i, item) for i, item in enumerate(raw))


def _mute_window(index: int, raw: object) -> MuteWindow:
    where = f"mute[{index}]"
    if not isinstance(raw, dict) or not raw or set(raw) - {"weekdays", "times", "timezone"}:
        raise RouteError(where, "expected a mapping of weekdays, times and timezone")
    days: set[int] = set()
    for item in _str_list(raw.get("weekdays"), f"{where}.weekdays"):
        first, _, last = item.lower().partition("-")
        if first not in _WEEKDAYS or (last and last not in _WEEKDAYS):
            raise RouteError(f"{where}.weekdays", f"{item!r}: expected mon..sun or a range mon-fri")
        a, b = _WEEKDAYS.index(first), _WEEKDAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    times: list[tuple[int, int]] = []
    for item in _str_list(raw.get("times"), f"{where}.times"):
        m = _TIME_RANGE.fullmatch(item.strip())
        start = int(m.group(1)) * 60 + int(m.group(2)) if m else -1
        end = int(m.group(3)) * 60 + int(m.group(4)) if m else -1
        if m is None or end > 24 * 60 or start == end:
            raise RouteError(f"{where}.times", f"{item!r}: expected HH:MM-HH:MM, e.g. 22:00-07:00")
        times.append((start, end))
    zone = raw.get("timezone", "UTC")
    try:
        if not isinstance(zone, str):
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise RouteError(f"{where}.timezone", f"unknown time zone {zone!r}") from None
    return MuteWindow(frozenset(days), tuple(times), zone)


def _str_list(raw: object, where: str) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(i, str) and i for i in items):
        raise RouteError(where, "expected a string or a list of strings")
    return [str(i) for i in items]


def _matchers(raw: object) -> list[Matcher]:
    if raw is None:
        return []
    try:
        if isinstance(raw, dict):
            return [Matcher(str(k), "=", str(v)) for k, v in raw.items()]
        if isinstance(raw, str):
            raw = [raw]
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return [parse_matcher(item) for item in raw]
    except ValueError as exc:
        raise RouteError("match", str(exc)) from None
    raise RouteError("match", "expected a mapping of label: value or a list of 'label=value'")


def _names(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise RouteError("notify", "expected a channel name, a list of names, or 'a+b'")
        names.extend(p.strip() for p in item.split("+"))
    if any(not n for n in names):
        raise RouteError("notify", "empty channel name")
    return tuple(dict.fromkeys(names))


def _duration(raw: Mapping[str, Any], key: str, default: int, minimum: int = 0) -> int:
    value = raw.get(key)
    if value is None:
        return default
    try:
        ns = value * SECOND if isinstance(value, int) and not isinstance(value, bool) else None
        if ns is None and isinstance(value, str):
            ns = parse_duration(value.strip())
    except ValueError:
        ns = None
    if ns is None or ns < minimum:
        least = f" of at least {format_duration(minimum)}" if minimum else ""
        raise RouteError(key, f"expected a duration{least} such as 30s or 5m")
    return ns
