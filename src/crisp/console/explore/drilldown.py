"""Drill-down: after one series of a grouped query is picked, what to group by next.

The order is the latency measurement's (CRISP_LATENCY_SERVICE_TAG, then
CRISP_LATENCY_BREAKDOWN_TAGS: service → endpoint → host by default) and applies to
any measurement that has those tags. The page keeps the trail (breadcrumbs) in its
URL; only the choice of the next dimension is made here, so it is made in one place.
"""

from __future__ import annotations

from collections.abc import Collection

from crisp.console.explore.querymodel import ExploreQuery


def next_group_by(
    query: ExploreQuery, available: Collection[str], order: tuple[str, ...]
) -> tuple[str, ...]:
    """The next dimension for one series of ``query``: the first tag of ``order`` the
    series does not pin yet (grouped by, or filtered with ``=``) and the measurement
    has; none when every one is pinned or the query is not grouped by a tag."""
    if not query.group_by:
        return ()
    pinned = set(query.group_by) | {f.tag for f in query.filters if f.op == "="}
    for tag in order:
        if tag not in pinned and tag in available:
            return (tag,)
    return ()
