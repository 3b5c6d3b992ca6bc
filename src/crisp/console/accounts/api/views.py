from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from crisp.console.accounts.access import can_admin_team, visible_teams
from crisp.console.accounts.actions import do_create_api_token
from crisp.console.accounts.api.serializers import (
    APITokenSerializer,
    NewAPITokenSerializer,
    NewWriteTokenSerializer,
    TeamSerializer,
    WriteTokenSerializer,
)
from crisp.console.accounts.models import APIToken, Team, WriteToken
from crisp.console.accounts.write_tokens import (
    WriteTokensNotConfigured,
    do_create_write_token,
    do_delete_write_token,
)


class TeamViewSet(viewsets.ReadOnlyModelViewSet[Team]):
    """Teams the user belongs to (all for superusers), with grants and the user's role."""

    serializer_class = TeamSerializer

    def get_queryset(self) -> QuerySet[Team]:
        return visible_teams(self.request.user).prefetch_related("databases", "memberships")


class APITokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[APIToken],
):
    """The user's own API tokens; a new token is shown in the create answer only."""

    serializer_class = APITokenSerializer

    def get_queryset(self) -> QuerySet[APIToken]:
        # IsAuthenticated has run: there is a signed-in user with a primary key.
        return APIToken.objects.filter(user_id=int(self.request.user.pk or 0))

    @extend_schema(responses={201: NewAPITokenSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record, token = do_create_api_token(
            request.user,  # type: ignore[arg-type]  # IsAuthenticated guarantees a user
            name=serializer.validated_data.get("name", ""),
            expires=serializer.validated_data.get("expires"),
        )
        body = NewAPITokenSerializer(record, context={"token": token}).data
        return Response(body, status=status.HTTP_201_CREATED)


class WriteTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[WriteToken],
):
    """The collector's write tokens of the user's teams; team admins create and revoke
    them. The clear token is in the create answer only; the collector learns of every
    change through CRISP_WRITE_TOKENS_FILE, which the console rewrites."""

    serializer_class = WriteTokenSerializer

    def get_queryset(self) -> QuerySet[WriteToken]:
        teams = visible_teams(self.request.user)
        return WriteToken.objects.filter(team__in=teams).select_related("team")

    def _require_admin(self, team: Team) -> None:
        if not can_admin_team(self.request.user, team):
            raise PermissionDenied(f"only admins of team {team.name!r} manage its write tokens")

    @extend_schema(responses={201: NewWriteTokenSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self._require_admin(data["team"])
        try:
            record, token = do_create_write_token(
                data["team"], data["name"], data["databases"], data.get("expires")
            )
        except WriteTokensNotConfigured as error:
            return Response({"error": str(error)}, status=status.HTTP_409_CONFLICT)
        body = NewWriteTokenSerializer(record, context={"token": token, "request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: WriteToken) -> None:
        self._require_admin(instance.team)
        do_delete_write_token(instance)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        try:
            return super().destroy(request, *args, **kwargs)
        except WriteTokensNotConfigured as error:
            return Response({"error": str(error)}, status=status.HTTP_409_CONFLICT)
