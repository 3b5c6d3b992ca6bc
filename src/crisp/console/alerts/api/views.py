"""Alerting API: rules, channels and silences CRUD; states, history and the notification
log read-only; a team's routes read or replaced; the alert file imported and exported;
a rule previewed; a channel tested. Other teams' objects are not found (404)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crisp.alerting.rules import AlertFileError, load_alert_file, parse_alert_document
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.access import access_teams_by_user, require_database, require_editor
from crisp.console.alerts.actions import (
    MissingSecret,
    RuleNameTaken,
    do_create_silence,
    do_delete_rule,
    do_import_alert_file,
    do_replace_routes,
    do_save_channel,
    do_update_rule,
    export_document,
)
from crisp.console.alerts.api import serializers as s
from crisp.console.alerts.previewing import rule_preview
from crisp.console.alerts.testsend import do_test_channel
from crisp.core.yaml_text import dump_yaml, load_yaml


def _teams(request: Request) -> QuerySet[Team]:
    return access_teams_by_user(request.user)


class RuleViewSet(viewsets.ModelViewSet[models.AlertRule]):
    serializer_class = s.RuleSerializer

    def get_queryset(self) -> QuerySet[models.AlertRule]:
        return (
            models.AlertRule.objects.filter(team__in=_teams(self.request))
            .select_related("team")
            .prefetch_related("instances")
        )

    def _save(self, serializer: serializers.BaseSerializer[models.AlertRule]) -> None:
        data: dict[str, Any] = dict(serializer.validated_data)
        stored = serializer.instance
        team: Team = data.get("team") or stored.team  # type: ignore[union-attr]
        require_editor(self.request.user, team)
        if stored is not None and stored.team != team:
            require_editor(self.request.user, stored.team)
        rule = data["rule"]
        if rule.query is not None:
            require_database(self.request.user, rule.database or _default_database())
        try:
            saved = do_update_rule(stored, team, data["spec"])
        except RuleNameTaken as exc:
            raise ValidationError({"spec": [str(exc)]}) from None
        if "enabled" in data:
            saved.enabled = data["enabled"]
            saved.save(update_fields=["enabled"])
        serializer.instance = saved

    def perform_create(self, serializer: serializers.BaseSerializer[models.AlertRule]) -> None:
        self._save(serializer)

    def perform_update(self, serializer: serializers.BaseSerializer[models.AlertRule]) -> None:
        self._save(serializer)

    def perform_destroy(self, instance: models.AlertRule) -> None:
        require_editor(self.request.user, instance.team)
        do_delete_rule(instance)


class ChannelViewSet(viewsets.ModelViewSet[models.Channel]):
    serializer_class = s.ChannelSerializer

    def get_queryset(self) -> QuerySet[models.Channel]:
        return models.Channel.objects.filter(team__in=_teams(self.request)).select_related("team")

    def _save(self, serializer: serializers.BaseSerializer[models.Channel]) -> None:
        data: dict[str, Any] = dict(serializer.validated_data)
        instance = serializer.instance
        team: Team = data.get("team") or instance.team  # type: ignore[union-attr]
        require_editor(self.request.user, team)
        name = data.get("name") or instance.name  # type: ignore[union-attr]
        if instance is None and models.Channel.objects.filter(team=team, name=name).exists():
            raise ValidationError({"name": [f"team already has a channel {name!r}"]})
        if instance is not None and (instance.name, instance.team_id) != (name, team.pk):
            require_editor(self.request.user, instance.team)
            instance.name, instance.team = name, team
            instance.save()
        try:
            stored, _ = do_save_channel(
                team,
                name,
                data.get("type") or instance.type,  # type: ignore[union-attr]
                data.get("settings", instance.settings if instance else {}),
            )
        except MissingSecret as exc:
            raise ValidationError({"settings": [str(exc)]}) from None
        serializer.instance = stored

    def perform_create(self, serializer: serializers.BaseSerializer[models.Channel]) -> None:
        self._save(serializer)

    def perform_update(self, serializer: serializers.BaseSerializer[models.Channel]) -> None:
        self._save(serializer)

    def perform_destroy(self, instance: models.Channel) -> None:
        require_editor(self.request.user, instance.team)
        instance.delete()

    @extend_schema(request=None, responses={200: s.NotificationSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send a test notification now; the answer says whether the receiver took it."""
        channel = self.get_object()
        require_editor(request.user, channel.team)
        log = do_test_channel(channel, request.user.get_username())
        code = status.HTTP_200_OK if log.ok else status.HTTP_502_BAD_GATEWAY
        return Response(s.NotificationSerializer(log).data, status=code)


class SilenceViewSet(viewsets.ModelViewSet[models.Silence]):
    serializer_class = s.SilenceSerializer

    def get_queryset(self) -> QuerySet[models.Silence]:
        return models.Silence.objects.filter(team__in=_teams(self.request)).select_related(
            "team", "created_by"
        )

    def perform_create(self, serializer: serializers.BaseSerializer[models.Silence]) -> None:
        data: dict[str, Any] = dict(serializer.validated_data)
        team = data.pop("team")
        require_editor(self.request.user, team)
        user = self.request.user if self.request.user.is_authenticated else None
        serializer.instance = do_create_silence(team, user, data)

    def perform_update(self, serializer: serializers.BaseSerializer[models.Silence]) -> None:
        assert serializer.instance is not None
        require_editor(self.request.user, serializer.instance.team)
        if "team" in serializer.validated_data:
            require_editor(self.request.user, serializer.validated_data["team"])
        serializer.save()

    def perform_destroy(self, instance: models.Silence) -> None:
        require_editor(self.request.user, instance.team)
        instance.delete()


