"""A real InfluxDB 1.x (Debian's ``influxd``) for compatibility tests.

Started by the same code ``crisp bench compare`` uses, on free loopback ports in a
temp dir; skipped locally (failed in CI) when influxd is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crisp.bench.servers import running_server
from tests.conftest import require_binary


@contextmanager
def running_influxd(root: Path) -> Iterator[str]:
    """Yield the base URL of a fresh influxd; stop it afterwards."""
    require_binary("influxd", "apt-get install influxdb")
    with running_server("influxdb", root) as server:
        yield server.url
