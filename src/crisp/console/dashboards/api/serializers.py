from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crisp.console.accounts.access import can_edit_team
from crisp.console.accounts.models import Team
from crisp.console.dashboards import variables
from crisp.console.dashboards.models import Dashboard
from crisp.console.explore.api.serializers import (
    ExploreQuerySerializer,
    QueryAnswerSerializer,
    name_field,
)
from crisp.console.explore.querymodel import MAX_VALUE_LENGTH

MAX_PANELS = 100
MAX_VARIABLES = 20
EXPORT_FORMAT = 1


class GridPositionSerializer(serializers.Serializer[Any]):
    x = serializers.IntegerField(min_value=0, max_value=23, default=0)
    y = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    w = serializers.IntegerField(min_value=1, max_value=24, default=12)
    h = serializers.IntegerField(min_value=1, max_value=100, default=8)


class PanelSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=("timeseries", "table"), default="timeseries")
    query = ExploreQuerySerializer()
    grid = GridPositionSerializer(required=False)

    def to_internal_value(self, data: Any) -> Any:
        # Validate with the explore rules, but store what was sent (text times such as
        # "-1h"), not the parsed values, so the panel stays relative to "now".
        super().to_internal_value(data)
        query_keys = set(ExploreQuerySerializer().fields)
        query = {k: v for k, v in dict(data["query"]).items() if k in query_keys}
        panel: dict[str, Any] = {
            "title": data["title"],
            "type": data.get("type", "timeseries"),
            "query": query,
        }
        if "grid" in data:
            grid = GridPositionSerializer(data=data["grid"])
            grid.is_valid(raise_exception=True)
            panel["grid"] = dict(grid.validated_data)
        return panel


class VariableSerializer(serializers.Serializer[Any]):
    """``$name`` in panel filters, picked from the values of ``tag`` in storage."""

    name = serializers.RegexField(
        variables.NAME_RE.pattern,
        max_length=64,
        help_text="letters, digits and _, not starting with a digit; panels use $name",
    )
    title = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="shown instead of name"
    )
    database = name_field()
    measurement = name_field()
    tag = name_field()
    default_value = serializers.CharField(
        max_length=MAX_VALUE_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="value picked when the page names none; empty: all values",
    )

    def validate_name(self, value: str) -> str:
        if not variables.NAME_RE.fullmatch(value):
            raise serializers.ValidationError("letters, digits and _, not starting with a digit")
        return value


@extend_schema_field(OpenApiTypes.INT)
class TeamField(serializers.PrimaryKeyRelatedField[Team]):
    def get_queryset(self) -> Any:
        return Team.objects.all()


class DashboardSerializer(serializers.ModelSerializer[Dashboard]):
    team = TeamField()
    panels = PanelSerializer(many=True, required=False)
    variables = VariableSerializer(many=True, required=False)
    can_edit = serializers.SerializerMethodField(help_text="whether the caller may change it")

    class Meta:
        model = Dashboard
        fields = (
            "id",
            "team",
            "title",
            "description",
            "panels",
            "variables",
            "can_edit",
            "created",
            "updated",
        )
        read_only_fields = ("created", "updated")

    def get_can_edit(self, dashboard: Dashboard) -> bool:
        request = self.context.get("request")
        return request is not None and can_edit_team(request.user, dashboard.team)

    def validate_panels(self, panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(panels) > MAX_PANELS:
            raise serializers.ValidationError(f"at most {MAX_PANELS} panels")
        return panels

    def validate_variables(self, defined: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(defined) > MAX_VARIABLES:
            raise serializers.ValidationError(f"at most {MAX_VARIABLES} variables")
        names = [v["name"] for v in defined]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("variable names must be unique")
        return [dict(v) for v in defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # On a partial update the other half comes from the stored dashboard.
        stored = self.instance
        panels = attrs.get("panels", stored.panels if stored else [])
        defined = attrs.get("variables", stored.variables if stored else [])
        names = {v["name"] for v in defined}
        for number, panel in enumerate(panels, start=1):
            unknown = variables.references(panel["query"].get("filters", [])) - names
            if unknown:
                raise serializers.ValidationError(
                    {"panels": [f"panel {number} uses undefined variable ${sorted(unknown)[0]}"]}
                )
        return attrs


class PanelQuerySerializer(serializers.Serializer[Any]):
    """Run one panel: its saved query with the page's variable values and time range."""

    panel = serializers.IntegerField(min_value=0, help_text="the panel's index (0 first)")
    variables = serializers.DictField(
        child=serializers.CharField(
            max_length=MAX_VALUE_LENGTH, allow_blank=True, trim_whitespace=False
        ),
        required=False,
        help_text="variable name → picked value; empty or absent: all values",
    )
    start = serializers.CharField(required=False, help_text="overrides the panel's start")
    end = serializers.CharField(required=False, help_text="overrides the panel's end")


class PanelAnswerSerializer(QueryAnswerSerializer):
    explore = serializers.DictField(
        help_text="the panel's query with the variables put in, as POST /api/query/ takes it"
    )


def export_document(dashboard: Dashboard) -> dict[str, Any]:
    """A dashboard as portable JSON: no ids, no team; import takes it back."""
    return {
        "crisp_dashboard": EXPORT_FORMAT,
        "title": dashboard.title,
        "description": dashboard.description,
        "variables": dashboard.variables,
        "panels": dashboard.panels,
    }


class DashboardImportSerializer(serializers.Serializer[Any]):
    team = TeamField()
    dashboard = serializers.DictField(help_text="a document from .../export/")

    def validate_dashboard(self, document: dict[str, Any]) -> dict[str, Any]:
        version = document.get("crisp_dashboard")
        if version != EXPORT_FORMAT:
            raise serializers.ValidationError(
                f"not a Crisp dashboard export (crisp_dashboard must be {EXPORT_FORMAT})"
            )
        return document
