"""The Starlette application serving the InfluxDB-compatible API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisp import __version__
from crisp.influxapi.context import APIContext
from crisp.influxapi.endpoint import Endpoint, instrumented
from crisp.influxapi.query import handle_query
from crisp.influxapi.sql import handle_sql
from crisp.influxapi.write import handle_write, v1_target, v2_target
from crisp.influxapi.write_columnar import (
    COLUMNAR_WRITE_HEADER,
    COLUMNAR_WRITE_PATH,
    handle_write_arrow,
)

Handler = Callable[[Request, APIContext], Awaitable[Response]]


def create_app(ctx: APIContext) -> Starlette:
    def endpoint(name: str, handler: Handler) -> Endpoint:
        return instrumented(name, lambda request: handler(request, ctx), ctx.metrics)

    routes = [
        Route("/ping", endpoint("ping", _ping), methods=["GET", "HEAD"]),
        Route("/health", endpoint("health", _health), methods=["GET"]),
        Route("/metrics", endpoint("metrics", _metrics), methods=["GET"]),
        Route(
            "/write",
            endpoint("write", lambda r, c: handle_write(r, c, v1_target(r))),
            methods=["POST"],
        ),
        Route(
            "/api/v2/write",
            endpoint("write_v2", lambda r, c: handle_write(r, c, v2_target(r))),
            methods=["POST"],
        ),
        Route(
            COLUMNAR_WRITE_PATH,
            endpoint("write_arrow", handle_write_arrow),
            methods=["POST"],
        ),
        Route("/query", endpoint("query", handle_query), methods=["GET", "POST"]),
        Route("/api/v3/query_sql", endpoint("query_sql", handle_sql), methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)


async def _ping(request: Request, ctx: APIContext) -> Response:
    # The header tells a collector's http sink that this is Crisp storage, which takes
    # its batches as Arrow (``write_columnar``) rather than as line protocol.
    return Response(status_code=204, headers={COLUMNAR_WRITE_HEADER: COLUMNAR_WRITE_PATH})


async def _health(request: Request, ctx: APIContext) -> Response:
    return JSONResponse(
        {
            "name": "crisp",
            "message": "ready for queries and writes",
            "status": "pass",
            "version": __version__,
        }
    )


async def _metrics(request: Request, ctx: APIContext) -> Response:
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)
