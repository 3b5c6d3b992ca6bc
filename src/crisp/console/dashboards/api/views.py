"""Dashboards CRUD: members of the owning team read; its editors and admins write."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from crisp.console.accounts.access import can_edit_team, visible_teams
from crisp.console.accounts.models import Team
from crisp.console.dashboards.actions import (
    do_create_dashboard,
    do_delete_dashboard,
    do_update_dashboard,
)
from crisp.console.dashboards.api.serializers import DashboardSerializer
from crisp.console.dashboards.models import Dashboard


class DashboardViewSet(viewsets.ModelViewSet[Dashboard]):
    serializer_class = DashboardSerializer

    def get_queryset(self) -> QuerySet[Dashboard]:
        # Other teams' dashboards are not found (404) rather than forbidden: their
        # existence is not the user's business.
        return Dashboard.objects.filter(team__in=visible_teams(self.request.user)).select_related(
            "team"
        )

    def _require_editor(self, team: Team) -> None:
        if not can_edit_team(self.request.user, team):
            raise PermissionDenied(f"only editors and admins of team {team.name!r} may do this")

    def perform_create(self, serializer: serializers.BaseSerializer[Dashboard]) -> None:
        data: dict[str, Any] = dict(serializer.validated_data)
        self._require_editor(data["team"])
        serializer.instance = do_create_dashboard(self.request.user, data)  # type: ignore[arg-type]

    def perform_update(self, serializer: serializers.BaseSerializer[Dashboard]) -> None:
        assert serializer.instance is not None
        data: dict[str, Any] = dict(serializer.validated_data)
        self._require_editor(serializer.instance.team)
        if "team" in data:
            # Moving a dashboard needs the right to edit in the destination too.
            self._require_editor(data["team"])
        serializer.instance = do_update_dashboard(serializer.instance, data)

    def perform_destroy(self, instance: Dashboard) -> None:
        self._require_editor(instance.team)
        do_delete_dashboard(instance)
