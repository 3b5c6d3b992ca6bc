"""State changes of alerting (``do_*``); callers have validated input and checked rights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from crisp.alerting.routes import Route as RouteValue
from crisp.alerting.routes import dump_route
from crisp.alerting.rules import AlertFile, dump_alert_document, dump_rule, parse_rule
from crisp.alerting.secrets import REDACTED, redact_settings, seal_settings
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.convert import route_values, secret_box


@dataclass(frozen=True)
class ImportSummary:
    channels_created: int = 0
    channels_updated: int = 0
    rules_created: int = 0
    rules_updated: int = 0
    routes: int | None = None  # None: the file had no routes section, routes kept

    def __str__(self) -> str:
        text = (
            f"channels: {self.channels_created} created, {self.channels_updated} updated; "
            f"rules: {self.rules_created} created, {self.rules_updated} updated"
        )
        if self.routes is not None:
            text += f"; routes: {self.routes}"
        return text


class MissingSecret(ValueError):
    """``<encrypted>`` was given for a secret the channel does not have."""


def do_save_channel(
    team: Team, name: str, kind: str, settings: Mapping[str, Any]
) -> tuple[models.Channel, bool]:
    """Create or update the team's channel ``name``; secrets are sealed before storing.

    A secret sent back as shown (``<encrypted>``, as the API, the pages and exports
    show it) keeps the stored value.
    """
    stored = models.Channel.objects.filter(team=team, name=name).first()
    old = stored.settings if stored is not None else {}
    kept = _keep_redacted(settings, old)
    sealed = seal_settings(kept, secret_box())
    if stored is not None:
        stored.type = kind
        stored.settings = sealed
        stored.save()
        return stored, False
    return models.Channel.objects.create(team=team, name=name, type=kind, settings=sealed), True


def _keep_redacted(settings: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(settings)
    for key, value in settings.items():
        if value == REDACTED:
            if key not in old:
                raise MissingSecret(f"{key}: {REDACTED} stands for a stored secret; there is none")
            out[key] = old[key]
        elif isinstance(value, Mapping) and isinstance(old.get(key), Mapping):
            out[key] = _keep_redacted(value, old[key])
    return out


def do_save_rule(team: Team, spec: Mapping[str, Any]) -> tuple[models.AlertRule, bool]:
    """Create or update a rule from a validated spec (normalised to the file format)."""
    rule = parse_rule(dict(spec))
    normal = dump_rule(rule)
    stored, created = models.AlertRule.objects.update_or_create(
        team=team, name=rule.name, defaults={"spec": normal}
    )
    if not created:
        # A changed rule runs at its next slot under its new interval.
        models.AlertRule.objects.filter(pk=stored.pk).update(next_eval_at=None)
    return stored, created


class RuleNameTaken(ValueError):
    """Another rule of the team already has the name."""


def do_update_rule(
    stored: models.AlertRule | None, team: Team, spec: Mapping[str, Any]
) -> models.AlertRule:
    """Create (``stored`` None) or change a rule, renaming or moving it when the spec says
    so; raises RuleNameTaken when the team has another rule of that name."""
    name = parse_rule(dict(spec)).name
    clash = models.AlertRule.objects.filter(team=team, name=name)
    if stored is not None:
        clash = clash.exclude(pk=stored.pk)
    if clash.exists():
        raise RuleNameTaken(f"name: team {team.name!r} already has a rule {name!r}")
    if stored is not None and (stored.name, stored.team_id) != (name, team.pk):
        stored.name, stored.team = name, team
        stored.save(update_fields=["name", "team"])
    return do_save_rule(team, spec)[0]


def do_delete_rule(rule: models.AlertRule) -> None:
    rule.delete()


def do_create_silence(team: Team, user: User | None, data: Mapping[str, Any]) -> models.Silence:
    return models.Silence.objects.create(team=team, created_by=user, **data)


@transaction.atomic
def do_import_alert_file(team: Team, alert_file: AlertFile, has_routes: bool) -> ImportSummary:
    """Channels, rules and (when the file has the section) routes of ``team``, upserted by
    name: importing the same file twice updates, never duplicates."""
    counts = {"cc": 0, "cu": 0, "rc": 0, "ru": 0}
    for channel in alert_file.channels:
        try:
            _, created = do_save_channel(team, channel.name, channel.type.value, channel.settings)
        except MissingSecret as exc:
            raise MissingSecret(f"channel {channel.name!r}: {exc}") from None
        counts["cc" if created else "cu"] += 1
    for rule in alert_file.rules:
        _, created = do_save_rule(team, dump_rule(rule))
        counts["rc" if created else "ru"] += 1
    routes = None
    if has_routes:
        do_replace_routes(team, alert_file.routes)
        routes = len(alert_file.routes)
    return ImportSummary(counts["cc"], counts["cu"], counts["rc"], counts["ru"], routes)


@transaction.atomic
def do_replace_routes(team: Team, routes: Sequence[RouteValue]) -> None:
    """The team's routes become ``routes``, tried in this order."""
    models.Route.objects.filter(team=team).delete()
    for position, route in enumerate(routes):
        models.Route.objects.create(team=team, position=position, spec=dump_route(route))


def export_document(team: Team) -> dict[str, Any]:
    """The team's alerting as the file format; secrets as references or sealed, never clear."""
    from crisp.alerting.rules import Channel as ChannelValue
    from crisp.alerting.rules import ChannelType

    channels = tuple(
        ChannelValue(c.name, ChannelType(c.type), c.settings)
        for c in models.Channel.objects.filter(team=team).order_by("name")
    )
    rules = tuple(
        parse_rule(r.spec) for r in models.AlertRule.objects.filter(team=team).order_by("name")
    )
    routes = tuple(route_values(models.Route.objects.filter(team=team).order_by("position")))
    return dump_alert_document(AlertFile(channels, rules, routes))


def shown_settings(channel: models.Channel) -> dict[str, Any]:
    return redact_settings(channel.settings)
