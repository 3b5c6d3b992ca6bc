"""Many small writes leave few buffer chunks, and reads cannot tell the difference."""

from __future__ import annotations

from crisp.storage.buffer import COALESCE_CHUNKS
from crisp.storage.engine import Engine

from .conftest import make_batch, rows


def _parts(engine: Engine, measurement: str) -> list:  # type: ignore[type-arg]
    return engine._buffer.chunks_for("db", "autogen", measurement, None, None)


def test_small_writes_are_coalesced_and_read_back_whole(engine: Engine) -> None:
    for i in range(100):
        points = [{"time": i * 10 + j, "host": f"h{j % 3}", "v": float(i)} for j in range(10)]
        engine.write("db", None, make_batch("m", points))
    [(_, part, proof)] = _parts(engine, "m")
    assert len(part.chunks) < 100 // COALESCE_CHUNKS + COALESCE_CHUNKS
    assert part.rows == 1000
    assert proof()  # time-ordered writes: still provably free of duplicates
    got = rows(engine, "db", "m")
    assert [r["time"] for r in got] == list(range(1000))
    assert [r["v"] for r in got] == [float(t // 10) for t in range(1000)]


def test_overwrites_across_coalesced_chunks_keep_the_last_write(engine: Engine) -> None:
    for i in range(3 * COALESCE_CHUNKS):
        # The same two points again and again, then one more with a new field.
        engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": float(i)},
                                                  {"time": 2, "host": "a", "v": -float(i)}]))
    engine.write("db", None, make_batch("m", [{"time": 2, "host": "a", "w": 7}]))
    [(_, part, proof)] = _parts(engine, "m")
    assert len(part.chunks) < COALESCE_CHUNKS
    assert not proof()
    last = float(3 * COALESCE_CHUNKS - 1)
    assert [(r["time"], r["v"], r["w"]) for r in rows(engine, "db", "m")] == [
        (1, last, None), (2, -last, 7)
    ]
    engine.flush()
    assert [(r["time"], r["v"], r["w"]) for r in rows(engine, "db", "m")] == [
        (1, last, None), (2, -last, 7)
    ]
