import asyncio
from collections.abc import Sequence

import pytest

from crisp.runtime.lifecycle import Component, run_components


class Recorder:
    def __init__(self, name: str, events: list[str], fail_start: bool = False) -> None:
        self.name = name
        self.events = events
        self.fail_start = fail_start

    async def start(self) -> None:
        if self.fail_start:
            raise OSError(f"{self.name} cannot start")
        self.events.append(f"start {self.name}")

    async def stop(self) -> None:
        self.events.append(f"stop {self.name}")

    def urls(self) -> dict[str, str]:
        return {self.name: f"http://{self.name}"}


def test_starts_in_order_and_stops_in_reverse() -> None:
    events: list[str] = []
    stop = asyncio.Event()

    def ready(started: Sequence[Component]) -> None:
        events.append("ready " + ",".join(c.name for c in started))
        stop.set()

    components = [Recorder("engine", events), Recorder("api", events)]
    asyncio.run(run_components(components, on_ready=ready, stop_event=stop))
    assert events == ["start engine", "start api", "ready engine,api", "stop api", "stop engine"]


def test_failed_start_unwinds_what_started_and_reports_the_error() -> None:
    events: list[str] = []
    components = [Recorder("engine", events), Recorder("api", events, fail_start=True)]
    with pytest.raises(OSError, match="api cannot start"):
        asyncio.run(run_components(components, on_ready=lambda _: events.append("ready")))
    assert events == ["start engine", "stop engine"]
