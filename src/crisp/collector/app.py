"""The collector's Starlette application: routes, error shaping, request metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisp import __version__
from crisp.collector import handlers
from crisp.collector.handlers import CollectorContext
from crisp.influxapi.endpoint import Endpoint, instrumented

Handler = Callable[[Request, CollectorContext], Awaitable[Response]]


def create_app(ctx: CollectorContext, registry: CollectorRegistry, sink: str) -> Starlette:
    def endpoint(name: str, handler: Handler) -> Endpoint:
        return instrumented(name, lambda request: handler(request, ctx), ctx.metrics)

    async def ping(request: Request, ctx: CollectorContext) -> Response:
        return Response(status_code=204)

    async def health(request: Request, ctx: CollectorContext) -> Response:
        return JSONResponse(
            {
                "name": "crisp-collector",
                "message": "ready for writes",
                "status": "pass",
                "version": __version__,
                "sink": sink,
                "spool_bytes": ctx.spool.size_bytes,
                "spool_max_bytes": ctx.spool.max_bytes,
            }
        )

    async def metrics(request: Request, ctx: CollectorContext) -> Response:
        ctx.metrics.spool_bytes.set(ctx.spool.size_bytes)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    prometheus = endpoint("import_prometheus", handlers.import_prometheus)
    routes = [
        Route("/ping", endpoint("ping", ping), methods=["GET", "HEAD"]),
        Route("/health", endpoint("health", health), methods=["GET"]),
        Route("/metrics", endpoint("metrics", metrics), methods=["GET"]),
        Route("/write", endpoint("write", handlers.write_v1), methods=["POST"]),
        Route("/api/v2/write", endpoint("write_v2", handlers.write_v2), methods=["POST"]),
        Route("/api/v1/metrics", endpoint("json", handlers.write_json), methods=["POST"]),
        Route("/api/v1/write", endpoint("remote_write", handlers.write_remote), methods=["POST"]),
        Route("/api/v1/import/prometheus", prometheus, methods=["POST"]),
        Route("/api/v1/import/prometheus/job/{job}", prometheus, methods=["POST"]),
        Route(
            "/api/v1/import/prometheus/job/{job}/instance/{instance}",
            prometheus,
            methods=["POST"],
        ),
        Route("/v1/metrics", endpoint("otlp", handlers.write_otlp), methods=["POST"]),
    ]
    return Starlette(routes=routes)
