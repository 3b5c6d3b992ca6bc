from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crisp.console.accounts.models import APIToken, Team


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
