"""``POST /write`` (v1) and ``POST /api/v2/write``: line protocol in, 204 out.

The body is parsed and written in a worker thread: parsing is CPU work and the write
waits for the WAL fsync, neither may stall the event loop. Like InfluxDB 1.x, the
good lines of a partly bad body are written and the answer is 400 naming the first
bad line, so a client can fix and resend only what failed (same series and time
overwrite, resending is harmless).

With ``CRISP_WRITE_ACK=logged`` the raw body is logged (WAL, fsync) and acknowledged
before it is parsed; only what is cheap to check first (UTF-8, precision) still gets
its 400 here, lines refused later are kept by storage (see ``crisp.storage.rejected``).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crisp.core.batch import ParseResult
from crisp.influxapi.auth import require_token
from crisp.influxapi.body import read_body
from crisp.influxapi.context import APIContext
from crisp.influxapi.errors import HTTPError
from crisp.protocols.line_protocol import parse_line_protocol
from crisp.protocols.line_protocol.precision import precision_multiplier
from crisp.storage.api import DatabaseNotFound, RetentionPolicyNotFound, WriteResult

V2_PRECISIONS = {"ns": "ns", "us": "u", "ms": "ms", "s": "s"}


def v1_target(request: Request) -> tuple[str, str | None, str]:
    params = request.query_params
    database = params.get("db", "")
    if not database:
        raise HTTPError(400, "database is required: add ?db=NAME to the URL")
    return database, params.get("rp") or None, params.get("precision") or "ns"


def v2_target(request: Request) -> tuple[str, str | None, str]:
    params = request.query_params
    bucket = params.get("bucket", "")
    if not bucket:
        raise HTTPError(400, "bucket is required: add ?bucket=DB or ?bucket=DB/RP to the URL")
    database, _, rp = bucket.partition("/")
    precision = params.get("precision") or "ns"
    if precision not in V2_PRECISIONS:
        raise HTTPError(400, f"invalid precision {precision!r}: use ns, us, ms or s")
    return database, rp or None, V2_PRECISIONS[precision]


async def handle_write(
    request: Request, ctx: APIContext, target: tuple[str, str | None, str]
) -> Response:
    require_token(request, ctx.admin_token)
    database, rp, precision = target
    body = await read_body(request, ctx.max_body_size)
    now_ns = ctx.clock_ns()
    if ctx.write_ack == "logged" and _loggable(body, precision):
        await run_in_threadpool(_log_lines, ctx, database, rp, precision, body, now_ns)
        return Response(status_code=204)
    result, stored = await run_in_threadpool(
        _parse_and_write, ctx, database, rp, precision, body, now_ns
    )
    if result.errors:
        ctx.metrics.lines_rejected.inc(len(result.errors))
        message = parse_error_message(result)
        if stored.dropped_points:
            message += f"; {stored.partial_write_message()}"
        raise HTTPError(400, message)
    if stored.dropped_points:
        raise HTTPError(400, stored.partial_write_message())
    return Response(status_code=204)


def parse_error_message(result: ParseResult) -> str:
    """InfluxDB 1.x's wording (clients match on it), plus the line number and counts."""
    first = result.errors[0]
    more = f"; {len(result.errors) - 1} more bad lines" if len(result.errors) > 1 else ""
    message = f"unable to parse {first.line!r}: {first.reason} (line {first.line_number}{more})"
    if result.batch.num_points:
        return f"partial write: {message}; {result.batch.num_points} good points written dropped=0"
    return message


def _loggable(body: bytes, precision: str) -> bool:
    """What the logged path checks before acknowledging; anything else is parsed first
    so that its 400 names the problem."""
    try:
        precision_multiplier(precision)
        body.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _log_lines(
    ctx: APIContext, database: str, rp: str | None, precision: str, body: bytes, now_ns: int
) -> None:
    if not body.strip():
        return
    try:
        ctx.storage.write_lines(database, rp, body, precision, now_ns)
    except (DatabaseNotFound, RetentionPolicyNotFound) as error:
        raise HTTPError(404, str(error)) from None


def _parse_and_write(
    ctx: APIContext, database: str, rp: str | None, precision: str, body: bytes, now_ns: int
) -> tuple[ParseResult, WriteResult]:
    try:
        result = parse_line_protocol(body, precision=precision, default_time_ns=now_ns)
    except ValueError as error:
        raise HTTPError(400, str(error)) from None
    if result.batch.num_points == 0:
        return result, WriteResult(0, 0)
    try:
        return result, ctx.storage.write(database, rp, result.batch)
    except (DatabaseNotFound, RetentionPolicyNotFound) as error:
        raise HTTPError(404, str(error)) from None
