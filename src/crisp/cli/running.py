"""Shared by the long-running commands: run components until a signal, print URLs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from crisp.runtime.lifecycle import Component, run_components
from crisp.storage.api import StorageError

log = logging.getLogger(__name__)


def print_ready(started: Sequence[Component]) -> None:
    lines = ["Crisp is ready:"]
    for component in started:
        for purpose, url in component.urls().items():
            lines.append(f"  {purpose:<24} {url}")
    lines.append("Stop with Ctrl-C (SIGINT) or SIGTERM; buffered data is flushed first.")
    print("\n".join(lines), flush=True)


def run_until_stopped(components: Sequence[Component]) -> int:
    """Exit status 0 after a clean stop, 1 when a component could not start."""
    try:
        asyncio.run(run_components(components, on_ready=print_ready))
    except (OSError, StorageError) as error:
        # A port in use, a data directory another engine holds: the reason, no traceback.
        log.error("%s", error)
        return 1
    return 0
