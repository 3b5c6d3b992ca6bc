"""The OpenAPI schema is valid and complete: drf-spectacular reports no warning."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command


def test_schema_generates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    schema = target.read_text()
    for path in ("/api/query/", "/api/metrics/latency/", "/api/dashboards/", "/api/tokens/"):
        assert f"  {path}:" in schema
    assert "tokenAuth" in schema
