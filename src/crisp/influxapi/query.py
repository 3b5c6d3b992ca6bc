"""``GET|POST /query``: InfluxQL in, InfluxDB 1.x's JSON out.

Statement errors are reported per statement with status 200, a query that does not
parse answers 400 — both as InfluxDB does, so clients handle them unchanged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crisp.influxapi.auth import require_token
from crisp.influxapi.context import APIContext
from crisp.influxapi.errors import HTTPError
from crisp.query.executor import PARSE_ERROR_PREFIX, execute
from crisp.query.results import StatementResult
from crisp.query.timefmt import EPOCH_UNITS, format_results


async def query_params(request: Request) -> dict[str, str]:
    """Parameters from the URL, plus a urlencoded POST body (``q`` is often sent there)."""
    params = dict(request.query_params)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            params.update({key: values[-1] for key, values in form.items()})
    return params


def bound_params(text: str | None) -> dict[str, Any] | None:
    """``params`` is a JSON object of values for ``$name`` placeholders, as in InfluxDB."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise HTTPError(400, f"error parsing query parameters: {error}") from None
    if not isinstance(value, dict):
        raise HTTPError(400, "error parsing query parameters: expected a JSON object")
    return value


def response_body(results: list[StatementResult], epoch: str | None) -> tuple[dict[str, Any], int]:
    """InfluxDB answers a query that does not parse with 400 and one top-level error."""
    if len(results) == 1 and results[0].get("error", "").startswith(PARSE_ERROR_PREFIX):
        return {"error": results[0]["error"]}, 400
    return {"results": format_results(results, epoch)}, 200


async def handle_query(request: Request, ctx: APIContext) -> Response:
    require_token(request, ctx.admin_token)
    params = await query_params(request)
    text = params.get("q", "")
    if not text.strip():
        raise HTTPError(400, 'missing required parameter "q"')
    epoch = params.get("epoch") or None
    if epoch is not None and epoch not in EPOCH_UNITS:
        raise HTTPError(400, f"invalid epoch {epoch!r}: use one of {', '.join(EPOCH_UNITS)}")
    bound = bound_params(params.get("params"))
    results = await run_in_threadpool(
        lambda: execute(
            text,
            storage=ctx.storage,
            database=params.get("db") or None,
            rp=params.get("rp") or None,
            now_ns=ctx.clock_ns(),
            guards=ctx.query_guards,
            params=bound,
        )
    )
    body, status = response_body(results, epoch)
    pretty = params.get("pretty", "").lower() == "true"
    content = json.dumps(body, indent=4 if pretty else None, ensure_ascii=False)
    return Response(content + "\n", status_code=status, media_type="application/json")
