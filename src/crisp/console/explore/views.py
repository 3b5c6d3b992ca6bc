"""Explore and service pages: pickers, filters and results, driven by the API from
the browser; the server only hands the page the names it needs from settings."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crisp.console.explore.querymodel import AGGREGATES, FILTER_OPS
from crisp.console.explore.services import options


def latency_names() -> dict[str, Any]:
    """The latency measurement's names (settings), for links into Explore."""
    opts = options()
    return {
        "measurement": opts.latency_measurement,
        "field": opts.latency_field,
        "service_tag": opts.latency_service_tag,
        "breakdown_tags": list(opts.breakdown_tags),
        "default_db": opts.default_database,
        # Where request and error rates come from, for the pages' note on them.
        "request_counter": ".".join(opts.request_counter) if opts.request_counter else None,
    }


@login_required
def explore(request: HttpRequest) -> HttpResponse:
    # The query state lives in the URL; the page's script reads it from there.
    return render(
        request,
        "console/explore.html",
        {"aggregates": AGGREGATES, "filter_ops": FILTER_OPS},
    )


@login_required
def services(request: HttpRequest) -> HttpResponse:
    # Data comes from /api/services/; the names let rows link onwards.
    return render(request, "console/services.html", {"latency": latency_names()})


@login_required
def service(request: HttpRequest, name: str) -> HttpResponse:
    # Data comes from /api/services/<name>/, which checks access to the database.
    return render(request, "console/service.html", {"latency": latency_names(), "service": name})