_RULE_FILTER = OpenApiParameter("rule", int, description="only this rule's rows")


def _filter_rule(request: Request, queryset: QuerySet[Any]) -> QuerySet[Any]:
    rule = request.query_params.get("rule")
    if rule:
        if not rule.isdigit():
            raise ValidationError({"rule": "expected a rule id"})
        queryset = queryset.filter(rule_id=int(rule))
    return queryset


@extend_schema(parameters=[_RULE_FILTER])
class InstanceViewSet(viewsets.ReadOnlyModelViewSet[models.AlertInstance]):
    serializer_class = s.InstanceSerializer

    def get_queryset(self) -> QuerySet[models.AlertInstance]:
        rows = models.AlertInstance.objects.filter(rule__team__in=_teams(self.request))
        return _filter_rule(self.request, rows.select_related("rule"))


@extend_schema(parameters=[_RULE_FILTER])
class TransitionViewSet(viewsets.ReadOnlyModelViewSet[models.AlertTransition]):
    serializer_class = s.TransitionSerializer

    def get_queryset(self) -> QuerySet[models.AlertTransition]:
        rows = models.AlertTransition.objects.filter(rule__team__in=_teams(self.request))
        return _filter_rule(self.request, rows.select_related("rule"))[:1000]


class NotificationViewSet(viewsets.ReadOnlyModelViewSet[models.NotificationLog]):
    serializer_class = s.NotificationSerializer

    def get_queryset(self) -> QuerySet[models.NotificationLog]:
        return models.NotificationLog.objects.filter(channel__team__in=_teams(self.request))[:1000]


def _default_database() -> str:
    return str(settings.CRISP.default_database)


class ImportView(APIView):
    """Import an alert file into a team: channels, rules and routes upserted by name."""

    @extend_schema(request=s.ImportSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        body = s.ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = access_teams_by_user(request.user).filter(pk=body.validated_data["team"]).first()
        if team is None:
            raise NotFound("no such team")
        require_editor(request.user, team)
        text = body.validated_data["document"]
        known = list(models.Channel.objects.filter(team=team).values_list("name", flat=True))
        try:
            alert_file = load_alert_file(text, known)
        except AlertFileError as exc:
            return Response(
                {"error": "invalid alert file", "problems": list(exc.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        for rule in alert_file.rules:
            if rule.query is not None:
                require_database(request.user, rule.database or _default_database())
        doc = load_yaml(text) or {}
        try:
            summary = do_import_alert_file(team, alert_file, has_routes="routes" in doc)
        except MissingSecret as exc:
            return Response(
                {"error": "invalid alert file", "problems": [str(exc)]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"summary": str(summary)})


class ExportView(APIView):
    """The team's alerting as an alert file (YAML); secrets stay sealed or references."""

    @extend_schema(
        parameters=[OpenApiParameter("team", int, required=True)],
        responses={(200, "application/yaml"): str},
    )
    def get(self, request: Request) -> HttpResponse:
        team = _visible_team(request, request.query_params.get("team", ""))
        text = dump_yaml(export_document(team), sort_keys=False, allow_unicode=True)
        return HttpResponse(text, content_type="application/yaml")


class PreviewView(APIView):
    """Where a rule (saved or not) would have fired: its query over a range, replayed."""

    @extend_schema(request=s.PreviewSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        body = s.PreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = body.validated_data["spec"]
        database = rule.database or _default_database()
        require_database(request.user, database)
        return Response(rule_preview(rule, database, body.validated_data["range"]))


class RoutesView(APIView):
    """A team's routes (label routing, grouping, mute windows), read or replaced whole."""

    @extend_schema(parameters=[OpenApiParameter("team", int, required=True)], responses={200: dict})
    def get(self, request: Request) -> Response:
        team = _visible_team(request, request.query_params.get("team", ""))
        rows = models.Route.objects.filter(team=team).order_by("position")
        return Response({"team": team.pk, "routes": [r.spec for r in rows]})

    @extend_schema(request=s.RoutesSerializer, responses={200: dict})
    def put(self, request: Request) -> Response:
        body = s.RoutesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = _visible_team(request, str(body.validated_data["team"]))
        require_editor(request.user, team)
        known = list(models.Channel.objects.filter(team=team).values_list("name", flat=True))
        try:
            parsed = parse_alert_document({"routes": body.validated_data["routes"]}, known)
        except AlertFileError as exc:
            return Response(
                {"error": "invalid routes", "problems": list(exc.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        do_replace_routes(team, parsed.routes)
        rows = models.Route.objects.filter(team=team).order_by("position")
        return Response({"team": team.pk, "routes": [r.spec for r in rows]})


def _visible_team(request: Request, team_id: str) -> Team:
    if not team_id.isdigit():
        raise ValidationError({"team": "expected a team id"})
    team = access_teams_by_user(request.user).filter(pk=int(team_id)).first()
    if team is None:
        raise NotFound("no such team")
    return team
