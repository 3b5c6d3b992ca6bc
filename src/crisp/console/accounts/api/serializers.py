from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crisp.console.accounts.access import is_superuser
from crisp.console.accounts.models import APIToken, Team, WriteToken
from crisp.console.explore.api.serializers import name_field

MAX_WRITE_TOKEN_DATABASES = 50


class TeamSerializer(serializers.ModelSerializer[Team]):
    databases = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ("id", "name", "slug", "description", "databases", "role")

    def get_databases(self, team: Team) -> list[str]:
        return [grant.database for grant in team.databases.all()]

    def get_role(self, team: Team) -> str | None:
        user = self.context["request"].user
        membership = next((m for m in team.memberships.all() if m.user_id == user.pk), None)
        return membership.role if membership else None


class APITokenSerializer(serializers.ModelSerializer[APIToken]):
    class Meta:
        model = APIToken
        fields: tuple[str, ...] = ("id", "name", "prefix", "created", "last_used", "expires")
        read_only_fields = ("prefix", "created", "last_used")


class NewAPITokenSerializer(APITokenSerializer):
    """The answer to a create: the only time the clear token is sent."""

    token = serializers.SerializerMethodField()

    class Meta(APITokenSerializer.Meta):
        fields = (*APITokenSerializer.Meta.fields, "token")

    def get_token(self, _: Any) -> str:
        return str(self.context["token"])


class WriteTokenSerializer(serializers.ModelSerializer[WriteToken]):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    databases = serializers.ListField(
        child=name_field(),
        min_length=1,
        max_length=MAX_WRITE_TOKEN_DATABASES,
        help_text="databases it may write to: the team's granted ones (superusers: also "
        "shell patterns such as payments_*)",
    )

    class Meta:
        model = WriteToken
        fields: tuple[str, ...] = (
            "id",
            "team",
            "name",
            "prefix",
            "databases",
            "created",
            "expires",
        )
        read_only_fields = ("prefix", "created")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        team: Team = attrs["team"]
        if not is_superuser(user):
            granted = set(team.databases.values_list("database", flat=True))
            outside = [d for d in attrs["databases"] if d not in granted]
            if outside:
                raise serializers.ValidationError(
                    {"databases": [f"team {team.name!r} is not granted database {outside[0]!r}"]}
                )
        return attrs


class NewWriteTokenSerializer(WriteTokenSerializer):
    """The answer to a create: the only time the clear token is sent."""

    token = serializers.SerializerMethodField()

    class Meta(WriteTokenSerializer.Meta):
        fields = (*WriteTokenSerializer.Meta.fields, "token")

    def get_token(self, _: Any) -> str:
        return str(self.context["token"])
