"""kill -9 a process mid-load: every write it acknowledged must survive the reopen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crisp.storage.api import TimeRange
from crisp.storage.engine import Engine
from crisp.storage.options import EngineOptions

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pyarrow as pa
    from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
    from crisp.storage.engine import Engine
    from crisp.storage.options import EngineOptions

    # Small buffer: flushes (Parquet + manifest swaps) happen during the load too.
    engine = Engine(Path(sys.argv[1]), EngineOptions(buffer_max_rows=2000,
                                                     maintenance_interval_s=0.05,
                                                     compaction_min_files=3))
    engine.create_database("db")
    schema = measurement_schema(["host"], {"seq": FieldType.INTEGER})
    seq = 0
    while True:
        seq += 1
        table = pa.table({"time": [seq * 1000 + i for i in range(100)],
                          "host": [f"h{i % 10}" for i in range(100)],
                          "seq": [seq] * 100}, schema=schema)
        batch = PointBatch()
        batch.add(MeasurementBatch("load", table))
        engine.write("db", None, batch)
        print(seq, flush=True)
    """
)


@pytest.mark.e2e
def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked = 0
    deadline = time.monotonic() + 60
    assert child.stdout is not None
    try:
        while acked < 150 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acked = int(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        rest, err = child.communicate(timeout=30)
    # Lines printed before the kill were acknowledged too; a cut last line was not.
    complete = rest.split("\n")[:-1] if rest else []
    for line in complete:
        acked = max(acked, int(line))
    assert acked >= 150, f"child acknowledged only {acked} writes: {err[-2000:]}"

    with Engine(data_dir, EngineOptions(background=False)) as engine:
        with engine.snapshot("db", None, "load", TimeRange()) as snap:
            count, distinct, top = snap.connection.execute(
                "SELECT count(*) FILTER (WHERE seq <= ?), count(DISTINCT seq) "
                "FILTER (WHERE seq <= ?), max(seq) FROM points",
                [acked, acked],
            ).fetchone()
        assert distinct == acked
        assert count == acked * 100
        assert top >= acked
        assert len(list(engine.series("db", "load"))) == 10
