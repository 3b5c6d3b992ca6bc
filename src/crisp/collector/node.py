"""The components of ``crisp collector``: [engine,] spool + delivery, then the HTTP API.

Started in that order and stopped in reverse (``crisp.runtime.lifecycle``): on SIGTERM
the HTTP API stops taking requests first, then the spool lets queued appends finish
and closes, delivery gets a few seconds to hand what is spooled to the sink (what it
cannot stays in the spool for the next start), and an embedded engine persists last.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from crisp.collector.app import create_app
from crisp.collector.deadletter import DeadLetters
from crisp.collector.delivery import Delivery, DeliveryOptions
from crisp.collector.handlers import CollectorContext
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.sinks import EmbeddedSink, HTTPSink, Sink
from crisp.collector.spool import Spool
from crisp.core.settings import Settings
from crisp.influxapi.server import HTTPComponent
from crisp.runtime.lifecycle import Component

if TYPE_CHECKING:
    from crisp.runtime.storage_node import EngineComponent

DEAD_LETTER_DIR = "dead-letter"
SPOOL_SUBDIR = "spool"


def segment_bytes_for(max_bytes: int) -> int:
    # Small enough that delivered data is reclaimed well before the cap, large enough
    # that rotation (two fsyncs) stays rare.
    return min(64 * 1024 * 1024, max(1024 * 1024, max_bytes // 16))


class CollectorPipeline:
    """Opens the spool (replaying what a previous run left) and runs delivery."""

    name = "collector spool and delivery"

    def __init__(
        self,
        settings: Settings,
        metrics: CollectorMetrics,
        sink_factory: Callable[[], Sink],
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._sink_factory = sink_factory
        self._spool: Spool | None = None
        self._sink: Sink | None = None
        self._delivery: Delivery | None = None

    @property
    def spool(self) -> Spool:
        if self._spool is None:
            raise RuntimeError("collector spool used before it started")
        return self._spool

    async def start(self) -> None:
        s = self._settings
        self._spool = await asyncio.to_thread(
            Spool,
            s.spool_dir / SPOOL_SUBDIR,
            max_bytes=s.spool_max_bytes,
            segment_bytes=segment_bytes_for(s.spool_max_bytes),
            on_fsync=self._metrics.spool_fsync_seconds.observe,
        )
        self._metrics.spool_bytes.set(self._spool.size_bytes)
        self._sink = self._sink_factory()
        self._delivery = Delivery(
            self._spool,
            self._sink,
            DeadLetters(s.spool_dir / DEAD_LETTER_DIR),
            self._metrics,
            DeliveryOptions(
                batch_size=s.writer_batch_size,
                flush_interval=s.writer_flush_interval,
                retry_initial=s.sink_retry_initial,
                retry_max=s.sink_retry_max,
            ),
        )
        self._delivery.start()

    async def stop(self) -> None:
        if self._spool is not None:
            await self._spool.close()
        if self._delivery is not None:
            await self._delivery.stop()
        if self._sink is not None:
            await self._sink.close()

    def urls(self) -> dict[str, str]:
        return {"spool directory": str(self._settings.spool_dir.resolve())}


def collector_node(
    settings: Settings, registry: CollectorRegistry, engine: EngineComponent | None = None
) -> list[Component]:
    """The collector's components; with ``engine`` (``crisp serve``) an embedded sink
    shares that already-started engine instead of opening the data dir itself."""
    metrics = CollectorMetrics(registry)
    components: list[Component] = []
    sink_factory: Callable[[], Sink]
    if settings.sink == "embedded":
        if engine is None:
            # Imported here: an http-sink collector never loads the storage engine.
            from crisp.runtime.storage_node import engine_component

            engine = engine_component(settings, registry)
            components.append(engine)
        embedded = engine

        def sink_factory() -> Sink:
            return EmbeddedSink(embedded.engine)

    else:

        def sink_factory() -> Sink:
            return HTTPSink(settings.sink, token=settings.sink_token, timeout=settings.sink_timeout)

    pipeline = CollectorPipeline(settings, metrics, sink_factory)
    components.append(pipeline)

    def app() -> Starlette:
        ctx = CollectorContext(
            spool=pipeline.spool,
            metrics=metrics,
            default_db=settings.collector_default_db,
            admin_token=settings.admin_token,
            max_body_size=settings.max_body_size,
        )
        return create_app(ctx, registry, settings.sink)

    url = settings.collector_listen.url
    components.append(
        HTTPComponent(
            "collector ingest API",
            app,
            settings.collector_listen,
            {
                "line protocol": f"{url}/write?db=DB",
                "JSON points": f"{url}/api/v1/metrics",
                "remote_write": f"{url}/api/v1/write",
                "Prometheus text": f"{url}/api/v1/import/prometheus",
                "OTLP/HTTP metrics": f"{url}/v1/metrics",
                "self-metrics": f"{url}/metrics",
            },
        )
    )
    return components
