"""The components of a storage node: the embedded engine, then its HTTP API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from crisp.core.batch import ParseResult
from crisp.core.settings import Settings
from crisp.influxapi.app import create_app
from crisp.influxapi.context import APIContext
from crisp.influxapi.server import HTTPComponent
from crisp.protocols.line_protocol import parse_line_protocol
from crisp.runtime.lifecycle import Component
from crisp.storage.engine import Engine, EngineOptions


class EngineComponent:
    """Opens the engine (WAL replay) on start; persists and closes it on stop."""

    name = "storage engine"

    def __init__(self, data_dir: Path, options: EngineOptions) -> None:
        self._data_dir = data_dir
        self._options = options
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("storage engine used before it started")
        return self._engine

    async def start(self) -> None:
        self._engine = await asyncio.to_thread(Engine, self._data_dir, self._options)

    async def stop(self) -> None:
        if self._engine is not None:
            await asyncio.to_thread(self._engine.close)

    def urls(self) -> dict[str, str]:
        return {"data directory": str(self._data_dir.resolve())}


def parse_logged_lines(body: bytes, precision: str, default_time_ns: int) -> ParseResult:
    """The engine's parser for bodies it logged before parsing (``write_lines``)."""
    return parse_line_protocol(body, precision=precision, default_time_ns=default_time_ns)


def engine_component(settings: Settings, registry: CollectorRegistry) -> EngineComponent:
    options = EngineOptions(
        wal_fsync=settings.wal_fsync, registry=registry, parse_lines=parse_logged_lines
    )
    return EngineComponent(settings.data_dir, options)


def storage_api(
    engine: EngineComponent, settings: Settings, registry: CollectorRegistry
) -> HTTPComponent:
    """The InfluxDB-compatible API over ``engine``, which must start before it."""

    def app() -> Starlette:
        return create_app(
            APIContext(
                storage=engine.engine,
                registry=registry,
                admin_token=settings.admin_token,
                max_body_size=settings.max_body_size,
                write_ack=settings.write_ack,
            )
        )

    url = settings.listen.url
    return HTTPComponent(
        "InfluxDB-compatible API",
        app,
        settings.listen,
        {
            "write (line protocol)": f"{url}/write?db=DB",
            "query (InfluxQL)": f"{url}/query",
            "query (SQL)": f"{url}/api/v3/query_sql",
        },
    )


def storage_node(settings: Settings, registry: CollectorRegistry) -> list[Component]:
    engine = engine_component(settings, registry)
    return [engine, storage_api(engine, settings, registry)]
