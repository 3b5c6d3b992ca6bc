from crisp.collector.backoff import Backoff
from crisp.collector.batcher import Batcher
from tests.unit.collector.helpers import lp_batch, seqs


def test_flushes_at_batch_size() -> None:
    batcher = Batcher(batch_size=3, flush_interval=60)
    batcher.add("db", None, lp_batch("m seq=1i 1\nm seq=2i 2"), now=0)
    assert not batcher.full()
    assert not batcher.due(now=1)
    batcher.add("db", None, lp_batch("m seq=3i 3"), now=1)
    assert batcher.full()
    assert batcher.due(now=1)
    [pending] = batcher.take_all()
    assert seqs(pending.batch) == [1, 2, 3]
    assert batcher.points == 0
    assert not batcher.due(now=100)


def test_flushes_after_interval_from_the_oldest_point() -> None:
    batcher = Batcher(batch_size=1000, flush_interval=1.0)
    batcher.add("db", None, lp_batch("m seq=1i 1"), now=10.0)
    batcher.add("db", None, lp_batch("m seq=2i 2"), now=10.9)
    assert not batcher.due(now=10.99)
    assert abs(batcher.seconds_until_due(now=10.5) - 0.5) < 1e-9
    assert batcher.due(now=11.0)
    assert batcher.seconds_until_due(now=12.0) == 0.0


def test_one_batch_per_database_and_rp_oldest_first() -> None:
    batcher = Batcher(batch_size=1000, flush_interval=1.0)
    batcher.add("b", "rp1", lp_batch("m seq=1i 1"), now=2)
    batcher.add("a", None, lp_batch("m seq=2i 2"), now=1)
    batcher.add("b", "rp1", lp_batch("m seq=3i 3"), now=3)
    batcher.add("b", None, lp_batch("m seq=4i 4"), now=4)
    taken = [(p.database, p.rp, seqs(p.batch)) for p in batcher.take_all()]
    assert taken == [("a", None, [2]), ("b", "rp1", [1, 3]), ("b", None, [4])]


def test_type_clash_starts_a_new_batch_instead_of_failing() -> None:
    batcher = Batcher(batch_size=1000, flush_interval=1.0)
    batcher.add("db", None, lp_batch("m seq=1i,v=1i 1"), now=0)
    batcher.add("db", None, lp_batch("m seq=2i,v=1.5 2"), now=0)
    batcher.add("db", None, lp_batch("m,host=a seq=3i,v=2.5,extra=true 3"), now=0)
    taken = batcher.take_all()
    assert [seqs(p.batch) for p in taken] == [[1], [2, 3]]
    table = taken[1].batch.measurements["m"].table
    # Columns of different requests are unified; tag/field kinds survive the merge.
    assert set(table.column_names) == {"time", "host", "seq", "v", "extra"}
    assert taken[1].batch.measurements["m"].tag_keys == ["host"]


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0, random_fraction=lambda: 1.0)
    assert [round(backoff.next_delay(), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.1
    jittered = Backoff(initial=0.1, maximum=1.0, random_fraction=lambda: 0.0)
    assert jittered.next_delay() == 0.01  # never zero: a dead sink is not spun on
    huge = Backoff(initial=0.1, maximum=5.0, random_fraction=lambda: 1.0, attempt=10_000)
    assert huge.next_delay() == 5.0
