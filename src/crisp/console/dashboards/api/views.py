"""Dashboards API: members of the owning team read and run panels; its editors and
admins write (create, change, delete, import)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crisp.console.accounts.access import can_edit_team, visible_teams
from crisp.console.accounts.models import Team
from crisp.console.dashboards.actions import (
    do_create_dashboard,
    do_delete_dashboard,
    do_update_dashboard,
)
from crisp.console.dashboards.api.serializers import (
    DashboardImportSerializer,
    DashboardSerializer,
    PanelAnswerSerializer,
    PanelQuerySerializer,
    export_document,
)
from crisp.console.dashboards.models import Dashboard
from crisp.console.dashboards.variables import substitute
from crisp.console.explore import services
from crisp.console.explore.api.serializers import ExploreQuerySerializer
from crisp.console.explore.api.views import access_database, query_response


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

    @extend_schema(request=PanelQuerySerializer, responses=PanelAnswerSerializer)
    @action(detail=True, methods=["post"], serializer_class=PanelQuerySerializer)
    def query(self, request: Request, pk: str | None = None) -> Response:
        """Run one panel with the page's variable values (``$name`` filters) and range."""
        dashboard = self.get_object()
        params = PanelQuerySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data["panel"] >= len(dashboard.panels):
            raise ValidationError({"panel": [f"this dashboard has {len(dashboard.panels)} panels"]})
        body = dict(dashboard.panels[data["panel"]]["query"])
        body.update({key: data[key] for key in ("start", "end") if key in data})
        stored = ExploreQuerySerializer(data=body)
        stored.is_valid(raise_exception=True)
        query = substitute(stored.to_query(), data.get("variables", {}))
        response = query_response(request, query)
        if response.status_code == 200:
            # The same view in Explore: the saved model with the variables put in.
            response.data["explore"] = {**body, "filters": [asdict(f) for f in query.filters]}
        return response

    @extend_schema(
        request=None,
        responses={
            200: {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "values": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    )
    @action(detail=True, methods=["get"], url_path="variable-values")
    def variable_values(self, request: Request, pk: str | None = None) -> Response:
        """Each variable's choices: the values of its tag in storage."""
        dashboard = self.get_object()
        backend = services.metrics_backend()
        answer = []
        for variable in dashboard.variables:
            database = access_database(request, variable["database"])
            values = backend.tag_values(database, variable["measurement"], variable["tag"])
            answer.append({"name": variable["name"], "values": values})
        return Response(answer)

    @extend_schema(request=None, responses={200: {"type": "object"}})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        """The dashboard as portable JSON (no id, no team) for ``import``."""
        dashboard = self.get_object()
        response = Response(export_document(dashboard))
        response["Content-Disposition"] = f'attachment; filename="dashboard-{dashboard.pk}.json"'
        return response

    @extend_schema(request=DashboardImportSerializer, responses={201: DashboardSerializer})
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        serializer_class=DashboardImportSerializer,
    )
    def import_dashboard(self, request: Request) -> Response:
        """Create a dashboard in ``team`` from an export document (editors and admins)."""
        params = DashboardImportSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        team: Team = params.validated_data["team"]
        self._require_editor(team)
        document = {
            key: value
            for key, value in params.validated_data["dashboard"].items()
            if key in ("title", "description", "panels", "variables")
        }
        serializer = DashboardSerializer(data={**document, "team": team.pk})
        serializer.is_valid(raise_exception=True)
        dashboard = do_create_dashboard(request.user, dict(serializer.validated_data))  # type: ignore[arg-type]
        body = DashboardSerializer(dashboard, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)
