from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import yaml
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from crisp.alerting.rules import AlertFileError, ChannelType, parse_alert_document, parse_rule
from crisp.alerting.silences import parse_matcher
from crisp.console.accounts.models import Team
from crisp.console.alerts.models import Channel
from crisp.query.influxql.durations import parse_duration


class _TeamForm(forms.Form):
    """A form that saves to one of ``teams`` (those the user edits)."""

    team = forms.ModelChoiceField(queryset=Team.objects.none())

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = teams


def _yaml_mapping(
    text: str, field: str, expected: str, *, empty_is_mapping: bool = False
) -> dict[Any, Any]:
    """``text`` parsed as a YAML mapping; else a ValidationError on ``field``."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise forms.ValidationError({field: f"invalid YAML: {exc}"}) from None
    if empty_is_mapping:
        value = value or {}
    if not isinstance(value, dict):
        raise forms.ValidationError({field: expected})
    return value


class SilenceForm(_TeamForm):
    matchers = forms.CharField(
        help_text="One per line, e.g. service=checkout or env=~prod|staging",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    duration = forms.CharField(initial="2h", help_text="How long from now, e.g. 30m, 2h, 1d")
    comment = forms.CharField(required=False, max_length=500)

    def clean_matchers(self) -> list[str]:
        out: list[str] = []
        for line in self.cleaned_data["matchers"].splitlines():
            if not line.strip():
                continue
            try:
                m = parse_matcher(line)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
            out.append(f"{m.name}{m.op}{m.value}")
        if not out:
            raise forms.ValidationError("at least one matcher")
        return out

    def clean_duration(self) -> timedelta:
        try:
            ns = parse_duration(self.cleaned_data["duration"].strip())
        except ValueError:
            raise forms.ValidationError("expected a duration such as 30m or 2h") from None
        if ns <= 0:
            raise forms.ValidationError("must be positive")
        return timedelta(microseconds=ns // 1000)

    def window(self) -> tuple[datetime, datetime]:
        start = timezone.now()
        return start, start + self.cleaned_data["duration"]


class RuleForm(_TeamForm):
    """The rule editor: a team and the rule as YAML (one alert_rules entry)."""

    spec = forms.CharField(
        label="Rule (YAML)",
        widget=forms.Textarea(attrs={"rows": 16, "class": "json", "spellcheck": "false"}),
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        team, text = data.get("team"), data.get("spec")
        if team is None or text is None:
            return data
        spec = _yaml_mapping(text, "spec", "expected a mapping: name, threshold, query…")
        known = list(Channel.objects.filter(team=team).values_list("name", flat=True))
        try:
            data["rule"] = parse_rule(spec, known)
        except AlertFileError as exc:
            raise forms.ValidationError({"spec": list(exc.errors)}) from None
        data["spec_mapping"] = spec
        return data


class ChannelForm(_TeamForm):
    """A channel: name, type and its settings as YAML (secrets sealed when saved)."""

    name = forms.CharField(max_length=100)
    type = forms.ChoiceField(choices=[(k.value, k.value) for k in ChannelType])
    settings = forms.CharField(
        label="Settings (YAML)",
        help_text="e.g. url: https://hooks.slack.com/... — or url: env:SLACK_URL",
        widget=forms.Textarea(attrs={"rows": 8, "class": "json", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not {"name", "type", "settings"} <= set(data):
            return data
        expected = "expected a mapping such as url: ..."
        settings = _yaml_mapping(data["settings"], "settings", expected, empty_is_mapping=True)
        entry = {**settings, "name": data["name"], "type": data["type"]}
        try:
            parse_alert_document({"channels": [entry]})
        except AlertFileError as exc:
            raise forms.ValidationError({"settings": list(exc.errors)}) from None
        data["settings_mapping"] = {str(k): v for k, v in settings.items()}
        return data
