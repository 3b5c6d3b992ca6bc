"""The small HTTP API of ``crisp consume``: ``/ping``, ``/health``, ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisp import __version__
from crisp.consume.consumer import Consumer
from crisp.consume.metrics import ConsumeMetrics
from crisp.influxapi.endpoint import instrumented


def create_app(
    consumer: Callable[[], Consumer], metrics: ConsumeMetrics, stream: str, durable: str
) -> Starlette:
    async def ping(request: Request) -> Response:
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        current = consumer()
        # 503 while NATS is unreachable, so probes and load balancers notice.
        return JSONResponse(
            {
                "name": "crisp-consume",
                "status": "pass" if current.connected else "fail",
                "message": "consuming" if current.connected else "not connected to NATS",
                "version": __version__,
                "stream": stream,
                "durable": durable,
                "pending_messages": current.pending,
            },
            status_code=200 if current.connected else 503,
        )

    async def metrics_page(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/ping", instrumented("ping", ping, metrics), methods=["GET", "HEAD"]),
            Route("/health", instrumented("health", health, metrics), methods=["GET"]),
            Route("/metrics", instrumented("metrics", metrics_page, metrics), methods=["GET"]),
        ]
    )
