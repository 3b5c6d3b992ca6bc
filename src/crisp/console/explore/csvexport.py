"""An explore answer as CSV: one row per series and time, tags as columns.

Long format (``time, <tag keys…>, <value columns…>``) so a spreadsheet or pandas can
pivot it any way. Tag values are user data: one starting with ``= + - @`` or a tab
would run as a formula in a spreadsheet, so it is prefixed with ``'`` (OWASP's
advice for CSV injection); numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from crisp.query.results import Series

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    return value


def series_csv(series: list[Series]) -> str:
    tag_keys = sorted({key for one in series for key in (one.get("tags") or {})})
    value_columns: list[str] = []
    for one in series:
        for column in one["columns"][1:]:
            if column not in value_columns:
                value_columns.append(column)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", *(safe_text(k) for k in tag_keys), *map(safe_text, value_columns)])
    for one in series:
        tags = one.get("tags") or {}
        tag_cells = [_cell(tags.get(key)) for key in tag_keys]
        positions = {column: i for i, column in enumerate(one["columns"])}
        for row in one["values"]:
            values = [_cell(row[positions[c]]) if c in positions else "" for c in value_columns]
            writer.writerow([row[0], *tag_cells, *values])
    return out.getvalue()
