"""``GET|POST /query``: InfluxQL in, InfluxDB 1.x's JSON out.

Statement errors are reported per statement with status 200, a query that does not
parse answers 400 — both as InfluxDB does, so clients handle them unchanged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crisp.influxapi.auth import require_token
from crisp.influxapi.context import APIContext
from crisp.influxapi.errors import HTTPError
from crisp.query.executor import PARSE_ERROR_PREFIX, execute
from crisp.query.results import StatementResult
from crisp.query.timefmt import EPOCH_UNITS, format_time


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
    """InfluxDB answers a query that does not parse with 400 and one top-level error.

    ``results`` are the caller's own (``execute`` builds new rows for every call): their
    time columns are rendered in place."""
    if len(results) == 1 and results[0].get("error", "").startswith(PARSE_ERROR_PREFIX):
        return {"error": results[0]["error"]}, 400
    render_times_in_place(results, epoch)
    return {"results": results}, 200


def render_times_in_place(results: list[StatementResult], epoch: str | None) -> None:
    """Render every ``time`` column per ``epoch`` (None: RFC3339) like
    ``crisp.query.timefmt.format_results``, but in place and formatting each distinct
    timestamp once: answers of many series mostly repeat a few timestamps (max per host
    over 4,000 hosts: 360 distinct times), RFC3339 formatting costs ~10 us a time, and
    copying 4,000 series cost more than encoding them."""
    texts: dict[int, int | str] = {}
    for result in results:
        for one in result.get("series", ()):
            columns = one["columns"]
            if not columns or columns[0] != "time":
                continue
            for row in one["values"]:
                ns = row[0]
                if isinstance(ns, int):
                    text = texts.get(ns)
                    if text is None:
                        text = texts[ns] = format_time(ns, epoch)
                    row[0] = text


def encode_body(body: dict[str, Any], *, pretty: bool) -> bytes:
    """The JSON text of an answer, newline-terminated like InfluxDB's.

    orjson encodes the 4,000 one-row series of a per-host max in ~2 ms, the standard
    library in ~25. It refuses what the standard library takes (integers beyond 64 bits,
    e.g. a sum() that overflowed into DuckDB's HUGEINT); those answers, and ``pretty``
    ones (InfluxDB indents by four spaces, orjson only by two), keep ``json``.
    """
    if not pretty:
        try:
            return orjson.dumps(body, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            pass
    text = json.dumps(body, indent=4 if pretty else None, ensure_ascii=False)
    return (text + "\n").encode()


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
    pretty = params.get("pretty", "").lower() == "true"

    def answer() -> tuple[bytes, int]:
        # Rendering and encoding run in the worker thread too: a large answer's JSON
        # must not hold up the event loop (and every other request) meanwhile.
        results = execute(
            text,
            storage=ctx.storage,
            database=params.get("db") or None,
            rp=params.get("rp") or None,
            now_ns=ctx.clock_ns(),
            guards=ctx.query_guards,
            params=bound,
        )
        body, status = response_body(results, epoch)
        return encode_body(body, pretty=pretty), status

    content, status = await run_in_threadpool(answer)
    return Response(content, status_code=status, media_type="application/json")
