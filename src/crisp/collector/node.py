"""The components of ``crisp collector``: [engine,] spool + delivery, then the HTTP API.

Started in that order and stopped in reverse (``crisp.runtime.lifecycle``): on SIGTERM
the HTTP API stops taking requests first, then the spool lets queued appends finish
and closes, delivery gets a few seconds to hand what is spooled to the sink (what it
cannot stays in the spool for the next start), and an embedded engine persists last.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from crisp.collector.aggregation import Aggregator
from crisp.collector.aggregation_checkpoint import CheckpointFile, PreAggregation
from crisp.collector.aggregation_rules import AggregationRules
from crisp.collector.app import create_app
from crisp.collector.cardinality import SeriesGuard
from crisp.collector.deadletter import DeadLetters
from crisp.collector.delivery import Delivery, DeliveryOptions
from crisp.collector.handlers import CollectorContext
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.nats_sink import NATSSink
from crisp.collector.nats_target import is_nats_url, parse_nats_url
from crisp.collector.sinks import EmbeddedSink, Sink
from crisp.collector.spool import Spool
from crisp.collector.storage_sink import StorageHTTPSink
from crisp.collector.udp import UDPComponent, UDPOptions
from crisp.collector.write_tokens import WriteTokensFile
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
        aggregation_rules: AggregationRules | None = None,
    ) -> None:
        self._settings = settings
        self._aggregation_rules = aggregation_rules
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
            aggregation=pre_aggregation(self._aggregation_rules, self._spool.directory),
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


def pre_aggregation(rules: AggregationRules | None, spool: Path) -> PreAggregation | None:
    """Pre-aggregation for this spool: with rules, or to finish a previous run's windows."""
    checkpoints = CheckpointFile(spool)
    if rules is None and not checkpoints.path.exists():
        return None
    return PreAggregation(Aggregator(rules or AggregationRules()), checkpoints)


def series_guard(settings: Settings) -> SeriesGuard | None:
    """One guard for every protocol of the process; None when both limits are off."""
    per_measurement = settings.collector_max_series_per_measurement
    per_database = settings.collector_max_series_per_database
    if not per_measurement and not per_database:
        return None
    return SeriesGuard(per_measurement or sys.maxsize, per_database or sys.maxsize)


def storage_sink(
    settings: Settings, registry: CollectorRegistry, engine: EngineComponent | None = None
) -> tuple[Callable[[], Sink], list[Component]]:
    """A factory of the storage sink ``CRISP_SINK`` names (embedded or http), and the
    engine component to start first when embedded and none is shared."""
    if is_nats_url(settings.sink):
        raise ValueError(f"CRISP_SINK={settings.sink!r} is not storage: use embedded or a URL")
    if settings.sink != "embedded":

        def http_sink() -> Sink:
            # Arrow to a Crisp storage node, line protocol to any other server.
            return StorageHTTPSink(
                settings.sink, token=settings.sink_token, timeout=settings.sink_timeout
            )

        return http_sink, []
    components: list[Component] = []
    if engine is None:
        # Imported here: an http-sink process never loads the storage engine.
        from crisp.runtime.storage_node import engine_component

        engine = engine_component(settings, registry)
        components.append(engine)
    embedded = engine

    def embedded_sink() -> Sink:
        return EmbeddedSink(embedded.engine)

    return embedded_sink, components


def collector_node(
    settings: Settings,
    registry: CollectorRegistry,
    engine: EngineComponent | None = None,
    *,
    shared_port: bool = False,
) -> list[Component]:
    """The collector's components; with ``engine`` (``crisp serve``) an embedded sink
    shares that already-started engine instead of opening the data dir itself;
    ``shared_port``: one of several workers on the listen port (``workers``)."""
    metrics = CollectorMetrics(registry)
    components: list[Component] = []
    sink_factory: Callable[[], Sink]
    if is_nats_url(settings.sink):
        target = parse_nats_url(settings.sink)

        def sink_factory() -> Sink:
            return NATSSink(
                target,
                stream_max_bytes=settings.nats_stream_max_bytes,
                timeout=settings.sink_timeout,
            )

    else:
        sink_factory, engine_to_start = storage_sink(settings, registry, engine)
        components += engine_to_start

    # Read now: a bad rules file stops start-up with its reason (ValueError/OSError).
    rules_file = settings.collector_aggregation_file
    rules = AggregationRules.load(rules_file) if rules_file else None
    pipeline = CollectorPipeline(settings, metrics, sink_factory, rules)
    components.append(pipeline)
    # /health shows the sink; a NATS URL may carry a password.
    sink_display = settings.sink
    if is_nats_url(settings.sink):
        sink_display = parse_nats_url(settings.sink).display

    def app() -> Starlette:
        ctx = CollectorContext(
            spool=pipeline.spool,
            metrics=metrics,
            default_db=settings.collector_default_db,
            admin_token=settings.admin_token,
            max_body_size=settings.max_body_size,
            series_guard=guard,
            write_tokens=write_tokens,
        )
        return create_app(ctx, registry, sink_display)

    guard = series_guard(settings)
    # Read now: a bad tokens file stops start-up with its reason (ValueError/OSError).
    write_tokens = (
        WriteTokensFile(settings.write_tokens_file) if settings.write_tokens_file else None
    )
    if settings.collector_udp_listen is not None:
        udp_options = UDPOptions(
            settings.collector_udp_db, settings.collector_udp_precision, guard
        )
        udp_address = settings.collector_udp_listen
        components.append(UDPComponent(udp_address, lambda: pipeline.spool, metrics, udp_options))
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
            shared_port=shared_port,
        )
    )
    return components
