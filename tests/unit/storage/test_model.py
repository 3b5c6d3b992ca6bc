"""Randomised check against a dict model: writes, overwrites, flushes, compactions,
deletes and restarts in any order must read back exactly what the model holds."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from crisp.storage.api import TimeRange
from crisp.storage.engine import Engine

from .conftest import make_batch, quiet_options, rows

Key = tuple[str | None, int]  # (host, time)


@pytest.mark.parametrize("seed", range(4))
def test_engine_matches_model(data_dir: Path, seed: int) -> None:
    rnd = random.Random(seed)
    model: dict[Key, dict[str, Any]] = {}
    opts = quiet_options(compaction_min_files=2)
    eng = Engine(data_dir, opts)
    eng.create_database("db")
    try:
        for _ in range(40):
            op = rnd.random()
            if op < 0.6:
                points = []
                for _ in range(rnd.randint(1, 6)):
                    host = rnd.choice(["a", "b", None])
                    t = rnd.randint(0, 20)
                    point: dict[str, Any] = {"time": t}
                    if host is not None:
                        point["host"] = host
                    for f in rnd.sample(["x", "y", "s"], rnd.randint(1, 3)):
                        point[f] = rnd.random() if f != "s" else str(rnd.randint(0, 9))
                    points.append(point)
                    fields = {k: v for k, v in point.items() if k not in ("time", "host")}
                    model.setdefault((host, t), {}).update(fields)
                eng.write("db", None, make_batch("m", points,
                                                  types=None))
            elif op < 0.7:
                eng.flush()
            elif op < 0.8:
                eng.compact()
            elif op < 0.9:
                lo = rnd.randint(0, 20)
                hi = lo + rnd.randint(1, 5)
                host = rnd.choice(["a", "b", None])
                eng.delete("db", "m", TimeRange(lo, hi), {"host": host} if host else None)
                for key in [k for k in model if lo <= k[1] < hi and (host is None or
                                                                     k[0] == host)]:
                    del model[key]
            else:
                eng.close()
                eng = Engine(data_dir, opts)
            expected = sorted(
                ({"time": t, "host": h, "s": f.get("s"), "x": f.get("x"), "y": f.get("y")}
                 for (h, t), f in model.items()),
                key=lambda r: (r["time"], r["host"] or ""),
            )
            got = sorted(
                ({"time": r["time"], "host": r.get("host"), "s": r.get("s"),
                  "x": r.get("x"), "y": r.get("y")} for r in rows(eng, "db", "m")),
                key=lambda r: (r["time"], r["host"] or ""),
            ) if eng.measurements("db") else []
            assert got == expected
    finally:
        eng.close()
