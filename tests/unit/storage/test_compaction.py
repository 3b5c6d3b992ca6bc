"""Size-tiered compaction: bounded rewriting while a shard group is written."""

from __future__ import annotations

from pathlib import Path

from crisp.storage.compaction import plan_merges, tier
from crisp.storage.engine import Engine
from crisp.storage.manifest import FileEntry
from tests.unit.storage.conftest import make_batch, quiet_options, rows


def _file(file_id: int, rows: int, shard: int = 0) -> FileEntry:
    return FileEntry(file_id, "db", "autogen", "m", shard, shard + 10, f"f{file_id}", rows,
                     0, 1, file_id, 100)


def _plan(files: list[FileEntry], *, cold: bool = False) -> list[list[int]]:
    merges = plan_merges(files, fanout=4, base_rows=100, is_cold=lambda key: cold)
    return [sorted(f.file_id for f in group) for group in merges]


def test_tiers_grow_by_the_fanout() -> None:
    assert [tier(n, base_rows=100, fanout=4) for n in (1, 99, 100, 399, 400, 1600)] == [
        0, 0, 1, 1, 2, 3,
    ]


def test_a_big_file_is_not_rewritten_for_every_few_small_ones() -> None:
    big = _file(1, 10_000)
    small = [_file(i, 50) for i in range(2, 5)]
    assert _plan([big, *small]) == []
    # The fourth small file completes tier 0: only the small ones are merged.
    assert _plan([big, *small, _file(5, 50)]) == [[2, 3, 4, 5]]


def test_each_shard_group_and_tier_is_planned_on_its_own() -> None:
    files = [_file(i, 50, shard=0) for i in range(1, 5)]
    files += [_file(i, 50, shard=10) for i in range(5, 8)]
    files += [_file(i, 200, shard=0) for i in range(8, 12)]
    assert sorted(_plan(files)) == [[1, 2, 3, 4], [8, 9, 10, 11]]


def test_a_cold_shard_group_is_merged_whole() -> None:
    files = [_file(1, 10_000), _file(2, 50)]
    assert _plan(files) == []
    assert _plan(files, cold=True) == [[1, 2]]
    assert _plan([_file(3, 50)], cold=True) == []


def test_engine_merges_tiers_while_hot_and_everything_once_cold(data_dir: Path) -> None:
    hot = quiet_options(buffer_max_rows=4, compaction_min_files=3)
    with Engine(data_dir, hot) as eng:
        eng.create_database("db")
        # One file of 12 rows (tier 1), then two small ones: nothing to merge yet.
        eng.write("db", None, make_batch("m", [{"time": t, "v": t} for t in range(12)]))
        eng.flush()
        for t in (20, 21):
            eng.write("db", None, make_batch("m", [{"time": t, "v": t}]))
            eng.flush()
        assert eng.compact() == 0
        eng.write("db", None, make_batch("m", [{"time": 22, "v": 22}]))
        eng.flush()
        assert eng.compact() == 1  # the three small files
        assert sorted(f.rows for f in eng.files()) == [3, 12]
        before = rows(eng, "db", "m")
    cold = quiet_options(buffer_max_rows=4, compaction_min_files=3, compaction_cold_after_s=0)
    with Engine(data_dir, cold) as eng:
        assert eng.compact() == 1
        assert [f.rows for f in eng.files()] == [15]
        assert rows(eng, "db", "m") == before
