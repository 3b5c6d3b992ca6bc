"""Alerting in the console database: rules, channels, routes, silences and what the
worker remembers (instance states, transition history, notification groups and log).

A rule and a route are stored as their file-format mapping (``spec``), validated by
:mod:`crisp.alerting.rules` on every write, so the YAML file, the API and the worker
share one definition. Channel secrets are stored sealed or as ``env:`` references
(:mod:`crisp.alerting.secrets`). Lease columns (``lease_owner``, ``lease_until``) let
several workers share the work: a row is claimed by one conditional UPDATE, which is
atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crisp.alerting.evaluation import State
from crisp.console.accounts.models import Team


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"
    SMS = "sms"


class Channel(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_channels")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=ChannelKind.choices)
    settings = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("team__name", "name")
        constraints = (
            models.UniqueConstraint(fields=("team", "name"), name="one_channel_name_per_team"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class AlertRule(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    spec = models.JSONField(help_text="The rule in the alert file format (alert_rules entry).")
    enabled = models.BooleanField(default=True)
    next_eval_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_eval_at = models.DateTimeField(null=True, blank=True)
    last_eval_seconds = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("team__name", "name")
        constraints = (
            models.UniqueConstraint(fields=("team", "name"), name="one_rule_name_per_team"),
        )

    def __str__(self) -> str:
        return self.name


class Route(models.Model):
    """One ``routes:`` entry of a team, tried in ``position`` order."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_routes")
    position = models.PositiveIntegerField()
    spec = models.JSONField(help_text="The route in the alert file format (routes entry).")

    class Meta:
        ordering = ("team__name", "position")
        constraints = (
            models.UniqueConstraint(fields=("team", "position"), name="one_route_per_position"),
        )

    def __str__(self) -> str:
        return f"{self.team} route {self.position}"


# The states an instance column may hold are exactly the evaluation's (labels as
# Django's TextChoices would name them, so the migration is unchanged).
STATE_CHOICES = [(state.value, state.name.title()) for state in State]


class AlertInstance(models.Model):
    """The current state of one series of a rule (one per distinct tag set)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="instances")
    key_hash = models.CharField(max_length=64)
    tags = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=STATE_CHOICES)
    since_ns = models.BigIntegerField()
    value = models.FloatField(null=True, blank=True)
    active_since_ns = models.BigIntegerField(null=True, blank=True)
    last_breach_ns = models.BigIntegerField(null=True, blank=True)
    last_eval_ns = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("rule", "key_hash")
        constraints = (
            models.UniqueConstraint(fields=("rule", "key_hash"), name="one_instance_per_series"),
        )

    def __str__(self) -> str:
        return f"{self.rule} {self.tags} {self.state}"


class AlertTransition(models.Model):
    """History: every state change of every instance, with the value that caused it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="transitions")
    tags = models.JSONField(default=dict)
    from_state = models.CharField(max_length=16, choices=STATE_CHOICES)
    to_state = models.CharField(max_length=16, choices=STATE_CHOICES)
    at = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    silenced = models.BooleanField(default=False)

    class Meta:
        ordering = ("-at", "-id")
        indexes = (models.Index(fields=("rule", "at")),)

    def __str__(self) -> str:
        return f"{self.rule} {self.from_state} → {self.to_state}"


class Silence(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_silences")
    matchers = models.JSONField(help_text='Label matchers such as ["service=api", "env=~prod.*"].')
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-starts_at",)

    def __str__(self) -> str:
        return f"silence {', '.join(self.matchers)}"


class NotificationGroup(models.Model):
    """Alerts a channel hears about together (grouping.GroupState, stored)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="groups")
    key = models.CharField(max_length=64)
    route_index = models.IntegerField()
    group_labels = models.JSONField(default=dict)
    alerts = models.JSONField(default=dict)
    sent = models.JSONField(default=list)
    next_flush_ns = models.BigIntegerField(null=True, blank=True, db_index=True)
    last_flush_ns = models.BigIntegerField(null=True, blank=True)
    group_wait_ns = models.BigIntegerField()
    group_interval_ns = models.BigIntegerField()
    repeat_interval_ns = models.BigIntegerField()
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("channel", "key"), name="one_group_per_key"),
        )

    def __str__(self) -> str:
        return f"{self.channel} {self.group_labels}"


class NotificationLog(models.Model):
    """One delivery attempt series to one channel (after its retries)."""

    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, related_name="notifications"
    )
    channel_name = models.CharField(max_length=100)
    status = models.CharField(max_length=16)  # firing | resolved
    group_labels = models.JSONField(default=dict)
    alerts = models.JSONField(default=list)
    ok = models.BooleanField()
    attempts = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return f"{self.channel_name} {self.status} {'ok' if self.ok else 'failed'}"
