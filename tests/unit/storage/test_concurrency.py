from __future__ import annotations

import threading
import time
from pathlib import Path

from crisp.storage.api import TimeRange
from crisp.storage.engine import Engine
from crisp.storage.options import EngineOptions

from .conftest import make_batch


def test_readers_see_each_row_once_while_flushing_and_compacting(data_dir: Path) -> None:
    opts = EngineOptions(buffer_max_rows=50, maintenance_interval_s=0.01, compaction_min_files=3)
    with Engine(data_dir, opts) as eng:
        eng.create_database("db")
        stop = threading.Event()
        acked = [0]
        problems: list[str] = []

        def writer() -> None:
            for i in range(1, 301):
                eng.write("db", None, make_batch("m", [{"time": i, "host": "a", "v": i}]))
                acked[0] = i
            stop.set()

        def reader() -> None:
            last = 0
            while not stop.is_set():
                floor = acked[0]
                with eng.snapshot("db", None, "m", TimeRange()) as snap:
                    total, distinct = snap.connection.execute(
                        "SELECT count(*), count(DISTINCT time) FROM points"
                    ).fetchone()
                if total != distinct:
                    problems.append(f"duplicates: {total} rows, {distinct} times")
                if total < max(last, floor):
                    problems.append(f"rows went missing: {total} < {max(last, floor)}")
                last = total

        threads = [threading.Thread(target=writer)] + [
            threading.Thread(target=reader) for _ in range(2)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not problems, problems[:5]
        assert len(eng.files()) >= 1
        print(f"300 writes with 2 readers and background flush: {time.monotonic() - started:.2f}s")
