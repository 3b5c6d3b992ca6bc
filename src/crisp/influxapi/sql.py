"""``GET|POST /api/v3/query_sql``: read-only SQL over one measurement.

Parameters (URL or JSON body, as InfluxDB 3 takes them): ``db``, ``q``, ``format``
(``json`` — an array of row objects, the default —, ``jsonl`` or ``csv``), and Crisp's
``start``/``end`` (RFC3339 or integer ns; default: the last hour) that bound the rows
the query can see.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crisp.influxapi.auth import require_token
from crisp.influxapi.context import APIContext
from crisp.influxapi.errors import HTTPError
from crisp.query.errors import QueryError
from crisp.query.sql_query import run_sql
from crisp.query.timefmt import parse_time
from crisp.storage.api import DatabaseNotFound, StorageError, TimeRange

DEFAULT_RANGE_NS = 3600 * 10**9
FORMATS = {"json": "application/json", "jsonl": "application/jsonl", "csv": "text/csv"}


async def handle_sql(request: Request, ctx: APIContext) -> Response:
    require_token(request, ctx.admin_token)
    params = await _params(request)
    database, text = str(params.get("db") or ""), str(params.get("q") or "")
    if not database:
        raise HTTPError(400, 'missing required parameter "db"')
    if not text.strip():
        raise HTTPError(400, 'missing required parameter "q"')
    fmt = str(params.get("format") or "json").lower()
    if fmt not in FORMATS:
        raise HTTPError(400, f"invalid format {fmt!r}: use json, jsonl or csv")
    now = ctx.clock_ns()
    start = _time_param(params, "start", now - DEFAULT_RANGE_NS)
    end = _time_param(params, "end", None)
    try:
        table = await run_in_threadpool(
            lambda: run_sql(
                text,
                storage=ctx.storage,
                database=database,
                rp=params.get("rp") or None,
                time_range=TimeRange(start, end),
                guards=ctx.query_guards,
            )
        )
    except DatabaseNotFound as error:
        raise HTTPError(404, str(error)) from None
    except (QueryError, StorageError) as error:
        raise HTTPError(400, str(error)) from None
    return Response(render(table, fmt), media_type=FORMATS[fmt])


def render(table: pa.Table, fmt: str) -> bytes:
    table = _times_as_text(table)
    if fmt == "csv":
        out = io.BytesIO()
        pacsv.write_csv(table, out)
        return out.getvalue()
    rows = table.to_pylist()
    if fmt == "jsonl":
        return "".join(json.dumps(row, default=str) + "\n" for row in rows).encode()
    return json.dumps(rows, default=str).encode()


def _times_as_text(table: pa.Table) -> pa.Table:
    """Timestamps as RFC3339 with all nine digits: JSON has no time type."""
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            text = pc.binary_join_element_wise(
                pc.strftime(table.column(index), format="%Y-%m-%dT%H:%M:%S"), "Z", ""
            )
            table = table.set_column(index, column.name, text)
    return table


def _time_param(params: dict[str, Any], name: str, default: int | None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    text = str(raw).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return parse_time(text)
    except (QueryError, ValueError):
        raise HTTPError(
            400, f"invalid {name} {text!r}: use RFC3339 or integer nanoseconds"
        ) from None


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        if body:
            try:
                decoded = json.loads(body)
            except json.JSONDecodeError as error:
                raise HTTPError(400, f"invalid JSON body: {error}") from None
            if not isinstance(decoded, dict):
                raise HTTPError(400, "invalid JSON body: expected an object")
            params.update(decoded)
    return params
