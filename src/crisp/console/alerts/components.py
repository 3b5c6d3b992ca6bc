"""The alerting worker as a runtime component: a thread running ticks until stopped.

``crisp serve`` adds it after the console's components (Django is set up, migrations
applied, the in-process metrics backend shares the engine); ``crisp worker`` runs it
with the console's database setup and a small /metrics server of its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisp.console.components import ConsoleSetupComponent
from crisp.core.settings import Settings
from crisp.influxapi.server import HTTPComponent
from crisp.runtime.lifecycle import Component

if TYPE_CHECKING:
    from crisp.console.alerts.worker import AlertWorker

log = logging.getLogger(__name__)

# After an unexpected error (database gone, a bug), wait before the next tick rather
# than spin; the error is logged each time.
_ERROR_PAUSE = 5.0
# /health fails when no tick completed for this long (nor for one lease).
_STALE_AFTER = 60.0


class WorkerComponent:
    name = "alerting worker"

    def __init__(self, settings: Settings, registry: CollectorRegistry) -> None:
        self._settings = settings
        self._registry = registry
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_tick: float | None = None  # time.monotonic() at the end of the last tick

    async def start(self) -> None:
        from django.conf import settings as django_settings

        from crisp.console.alerts.worker import AlertWorker, WorkerOptions
        from crisp.console.alerts.worker_metrics import WorkerMetrics

        options = django_settings.CRISP
        worker = AlertWorker(
            options.metrics_backend,
            WorkerMetrics(self._registry),
            options=WorkerOptions(
                default_database=options.default_database,
                external_url=f"{self._settings.console_listen.url}/alerts/",
                lease=timedelta(seconds=self._settings.worker_lease),
                history_retention=timedelta(seconds=self._settings.alert_history_retention),
            ),
        )
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(worker,), name="alerting-worker", daemon=True
        )
        self._thread.start()

    def _run(self, worker: AlertWorker) -> None:
        from django.db import connections

        try:
            while not self._stop.is_set():
                try:
                    pause = worker.tick()
                    self.last_tick = time.monotonic()
                except Exception:
                    log.exception("alerting worker tick failed")
                    pause = _ERROR_PAUSE
                    connections.close_all()  # a broken connection is reopened next tick
                self._stop.wait(pause)
        finally:
            worker.close()
            connections.close_all()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    def urls(self) -> dict[str, str]:
        return {}

    def healthy(self) -> bool:
        """Whether a tick completed lately (a tick waits at most a second between runs)."""
        if self.last_tick is None:
            return False
        return time.monotonic() - self.last_tick < max(_STALE_AFTER, self._settings.worker_lease)


def metrics_app(registry: CollectorRegistry, healthy: Callable[[], bool]) -> Starlette:
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def health(_: Request) -> Response:
        if healthy():
            return JSONResponse({"status": "pass"})
        return JSONResponse(
            {"status": "fail", "message": "the worker has not completed a tick lately"},
            status_code=503,
        )

    return Starlette(routes=[Route("/metrics", metrics), Route("/health", health)])


def worker_components(settings: Settings, registry: CollectorRegistry) -> list[Component]:
    """``crisp worker``: console database, the worker, its /metrics on CRISP_WORKER_LISTEN."""
    url = settings.worker_listen.url
    worker = WorkerComponent(settings, registry)
    return [
        ConsoleSetupComponent(settings, None),
        worker,
        HTTPComponent(
            "worker metrics",
            lambda: metrics_app(registry, worker.healthy),
            settings.worker_listen,
            {"worker self-metrics": f"{url}/metrics", "worker health": f"{url}/health"},
        ),
    ]
