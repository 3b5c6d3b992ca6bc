"""Start components in dependency order, stop them in reverse on SIGTERM/SIGINT.

A component is anything with an async ``start`` and ``stop``. Starting stops at the
first failure and unwinds what already started, so a half-started process never
keeps a port or a WAL open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def urls(self) -> dict[str, str]:
        """What a user should open or point clients at, by purpose."""
        ...


async def run_components(
    components: Sequence[Component],
    *,
    on_ready: Callable[[Sequence[Component]], None],
    stop_event: asyncio.Event | None = None,
) -> None:
    """Start ``components`` in order, call ``on_ready``, wait for a stop signal, stop all.

    The stop signal is SIGTERM/SIGINT, or ``stop_event`` being set (tests use that).
    """
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started: list[Component] = []
    try:
        for component in components:
            log.info("starting %s", component.name)
            await component.start()
            started.append(component)
        on_ready(started)
        await stop.wait()
        log.info("stop requested; stopping %d components", len(started))
    finally:
        for component in reversed(started):
            try:
                await component.stop()
                log.info("stopped %s", component.name)
            except Exception:
                log.exception("error while stopping %s", component.name)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def finish_task(task: asyncio.Task[None], seconds: float) -> None:
    """Let ``task`` end by itself for up to ``seconds`` (a component's graceful stop),
    then cancel it."""
    try:
        await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
