"""The collector's write handlers: read body → pure parser → spool → answer.

Parsing (CPU) and encoding the spool record run in a worker thread so they never
stall the event loop; the answer waits for the spool's group-commit fsync. The good
points of a partly bad body are spooled and the answer is 400 naming the first bad
line or item, as ``crisp storage`` and InfluxDB 1.x do: the client can fix and resend
what failed, and resending good points only overwrites them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crisp.collector.cardinality import Refusal, SeriesGuard
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import encode_record
from crisp.collector.spool import RETRY_AFTER_SECONDS, Spool, SpoolError, SpoolFull
from crisp.collector.write_tokens import WriteAuth, WriteTokensFile
from crisp.core.batch import ParseResult
from crisp.influxapi.body import read_body
from crisp.influxapi.errors import HTTPError
from crisp.influxapi.write import parse_error_message, v1_target, v2_target
from crisp.protocols.json_points import parse_json_points
from crisp.protocols.line_protocol import parse_line_protocol
from crisp.protocols.otlp import parse_otlp_metrics
from crisp.protocols.prometheus_text import parse_prometheus_text
from crisp.protocols.remote_write import parse_remote_write

# Media types each endpoint takes; "" is a request without Content-Type (curl -T,
# many agents). Form encoding is what `curl --data` sends by default.
JSON_TYPES = frozenset({"", "application/json", "text/plain", "application/x-www-form-urlencoded"})
PROMETHEUS_TEXT_TYPES = frozenset(
    {"", "text/plain", "application/openmetrics-text", "application/x-www-form-urlencoded"}
)
PROTOBUF_TYPES = frozenset({"", "application/x-protobuf", "application/protobuf"})
OTLP_PROTOBUF = frozenset({"application/x-protobuf", "application/protobuf"})
OTLP_JSON = "application/json"
SEED_ACCEPTED = {"message": "Metric accepted for batching"}


@dataclass
class CollectorContext:
    spool: Spool
    metrics: CollectorMetrics
    default_db: str = "metrics"
    admin_token: str = ""
    max_body_size: int = 25_000_000
    clock_ns: Callable[[], int] = field(default=time.time_ns)
    series_guard: SeriesGuard | None = None
    write_tokens: WriteTokensFile | None = None
    auth: WriteAuth = field(init=False)

    def __post_init__(self) -> None:
        self.auth = WriteAuth(self.admin_token, self.write_tokens)


Parse = Callable[[bytes], ParseResult]


# What a LineError's number counts, per protocol (line protocol keeps InfluxDB's wording).
ITEM_NAMES = {
    "json": "item",
    "remote_write": "series",
    "prometheus_text": "line",
    "otlp": "data point",
}


def error_message(protocol: str, result: ParseResult) -> str:
    """400 text naming the first bad line/item, how many more, and what was kept."""
    if protocol not in ITEM_NAMES:
        return parse_error_message(result)
    first = result.errors[0]
    where = "the body" if first.line_number == 0 else f"{ITEM_NAMES[protocol]} {first.line_number}"
    echo = f" ({first.line!r})" if first.line else ""
    more = f"; {len(result.errors) - 1} more rejected" if len(result.errors) > 1 else ""
    kept = result.batch.num_points
    accepted = f"; {kept} good points accepted" if kept else ""
    return f"unable to parse {where}: {first.reason}{echo}{more}{accepted}"


async def accept(
    request: Request,
    ctx: CollectorContext,
    protocol: str,
    database: str,
    rp: str | None,
    parse: Parse,
    payload_encodings: frozenset[str] = frozenset(),
) -> ParseResult:
    """Parse the body and spool its good points; raise 400/413/429/503 as due."""
    ctx.auth.check(request, database)
    # Refuse before reading or parsing when the spool is already full: cheapest 429.
    _check_spool(ctx, 0)
    body = await read_body(request, ctx.max_body_size, payload_encodings)
    ctx.metrics.bytes_received.labels(protocol).inc(len(body))
    result, payload, refusals = await run_in_threadpool(
        _parse_and_encode, parse, body, database, rp, ctx.series_guard
    )
    if result.errors:
        ctx.metrics.points_rejected.labels(protocol).inc(len(result.errors))
    for refusal in refusals:
        ctx.metrics.series_refused.labels(refusal.scope).inc(refusal.points)
    if payload is not None:
        try:
            await ctx.spool.append(payload)
        except SpoolFull as error:
            ctx.metrics.spool_full.inc()
            raise HTTPError(429, str(error), {"Retry-After": str(error.retry_after)}) from None
        except SpoolError as error:
            raise HTTPError(503, str(error), {"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        ctx.metrics.points_accepted.labels(protocol).inc(result.batch.num_points)
        ctx.metrics.spool_bytes.set(ctx.spool.size_bytes)
    if result.errors or refusals:
        raise HTTPError(400, _refusal_message(protocol, result, refusals))
    return result


def _refusal_message(protocol: str, result: ParseResult, refusals: list[Refusal]) -> str:
    parts = [error_message(protocol, result)] if result.errors else []
    parts += [str(refusal) for refusal in refusals]
    if refusals and not result.errors and result.batch.num_points:
        parts.append(f"{result.batch.num_points} points of known series accepted")
    return "; ".join(parts)


def _check_spool(ctx: CollectorContext, size: int) -> None:
    try:
        ctx.spool.check_room(size)
    except SpoolFull as error:
        ctx.metrics.spool_full.inc()
        raise HTTPError(429, str(error), {"Retry-After": str(error.retry_after)}) from None


def _parse_and_encode(
    parse: Parse, body: bytes, database: str, rp: str | None, guard: SeriesGuard | None
) -> tuple[ParseResult, bytes | None, list[Refusal]]:
    try:
        result = parse(body)
    except ValueError as error:  # a bad argument from the request (precision, label)
        raise HTTPError(400, str(error)) from None
    refusals: list[Refusal] = []
    if guard is not None and result.batch.num_points:
        admission = guard.admit(database, result.batch)
        result.batch, refusals = admission.batch, admission.refusals
    if result.batch.num_points == 0:
        return result, None, refusals
    return result, encode_record(database, rp, result.batch), refusals


def _target_db(request: Request, ctx: CollectorContext) -> tuple[str, str | None]:
    params = request.query_params
    return params.get("db") or ctx.default_db, params.get("rp") or None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _require_media(request: Request, allowed: frozenset[str], what: str) -> str:
    media = _media_type(request)
    if media not in allowed:
        shown = ", ".join(sorted(m for m in allowed if m))
        raise HTTPError(415, f"unsupported Content-Type {media!r} for {what}: use {shown}")
    return media


async def write_v1(request: Request, ctx: CollectorContext) -> Response:
    return await _write_line_protocol(request, ctx, "line_protocol", v1_target(request))


async def write_v2(request: Request, ctx: CollectorContext) -> Response:
    return await _write_line_protocol(request, ctx, "line_protocol", v2_target(request))


async def _write_line_protocol(
    request: Request, ctx: CollectorContext, protocol: str, target: tuple[str, str | None, str]
) -> Response:
    database, rp, precision = target
    now = ctx.clock_ns()

    def parse(body: bytes) -> ParseResult:
        return parse_line_protocol(body, precision=precision, default_time_ns=now)

    await accept(request, ctx, protocol, database, rp, parse)
    return Response(status_code=204)


async def write_json(request: Request, ctx: CollectorContext) -> Response:
    _require_media(request, JSON_TYPES, "JSON points")
    database, rp = _target_db(request, ctx)
    now = ctx.clock_ns()

    def parse(body: bytes) -> ParseResult:
        return parse_json_points(body, default_time_ns=now)

    await accept(request, ctx, "json", database, rp, parse)
    # The seed collector's answer, kept so its clients see no change.
    return JSONResponse(SEED_ACCEPTED, status_code=202)


async def write_remote(request: Request, ctx: CollectorContext) -> Response:
    _require_media(request, PROTOBUF_TYPES, "Prometheus remote_write")
    database, rp = _target_db(request, ctx)
    # Prometheus sends Content-Encoding: snappy, but snappy is part of the remote-write
    # payload (the parser decodes it), not a transfer encoding to undo.
    await accept(
        request, ctx, "remote_write", database, rp, parse_remote_write,
        payload_encodings=frozenset({"snappy"}),
    )  # fmt: skip
    return Response(status_code=204)


async def import_prometheus(request: Request, ctx: CollectorContext) -> Response:
    _require_media(request, PROMETHEUS_TEXT_TYPES, "Prometheus text")
    database, rp = _target_db(request, ctx)
    # Pushgateway-style grouping: /job/<job>/instance/<instance>, or ?job=&instance=.
    labels: dict[str, str] = {}
    for name in ("job", "instance"):
        value = request.path_params.get(name) or request.query_params.get(name)
        if value:
            labels[name] = str(value)
    now = ctx.clock_ns()

    def parse(body: bytes) -> ParseResult:
        return parse_prometheus_text(body, default_time_ns=now, extra_labels=labels)

    await accept(request, ctx, "prometheus_text", database, rp, parse)
    return Response(status_code=204)


async def write_otlp(request: Request, ctx: CollectorContext) -> Response:
    media = _require_media(request, OTLP_PROTOBUF | {OTLP_JSON}, "OTLP metrics")
    database, rp = _target_db(request, ctx)
    content_type = request.headers.get("content-type", "")

    def parse(body: bytes) -> ParseResult:
        return parse_otlp_metrics(body, content_type=content_type)

    await accept(request, ctx, "otlp", database, rp, parse)
    # An empty ExportMetricsServiceResponse: zero bytes in protobuf, {} in JSON.
    if media == OTLP_JSON:
        return JSONResponse({}, status_code=200)
    return Response(b"", status_code=200, media_type="application/x-protobuf")
