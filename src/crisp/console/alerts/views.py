"""Alerting pages: rules with their state, one rule's history, all history, silences and
channels (with the test button). Reads are limited to the user's teams; changes need
an editor of the team, as in the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import yaml
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crisp.console.accounts.access import can_edit_team, can_read_database
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.access import access_teams_by_user
from crisp.console.alerts.actions import (
    MissingSecret,
    RuleNameTaken,
    do_create_silence,
    do_delete_rule,
    do_save_channel,
    do_update_rule,
    shown_settings,
)
from crisp.console.alerts.forms import ChannelForm, RuleForm, SilenceForm
from crisp.console.alerts.testsend import do_test_channel
from crisp.console.alerts.timeline import (
    ROW_HEIGHT,
    STATE_COLOURS,
    WIDTH,
    build_timeline,
    default_window,
)

# Worst first: what a rule shows when its instances disagree.
_STATE_ORDER = ("firing", "error", "nodata", "pending", "resolved", "normal")
_HISTORY_ROWS = 200


def _editable(request: HttpRequest) -> QuerySet[Team]:
    teams = access_teams_by_user(request.user)
    return teams.filter(pk__in=[t.pk for t in teams if can_edit_team(request.user, t)])


_TeamOwned = TypeVar("_TeamOwned", models.AlertRule, models.Channel, models.Silence)


def _edited(request: HttpRequest, kind: type[_TeamOwned], pk: int, doing: str) -> _TeamOwned:
    """Object ``pk`` of one of the user's teams (else 404), which the user may edit (else
    403: "only editors of the team may ``doing``")."""
    found = get_object_or_404(
        kind.objects.filter(team__in=access_teams_by_user(request.user)), pk=pk
    )
    if not can_edit_team(request.user, found.team):
        raise PermissionDenied(f"only editors of the team may {doing}")
    return found


def rule_summary(rule: models.AlertRule) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for instance in rule.instances.all():
        counts[instance.state] = counts.get(instance.state, 0) + 1
    worst = next((s for s in _STATE_ORDER if s in counts), "not evaluated")
    return {
        "rule": rule,
        "state": worst,
        "counts": sorted(counts.items(), key=lambda kv: _STATE_ORDER.index(kv[0])),
        "severity": rule.spec.get("severity", ""),
    }


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = (
        models.AlertRule.objects.filter(team__in=access_teams_by_user(request.user))
        .select_related("team")
        .prefetch_related("instances")
    )
    context = {"rows": [rule_summary(r) for r in rules], "can_edit": _editable(request).exists()}
    return render(request, "console/alerts/rules.html", context)


@login_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(
        models.AlertRule.objects.filter(team__in=access_teams_by_user(request.user)), pk=pk
    )
    context = {
        "summary": rule_summary(rule),
        "rule": rule,
        "spec": yaml.safe_dump(rule.spec, sort_keys=False, allow_unicode=True),
        "instances": [
            {"row": i, "silence_query": _silence_query(rule, i)}
            for i in rule.instances.order_by("state", "key_hash")
        ],
        "transitions": rule.transitions.order_by("-at", "-id")[:_HISTORY_ROWS],
        "can_edit": can_edit_team(request.user, rule.team),
        "timeline": _timeline(rule),
    }
    return render(request, "console/alerts/rule.html", context)


def _timeline(rule: models.AlertRule) -> dict[str, Any]:
    start, end = default_window(timezone.now())
    rows = build_timeline(rule.transitions.filter(at__gte=start), start, end)
    return {
        "rows": rows,
        "width": WIDTH,
        "height": len(rows) * (ROW_HEIGHT + 4),
        "row_height": ROW_HEIGHT,
        "legend": STATE_COLOURS.items(),
        "start": start,
        "end": end,
    }


def _silence_query(rule: models.AlertRule, instance: models.AlertInstance) -> str:
    """Query string of the silences page pre-filled to mute this one series."""
    labels = {"alertname": rule.name, **instance.tags}
    return urlencode([("matchers", f"{k}={v}") for k, v in labels.items()])


@login_required
def history(request: HttpRequest) -> HttpResponse:
    transitions = (
        models.AlertTransition.objects.filter(rule__team__in=access_teams_by_user(request.user))
        .select_related("rule")
        .order_by("-at", "-id")[:_HISTORY_ROWS]
    )
    return render(request, "console/alerts/history.html", {"transitions": transitions})


@login_required
def silences(request: HttpRequest) -> HttpResponse:
    editable = _editable(request)
    # ?matchers=a%3Db&matchers=c%3Dd pre-fills the form (the "Silence" link of an alert).
    prefill = {"matchers": "\n".join(request.GET.getlist("matchers"))}
    form = SilenceForm(request.POST or None, teams=editable, initial=prefill)
    if request.method == "POST" and form.is_valid():
        starts, ends = form.window()
        user = request.user if request.user.is_authenticated else None
        do_create_silence(
            form.cleaned_data["team"],
            user,
            {
                "matchers": form.cleaned_data["matchers"],
                "starts_at": starts,
                "ends_at": ends,
                "comment": form.cleaned_data["comment"],
            },
        )
        messages.success(request, "Silence created.")
        return HttpResponseRedirect(reverse("alert-silences"))
    rows = (
        models.Silence.objects.filter(team__in=access_teams_by_user(request.user))
        .select_related("team", "created_by")
        .order_by("-ends_at")
    )
    now = timezone.now()
    context = {
        "rows": [{"silence": s, "active": s.starts_at <= now < s.ends_at} for s in rows],
        "form": form if editable.exists() else None,
        "editable_ids": set(editable.values_list("pk", flat=True)),
    }
    return render(request, "console/alerts/silences.html", context)


@login_required
@require_POST
def silence_expire(request: HttpRequest, pk: int) -> HttpResponse:
    silence = _edited(request, models.Silence, pk, "expire its silences")
    now = timezone.now()
    if silence.ends_at > now:
        silence.ends_at = now
        if silence.starts_at >= now:  # a future silence: keep the window well-formed
            silence.starts_at = now - timedelta(microseconds=1)
        silence.save(update_fields=["starts_at", "ends_at"])
    messages.success(request, "Silence expired.")
    return HttpResponseRedirect(reverse("alert-silences"))


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    rows = (
        models.NotificationLog.objects.filter(channel__team__in=access_teams_by_user(request.user))
        .select_related("channel")
        .order_by("-created", "-id")[:_HISTORY_ROWS]
    )
    return render(request, "console/alerts/notifications.html", {"rows": rows})


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    rows = models.Channel.objects.filter(
        team__in=access_teams_by_user(request.user)
    ).select_related("team")
    editable_ids = set(_editable(request).values_list("pk", flat=True))
    shown = [{"channel": c, "failing": _failing(c)} for c in rows]
    return render(
        request, "console/alerts/channels.html", {"rows": shown, "editable_ids": editable_ids}
    )


def _failing(channel: models.Channel) -> bool:
    """Whether the channel's last delivery failed (its error is then worth showing)."""
    failed, succeeded = channel.last_failure_at, channel.last_success_at
    return failed is not None and (succeeded is None or failed > succeeded)


