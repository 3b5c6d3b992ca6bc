"""``POST /api/crisp/write_arrow?db=&rp=``: a point batch as Arrow IPC, 204 out.

The collector's http sink sends what it spooled this way instead of re-encoding it as
line protocol that storage would parse again (``columnar_body`` has the layout). The
same rules as ``/write`` apply: the write token, the body size cap (gzip included),
404 for a missing database or retention policy, and points storage refuses one by
one (type conflict, series limit) dropped with a 400 ``partial write: ...
dropped=N`` while the rest is stored. A malformed body is refused whole with a 400
naming the measurement and column at fault; a body of another content type gets 415.

The write goes through ``Storage.write``, the engine's columnar write (what the
embedded sink calls), so it is durable in the WAL when the 204 is sent, whatever
``CRISP_WRITE_ACK`` says: decoding IPC costs too little to be worth logging first.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crisp.influxapi.auth import require_token
from crisp.influxapi.body import read_body
from crisp.influxapi.columnar_body import CONTENT_TYPE, ColumnarBodyError, decode_points
from crisp.influxapi.context import APIContext
from crisp.influxapi.errors import HTTPError
from crisp.storage.api import DatabaseNotFound, RetentionPolicyNotFound, WriteResult

COLUMNAR_WRITE_PATH = "/api/crisp/write_arrow"
# /ping of a storage node names the path, so a collector knows it may use it.
COLUMNAR_WRITE_HEADER = "X-Crisp-Columnar-Write"


async def handle_write_arrow(request: Request, ctx: APIContext) -> Response:
    require_token(request, ctx.admin_token)
    database = request.query_params.get("db", "")
    if not database:
        raise HTTPError(400, "database is required: add ?db=NAME to the URL")
    rp = request.query_params.get("rp") or None
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != CONTENT_TYPE:
        raise HTTPError(
            415, f"unsupported Content-Type {media_type or '(none)'!r}: send {CONTENT_TYPE}"
        )
    body = await read_body(request, ctx.max_body_size)
    stored = await run_in_threadpool(_decode_and_write, ctx, database, rp, body)
    if stored.dropped_points:
        raise HTTPError(400, stored.partial_write_message())
    return Response(status_code=204)


def _decode_and_write(ctx: APIContext, database: str, rp: str | None, body: bytes) -> WriteResult:
    try:
        batch = decode_points(body)
    except ColumnarBodyError as error:
        ctx.metrics.columnar_rejected.inc()
        raise HTTPError(400, f"invalid columnar body: {error}") from None
    try:
        return ctx.storage.write(database, rp, batch)
    except (DatabaseNotFound, RetentionPolicyNotFound) as error:
        raise HTTPError(404, str(error)) from None
