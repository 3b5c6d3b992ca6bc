"""One wrapper for every HTTP endpoint of the storage API and the collector.

It turns ``HTTPError`` into InfluxDB's JSON error, any other exception into a 500
that leaks nothing (the traceback goes to the log), adds the version headers Influx
clients read, and counts requests and their latency by endpoint and status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crisp import __version__
from crisp.influxapi.errors import HTTPError

log = logging.getLogger(__name__)

# Clients (Telegraf, Grafana, influxdb-python) read this header to pick features; Crisp
# speaks the 1.8 API.
INFLUX_COMPAT_VERSION = "1.8.10"
VERSION_HEADERS = {
    "X-Influxdb-Version": INFLUX_COMPAT_VERSION,
    "X-Influxdb-Build": "OSS",
    "X-Crisp-Version": __version__,
}

Endpoint = Callable[[Request], Awaitable[Response]]


class RequestMetrics(Protocol):
    @property
    def requests(self) -> Counter: ...

    @property
    def request_seconds(self) -> Histogram: ...


def instrumented(name: str, handler: Endpoint, metrics: RequestMetrics) -> Endpoint:
    async def run(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except HTTPError as error:
            response = error.response()
        except Exception:
            log.exception("unexpected error in %s", name)
            response = JSONResponse({"error": "internal error; see the server log"}, 500)
        response.headers.update(VERSION_HEADERS)
        metrics.requests.labels(name, str(response.status_code)).inc()
        metrics.request_seconds.labels(name).observe(time.perf_counter() - started)
        return response

    return run
