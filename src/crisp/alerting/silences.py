"""Silences: label matchers plus a time window, as in Alertmanager.

A silence mutes an alert when it is active (``starts_at ≤ now < ends_at``) and every
matcher matches the alert's labels. Matchers are ``=``, ``!=``, ``=~`` and ``!~``;
regular expressions are anchored at both ends, and a missing label matches as the
empty string (so ``env!=prod`` matches an alert without ``env``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MATCH_OPS = ("=", "!=", "=~", "!~")
_MATCHER_TEXT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in MATCH_OPS:
            raise ValueError(f"unknown matcher operator {self.op!r}")
        if self.op in ("=~", "!~"):
            try:
                compiled = re.compile(f"(?:{self.value})\\Z")
            except re.error as exc:
                raise ValueError(f"invalid regular expression {self.value!r}: {exc}") from None
            object.__setattr__(self, "_regex", compiled)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is not None:
            found = self._regex.match(actual) is not None
            return found if self.op == "=~" else not found
        return (actual == self.value) if self.op == "=" else (actual != self.value)


def parse_matcher(text: str) -> Matcher:
    """``severity=critical``, ``service=~"api|web"`` (quotes optional)."""
    m = _MATCHER_TEXT.fullmatch(text)
    if not m:
        raise ValueError(f"invalid matcher {text!r}: expected name, one of = != =~ !~, value")
    value = m.group(3)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return Matcher(m.group(1), m.group(2), value)


@dataclass(frozen=True)
class Silence:
    matchers: tuple[Matcher, ...]
    starts_at_ns: int
    ends_at_ns: int
    comment: str = ""
    created_by: str = ""

    def __post_init__(self) -> None:
        if not self.matchers:
            raise ValueError("a silence needs at least one matcher")
        if self.ends_at_ns <= self.starts_at_ns:
            raise ValueError("a silence must end after it starts")

    def active(self, now_ns: int) -> bool:
        return self.starts_at_ns <= now_ns < self.ends_at_ns

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)


def silencing(labels: Mapping[str, str], silences: Iterable[Silence], now_ns: int) -> list[Silence]:
    """The active silences that mute an alert with ``labels``."""
    return [s for s in silences if s.active(now_ns) and s.matches(labels)]


def is_silenced(labels: Mapping[str, str], silences: Iterable[Silence], now_ns: int) -> bool:
    return any(s.active(now_ns) and s.matches(labels) for s in silences)
