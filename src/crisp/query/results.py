"""The InfluxDB 1.x ``/query`` JSON shape, per statement."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Series(TypedDict):
    name: NotRequired[str]
    tags: NotRequired[dict[str, str]]
    columns: list[str]
    values: list[list[Any]]


class StatementResult(TypedDict):
    statement_id: int
    series: NotRequired[list[Series]]
    error: NotRequired[str]
