"""``format=csv`` for query answers (``?format=csv`` or ``Accept: text/csv``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from crisp.console.explore.csvexport import series_csv


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        # Views answer errors as JSON (see QueryView.finalize_response); only answers
        # with series get here.
        return series_csv(data["series"]).encode("utf-8")
