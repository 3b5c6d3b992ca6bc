"""Dashboard variables: ``$service`` in a panel's filter takes the value picked on the page.

A variable is filled from a tag's values in storage and referenced by a filter whose
whole value is ``$name``. Substitution happens on the explore model, never on text:
the picked value replaces the filter's value and is quoted by the query model like
any other input (for a regex filter it is escaped and anchored, so it matches that
one value). Picking "all" (the empty value) drops the filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from crisp.console.explore.querymodel import ExploreQuery, TagFilter

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
REFERENCE_RE = re.compile(r"\$(" + NAME_RE.pattern + r")")
ALL = ""


def referenced_name(value: str) -> str | None:
    """The variable a filter value refers to (``$name`` as the whole value), if any."""
    match = REFERENCE_RE.fullmatch(value)
    return match.group(1) if match else None


def references(filters: Iterable[Mapping[str, object]]) -> set[str]:
    names = {referenced_name(str(f.get("value", ""))) for f in filters}
    return {name for name in names if name is not None}


# re.escape puts a backslash before a control character; InfluxQL's regex literal
# cannot hold a backslash-newline, so those become the escapes \n, \r, \t.
_CONTROL_ESCAPES = {"\\\n": "\\n", "\\\r": "\\r", "\\\t": "\\t"}


def literal_regex(value: str) -> str:
    """A regex matching exactly ``value``."""
    escaped = re.escape(value)
    for raw, escape in _CONTROL_ESCAPES.items():
        escaped = escaped.replace(raw, escape)
    return "^" + escaped + "$"


def _substituted(f: TagFilter, value: str) -> TagFilter:
    if f.op in ("=~", "!~"):
        return replace(f, value=literal_regex(value))
    return replace(f, value=value)


def substitute(query: ExploreQuery, values: Mapping[str, str]) -> ExploreQuery:
    """``query`` with every ``$name`` filter given ``values[name]`` ("all" when absent)."""
    filters: list[TagFilter] = []
    for f in query.filters:
        name = referenced_name(f.value)
        if name is None:
            filters.append(f)
            continue
        value = values.get(name, ALL)
        if value != ALL:
            filters.append(_substituted(f, value))
    return replace(query, filters=tuple(filters))
