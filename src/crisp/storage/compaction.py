"""Which files of a shard group to merge: size tiers while it is written, all once cold.

Merging every file of a shard group whenever a few small ones pile up rewrites the
whole group again and again: with 7-day shard groups (the default for an infinite
retention policy) that is quadratic in the data written. Instead files are grouped in
size tiers (tier 0 below ``base_rows``, each next tier ``fanout`` times larger) and a
tier is merged once it holds ``fanout`` files, so a row is rewritten about
log_fanout(group rows / base_rows) times. A group nothing has landed in for a while
(*cold*) is merged into one file, the layout queries and bytes on disk like best.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from crisp.storage.manifest import FileEntry

ShardKey = tuple[str, str, str, int]


def tier(rows: int, *, base_rows: int, fanout: int) -> int:
    if rows < base_rows:
        return 0
    return 1 + int(math.log(rows / base_rows, fanout))


def plan_merges(
    files: Iterable[FileEntry],
    *,
    fanout: int,
    base_rows: int,
    is_cold: Callable[[ShardKey], bool],
) -> list[list[FileEntry]]:
    """Groups of files to merge, each into one file (all of one shard group)."""
    groups: dict[ShardKey, list[FileEntry]] = {}
    for f in files:
        groups.setdefault(f.shard_key, []).append(f)
    fanout = max(2, fanout)
    merges: list[list[FileEntry]] = []
    for key, group in groups.items():
        if len(group) < 2:
            continue
        if is_cold(key):
            merges.append(group)
            continue
        tiers: dict[int, list[FileEntry]] = {}
        for f in group:
            tiers.setdefault(tier(f.rows, base_rows=base_rows, fanout=fanout), []).append(f)
        merges += [files for files in tiers.values() if len(files) >= fanout]
    return merges
