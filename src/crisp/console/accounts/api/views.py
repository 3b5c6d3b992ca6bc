from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crisp.console.accounts.access import visible_teams
from crisp.console.accounts.actions import do_create_api_token
from crisp.console.accounts.api.serializers import (
    APITokenSerializer,
    NewAPITokenSerializer,
    TeamSerializer,
)
from crisp.console.accounts.models import APIToken, Team


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
