"""Dashboard pages: the list of the user's teams' dashboards (with import for editors)
and one dashboard as a grid of panels; data and changes go through the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from crisp.console.accounts.access import can_edit_team, visible_teams
from crisp.console.dashboards.models import Dashboard


@login_required
def dashboard_list(request: HttpRequest) -> HttpResponse:
    teams = visible_teams(request.user)
    dashboards = Dashboard.objects.filter(team__in=teams).select_related("team")
    editable = [{"id": t.pk, "name": t.name} for t in teams if can_edit_team(request.user, t)]
    return render(
        request,
        "console/dashboards.html",
        {"dashboards": dashboards, "editable_teams": editable},
    )


@login_required
def dashboard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Another team's dashboard is not found, as in the API.
    dashboard = get_object_or_404(
        Dashboard.objects.select_related("team"), pk=pk, team__in=visible_teams(request.user)
    )
    return render(
        request,
        "console/dashboard.html",
        {
            "dashboard": dashboard,
            "page": {"id": dashboard.pk, "can_edit": can_edit_team(request.user, dashboard.team)},
        },
    )