@login_required
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _edited(request, models.Channel, pk, "test its channels")
    log = do_test_channel(channel, request.user.get_username())
    if log.ok:
        messages.success(request, f"Test notification delivered to {channel.name}.")
    else:
        messages.error(request, f"Test notification to {channel.name} failed: {log.error}")
    return HttpResponseRedirect(reverse("alert-channels"))


_NEW_RULE = """name: checkout_p95_high
severity: warning
threshold: 250
duration: 5m
interval: 30s
database: metrics
query: SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 5m GROUP BY service
annotations:
  summary: "p95 of {{ labels.service }} is {{ value }} ms"
"""


@login_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change a rule as YAML, with a preview of where it would have fired."""
    editable = _editable(request)
    stored = _edited(request, models.AlertRule, pk, "change its rules") if pk is not None else None
    if not editable.exists():
        raise PermissionDenied("you edit no team's rules")
    initial = {"spec": _NEW_RULE, "enabled": True}
    if stored is not None:
        initial = {
            "team": stored.team,
            "spec": yaml.safe_dump(stored.spec, sort_keys=False, allow_unicode=True),
            "enabled": stored.enabled,
        }
    form = RuleForm(request.POST or None, teams=editable, initial=initial)
    if request.method == "POST" and form.is_valid():
        rule = form.cleaned_data["rule"]
        database = rule.database or str(settings.CRISP.default_database)
        if rule.query is not None and not can_read_database(request.user, database):
            form.add_error("spec", f"database: no access to {database!r}")
        else:
            try:
                saved = do_update_rule(
                    stored, form.cleaned_data["team"], form.cleaned_data["spec_mapping"]
                )
            except RuleNameTaken as exc:
                form.add_error("spec", str(exc))
            else:
                saved.enabled = form.cleaned_data["enabled"]
                saved.save(update_fields=["enabled"])
                messages.success(request, f"Rule {saved.name} saved.")
                return HttpResponseRedirect(reverse("alert-rule", args=[saved.pk]))
    return render(request, "console/alerts/edit.html", {"form": form, "rule": stored})


@login_required
def channel_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change a channel; secrets shown as <encrypted> stay as they were."""
    editable = _editable(request)
    stored = _edited(request, models.Channel, pk, "change its channels") if pk is not None else None
    if not editable.exists():
        raise PermissionDenied("you edit no team's channels")
    initial: dict[str, Any] = {"type": "webhook", "settings": "url: https://\n"}
    if stored is not None:
        shown = shown_settings(stored)
        initial = {
            "team": stored.team,
            "name": stored.name,
            "type": stored.type,
            "settings": yaml.safe_dump(shown, sort_keys=False, allow_unicode=True),
        }
    form = ChannelForm(request.POST or None, teams=editable, initial=initial)
    if request.method == "POST" and form.is_valid():
        team, name = form.cleaned_data["team"], form.cleaned_data["name"]
        clash = models.Channel.objects.filter(team=team, name=name)
        if stored is not None:
            clash = clash.exclude(pk=stored.pk)
        if clash.exists():
            form.add_error("name", f"team {team.name!r} already has a channel {name!r}")
        else:
            if stored is not None and (stored.name, stored.team_id) != (name, team.pk):
                stored.name, stored.team = name, team
                stored.save(update_fields=["name", "team"])
            try:
                do_save_channel(
                    team, name, form.cleaned_data["type"], form.cleaned_data["settings_mapping"]
                )
            except MissingSecret as exc:
                form.add_error("settings", str(exc))
            else:
                messages.success(request, f"Channel {name} saved.")
                return HttpResponseRedirect(reverse("alert-channels"))
    return render(request, "console/alerts/channel_edit.html", {"form": form, "channel": stored})


@login_required
@require_POST
def rule_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The rule page's buttons: enable, disable, delete."""
    rule = _edited(request, models.AlertRule, pk, "change its rules")
    if action == "delete":
        do_delete_rule(rule)
        messages.success(request, f"Rule {rule.name} deleted.")
        return HttpResponseRedirect(reverse("alerts"))
    rule.enabled = action == "enable"
    rule.save(update_fields=["enabled"])
    messages.success(request, f"Rule {rule.name} {'enabled' if rule.enabled else 'disabled'}.")
    return HttpResponseRedirect(reverse("alert-rule", args=[rule.pk]))
