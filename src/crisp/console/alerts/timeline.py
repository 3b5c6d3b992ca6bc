"""The alert history timeline: per series, coloured state segments over a time window.

Built from stored transitions (each row says from → to at a time), so it needs no
query of metrics; drawn as inline SVG by the rule page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

STATE_COLOURS: Mapping[str, str] = {
    "normal": "#dfe3ea",
    "pending": "#f0a020",
    "firing": "#d63232",
    "resolved": "#2eb886",
    "nodata": "#7a8aa6",
    "error": "#8e44ad",
}
WIDTH = 900
ROW_HEIGHT = 16


@dataclass(frozen=True)
class Segment:
    state: str
    start: datetime
    end: datetime
    x: float
    width: float

    @property
    def colour(self) -> str:
        return STATE_COLOURS.get(self.state, "#cccccc")


@dataclass(frozen=True)
class Row:
    label: str
    y: int
    segments: list[Segment]


class TransitionLike(Protocol):
    """What the timeline reads of a transition (an AlertTransition row)."""

    @property
    def tags(self) -> Mapping[str, str]: ...

    @property
    def from_state(self) -> str: ...

    @property
    def to_state(self) -> str: ...

    @property
    def at(self) -> datetime: ...


def series_label(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "(whole rule)"


def build_timeline(
    transitions: Iterable[TransitionLike], start: datetime, end: datetime
) -> list[Row]:
    """One row per series; ``transitions`` are those at or after ``start``, any order."""
    span = (end - start).total_seconds()
    by_series: dict[str, list[TransitionLike]] = {}
    for t in transitions:
        by_series.setdefault(series_label(t.tags), []).append(t)
    rows: list[Row] = []
    for index, (label, items) in enumerate(sorted(by_series.items())):
        items.sort(key=lambda t: t.at)
        edges: list[tuple[datetime, str]] = [(start, items[0].from_state)]
        edges += [(max(t.at, start), t.to_state) for t in items]
        segments: list[Segment] = []
        for i, (at, state) in enumerate(edges):
            until = edges[i + 1][0] if i + 1 < len(edges) else end
            if until <= at:
                continue
            x = (at - start).total_seconds() / span * WIDTH
            width = (until - at).total_seconds() / span * WIDTH
            segments.append(Segment(state, at, until, round(x, 2), round(max(width, 1.0), 2)))
        rows.append(Row(label, index * (ROW_HEIGHT + 4), segments))
    return rows


def default_window(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(hours=24), now
