"""``crisp serve`` with the console, as the runtime will wire it: the storage node's
components, then ``console_components`` on the same engine (in-process backend).

Run as ``python -m tests.unit.console.serve_with_console`` with CRISP_* set.
"""

from __future__ import annotations

import sys

from prometheus_client import CollectorRegistry

from crisp.cli.running import run_until_stopped
from crisp.console.components import console_components
from crisp.core.logging import configure_logging
from crisp.core.settings import load_settings
from crisp.runtime.storage_node import EngineComponent, storage_node


def main() -> int:
    settings = load_settings()
    configure_logging(settings)
    storage = storage_node(settings, CollectorRegistry())
    engine = next(c for c in storage if isinstance(c, EngineComponent))
    return run_until_stopped([*storage, *console_components(settings, lambda: engine.engine)])


if __name__ == "__main__":
    sys.exit(main())
