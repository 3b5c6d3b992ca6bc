"""The components of ``crisp consume``: [engine,] then the consumer.

Stopped in reverse: the consumer finishes the message in hand and flushes its acks,
then an embedded engine persists and closes.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from crisp.collector.deadletter import DeadLetters
from crisp.collector.nats_target import NatsTarget, check_consumer_name, parse_nats_url
from crisp.collector.node import DEAD_LETTER_DIR, storage_sink
from crisp.collector.sinks import Sink
from crisp.consume.app import create_app
from crisp.consume.consumer import ConsumeOptions, Consumer
from crisp.consume.metrics import ConsumeMetrics
from crisp.core.settings import Settings
from crisp.influxapi.server import HTTPComponent
from crisp.runtime.lifecycle import Component


class ConsumerComponent:
    name = "NATS consumer"

    def __init__(
        self,
        target: NatsTarget,
        sink_factory: Callable[[], Sink],
        dead_letters: DeadLetters,
        metrics: ConsumeMetrics,
        options: ConsumeOptions,
        sink_name: str,
    ) -> None:
        self._target = target
        self._sink_factory = sink_factory
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._options = options
        self._sink_name = sink_name
        self._sink: Sink | None = None
        self._consumer: Consumer | None = None

    async def start(self) -> None:
        self._sink = self._sink_factory()
        self._consumer = Consumer(
            self._target, self._sink, self._dead_letters, self._metrics, self._options
        )
        self._consumer.start()

    @property
    def consumer(self) -> Consumer:
        if self._consumer is None:
            raise RuntimeError("consumer used before it started")
        return self._consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._sink is not None:
            await self._sink.close()

    def urls(self) -> dict[str, str]:
        return {
            "reading stream": self._target.display,
            "durable consumer": self._options.durable,
            "writing to": self._sink_name,
            "dead letters": str(self._dead_letters.directory.resolve()),
        }


def consume_node(settings: Settings, registry: CollectorRegistry) -> list[Component]:
    """Raises ValueError for a missing or unusable NATS URL or a non-storage sink."""
    if not settings.consume_nats:
        raise ValueError("no stream to read: give --nats nats://HOST:PORT/STREAM")
    target = parse_nats_url(settings.consume_nats)
    sink_factory, components = storage_sink(settings, registry)
    options = ConsumeOptions(
        durable=check_consumer_name(settings.consume_durable),
        default_db=settings.collector_default_db,
        stream_max_bytes=settings.nats_stream_max_bytes,
        timeout=settings.sink_timeout,
        retry_initial=settings.sink_retry_initial,
        retry_max=settings.sink_retry_max,
    )
    dead_letters = DeadLetters(settings.spool_dir / DEAD_LETTER_DIR)
    metrics = ConsumeMetrics(registry)
    consumer = ConsumerComponent(
        target, sink_factory, dead_letters, metrics, options, settings.sink
    )

    def app() -> Starlette:
        return create_app(lambda: consumer.consumer, metrics, target.display, options.durable)

    url = settings.consume_listen.url
    api = HTTPComponent(
        "consume health and metrics",
        app,
        settings.consume_listen,
        {"health": f"{url}/health", "self-metrics": f"{url}/metrics"},
    )
    # The HTTP API last: it reports on the consumer, which must exist first.
    return [*components, consumer, api]
