"""Dashboard pages: the list of the user's teams' dashboards."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crisp.console.accounts.access import visible_teams
from crisp.console.dashboards.models import Dashboard


@login_required
def dashboard_list(request: HttpRequest) -> HttpResponse:
    dashboards = Dashboard.objects.filter(team__in=visible_teams(request.user)).select_related(
        "team"
    )
    return render(request, "console/dashboards.html", {"dashboards": dashboards})
