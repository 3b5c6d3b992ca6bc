from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crisp.console.accounts.models import Team
from crisp.console.dashboards.models import Dashboard
from crisp.console.explore.api.serializers import ExploreQuerySerializer

MAX_PANELS = 100


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


class TeamField(serializers.PrimaryKeyRelatedField[Team]):
    def get_queryset(self) -> Any:
        return Team.objects.all()


class DashboardSerializer(serializers.ModelSerializer[Dashboard]):
    team = TeamField()
    panels = PanelSerializer(many=True, required=False)

    class Meta:
        model = Dashboard
        fields = ("id", "team", "title", "description", "panels", "created", "updated")
        read_only_fields = ("created", "updated")

    def validate_panels(self, panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(panels) > MAX_PANELS:
            raise serializers.ValidationError(f"at most {MAX_PANELS} panels")
        return panels
