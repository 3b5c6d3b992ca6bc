from __future__ import annotations

from typing import Any

import yaml
from django.utils import timezone
from rest_framework import serializers

from crisp.alerting.rules import AlertFileError, parse_alert_document, parse_rule
from crisp.alerting.silences import parse_matcher
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.actions import shown_settings


class TeamField(serializers.PrimaryKeyRelatedField[Team]):
    def get_queryset(self) -> Any:
        return Team.objects.all()


class ChannelSerializer(serializers.ModelSerializer[models.Channel]):
    team = TeamField()

    class Meta:
        model = models.Channel
        fields = (
            "id", "team", "name", "type", "settings", "last_error", "last_failure_at",
            "last_success_at", "created", "updated",
        )  # fmt: skip
        read_only_fields = ("last_error", "last_failure_at", "last_success_at", "created")

    def to_representation(self, instance: models.Channel) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["settings"] = shown_settings(instance)
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.get("name", getattr(self.instance, "name", ""))
        kind = attrs.get("type", getattr(self.instance, "type", ""))
        settings = attrs.get("settings", getattr(self.instance, "settings", {}))
        if not isinstance(settings, dict):
            raise serializers.ValidationError({"settings": "expected an object"})
        try:
            parse_alert_document({"channels": [{**settings, "name": name, "type": kind}]})
        except AlertFileError as exc:
            raise serializers.ValidationError({"settings": list(exc.errors)}) from None
        return attrs


class RuleSerializer(serializers.ModelSerializer[models.AlertRule]):
    team = TeamField()
    states = serializers.SerializerMethodField()

    class Meta:
        model = models.AlertRule
        fields = (
            "id", "team", "name", "spec", "enabled", "states", "last_eval_at",
            "last_eval_seconds", "last_error", "created", "updated",
        )  # fmt: skip
        read_only_fields = (
            "name", "last_eval_at", "last_eval_seconds", "last_error", "created", "updated"
        )  # fmt: skip

    def get_states(self, rule: models.AlertRule) -> dict[str, int]:
        """Instances per state, e.g. {"firing": 2, "normal": 10}."""
        counts: dict[str, int] = {}
        for instance in rule.instances.all():
            counts[instance.state] = counts.get(instance.state, 0) + 1
        return counts

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        team = attrs.get("team", getattr(self.instance, "team", None))
        spec = attrs.get("spec", getattr(self.instance, "spec", None))
        if not isinstance(spec, dict):
            raise serializers.ValidationError({"spec": "expected an object (an alert_rules entry)"})
        known = list(models.Channel.objects.filter(team=team).values_list("name", flat=True))
        try:
            rule = parse_rule(spec, known)
        except AlertFileError as exc:
            name = spec.get("name")
            where = f"rule {name!r}: " if isinstance(name, str) and name else ""
            raise serializers.ValidationError({"spec": [where + e for e in exc.errors]}) from None
        attrs["rule"] = rule
        return attrs


class SilenceSerializer(serializers.ModelSerializer[models.Silence]):
    team = TeamField()
    matchers = serializers.ListField(child=serializers.CharField(max_length=500), min_length=1)
    starts_at = serializers.DateTimeField(required=False)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default="")
    active = serializers.SerializerMethodField()

    class Meta:
        model = models.Silence
        fields = (
            "id", "team", "matchers", "starts_at", "ends_at", "comment", "created_by",
            "active", "created",
        )  # fmt: skip
        read_only_fields = ("created",)

    def get_active(self, silence: models.Silence) -> bool:
        return bool(silence.starts_at <= timezone.now() < silence.ends_at)

    def validate_matchers(self, matchers: list[str]) -> list[str]:
        out = []
        for text in matchers:
            try:
                m = parse_matcher(text)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None
            out.append(f"{m.name}{m.op}{m.value}")
        return out

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts = attrs.setdefault(
            "starts_at", getattr(self.instance, "starts_at", None) or timezone.now()
        )
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if ends is None or ends <= starts:
            raise serializers.ValidationError({"ends_at": "must be after starts_at"})
        return attrs


class InstanceSerializer(serializers.ModelSerializer[models.AlertInstance]):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = models.AlertInstance
        fields = ("id", "rule", "rule_name", "tags", "state", "since_ns", "value", "error")
        read_only_fields = fields


class TransitionSerializer(serializers.ModelSerializer[models.AlertTransition]):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    # Plain strings: one state enum in the schema (the instances'), not three.
    from_state = serializers.CharField(read_only=True)
    to_state = serializers.CharField(read_only=True)

    class Meta:
        model = models.AlertTransition
        fields = (
            "id", "rule", "rule_name", "tags", "from_state", "to_state", "at", "value",
            "labels", "annotations", "error", "silenced",
        )  # fmt: skip
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer[models.NotificationLog]):
    class Meta:
        model = models.NotificationLog
        fields = (
            "id", "channel", "channel_name", "status", "group_labels", "alerts", "ok",
            "attempts", "error", "created",
        )  # fmt: skip
        read_only_fields = fields


class ImportSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(help_text="The team's id.")
    document = serializers.CharField(help_text="The alert file (YAML) as text.")


class PreviewSerializer(serializers.Serializer[Any]):
    spec = serializers.JSONField(help_text="The rule in the alert file format.")
    range = serializers.CharField(default="3h", help_text="How far back, e.g. 1h, 6h (≤ 7d).")

    def validate_spec(self, spec: Any) -> Any:
        if isinstance(spec, str):  # the rule editor sends the YAML it shows
            try:
                spec = yaml.safe_load(spec)
            except yaml.YAMLError as exc:
                raise serializers.ValidationError(f"invalid YAML: {exc}") from None
        if not isinstance(spec, dict):
            raise serializers.ValidationError("expected an object (an alert_rules entry)")
        try:
            rule = parse_rule(spec)
        except AlertFileError as exc:
            raise serializers.ValidationError(list(exc.errors)) from None
        if rule.query is None:
            raise serializers.ValidationError("the rule has no query to preview")
        return rule

    def validate_range(self, text: str) -> int:
        from crisp.query.influxql.durations import DAY, parse_duration

        try:
            ns = parse_duration(text.strip())
        except ValueError:
            raise serializers.ValidationError("expected a duration such as 3h") from None
        if not 0 < ns <= 7 * DAY:
            raise serializers.ValidationError("must be positive and at most 7d")
        return ns


class RoutesSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(help_text="The team's id.")
    routes = serializers.ListField(
        child=serializers.DictField(), help_text="routes entries of the alert file, in order"
    )
