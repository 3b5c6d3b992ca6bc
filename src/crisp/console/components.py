"""The console as runtime components: set up Django and its database, then serve HTTP.

``crisp console`` runs these alone (metrics over HTTP); ``crisp serve`` adds them after
its storage components, with an in-process backend on the same engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.applications import Starlette

from crisp.console.explore.backend import InProcessBackend, MetricsBackend
from crisp.core.settings import Settings
from crisp.influxapi.server import HTTPComponent
from crisp.runtime.lifecycle import Component
from crisp.storage.api import Storage

log = logging.getLogger(__name__)


class ConsoleSetupComponent:
    """Configures Django once per process and applies migrations before serving."""

    name = "console database"

    def __init__(self, settings: Settings, backend_factory: Callable[[], MetricsBackend] | None):
        self._settings = settings
        self._backend_factory = backend_factory
        self._has_superuser = True

    async def start(self) -> None:
        await asyncio.to_thread(self._setup)

    def _setup(self) -> None:
        from django.conf import settings as django_settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connections

        from crisp.console.conf import configure

        if not django_settings.configured:
            configure(self._settings, self._backend_factory)
        try:
            call_command("migrate", interactive=False, verbosity=0)
            self._has_superuser = get_user_model().objects.filter(is_superuser=True).exists()
        finally:
            # Connections are per thread; this worker thread's must not leak.
            connections.close_all()

    async def stop(self) -> None:
        from django.conf import settings as django_settings

        if django_settings.configured:
            await asyncio.to_thread(django_settings.CRISP.close_backend)

    def urls(self) -> dict[str, str]:
        if self._has_superuser:
            return {}
        return {"console: first admin": "crisp manage createsuperuser (none exists yet)"}


def console_components(
    settings: Settings, storage: Callable[[], Storage] | None = None
) -> list[Component]:
    """Components serving the console on CRISP_CONSOLE_LISTEN.

    ``storage`` gives the in-process Storage once it has started (``crisp serve``:
    ``lambda: engine_component.engine``); without it the console reads metrics over
    HTTP from CRISP_METRICS_URL, or the storage API at CRISP_LISTEN.
    """
    backend_factory: Callable[[], MetricsBackend] | None = None
    if storage is not None:
        provider = storage

        def backend_factory() -> MetricsBackend:
            return InProcessBackend(provider(), timeout=settings.metrics_timeout)

    def app() -> Starlette:
        from crisp.console.asgi import build_app

        return build_app()

    url = settings.console_listen.url
    http = HTTPComponent(
        "web console",
        app,
        settings.console_listen,
        {"console": f"{url}/", "console API (OpenAPI)": f"{url}/api/docs/"},
    )
    # CRISP_DEMO_DATA (issue 6): demo points into the in-process engine, before the
    # console answers, so its first page has data. Only `crisp serve` has that engine.
    if settings.demo_data and storage is not None:
        from crisp.console.explore.demo import DemoDataComponent, DemoNames

        names = DemoNames(
            database=settings.console_default_db,
            measurement=settings.latency_measurement,
            field=settings.latency_field,
            service_tag=settings.latency_service_tag,
        )
        demo = DemoDataComponent(storage, names)
        return [ConsoleSetupComponent(settings, backend_factory), demo, http]
    if settings.demo_data:
        log.warning("CRISP_DEMO_DATA is ignored: only crisp serve writes demo data")
    return [ConsoleSetupComponent(settings, backend_factory), http]
