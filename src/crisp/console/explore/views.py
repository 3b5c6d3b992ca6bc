"""The Explore page: pickers, filters and results, all driven by the API from the browser."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crisp.console.explore.querymodel import AGGREGATES, FILTER_OPS
from crisp.console.explore.services import options


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
    # Data comes from /api/services/; the names let rows link to Explore pre-filtered.
    opts = options()
    return render(
        request,
        "console/services.html",
        {
            "latency": {
                "measurement": opts.latency_measurement,
                "field": opts.latency_field,
                "service_tag": opts.latency_service_tag,
                "default_db": opts.default_database,
            }
        },
    )
