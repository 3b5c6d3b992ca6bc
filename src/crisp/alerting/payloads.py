"""What each kind of channel receives for one notification (pure: values in, bytes out).

A :class:`Notification` is one group's alerts at one flush. The generic webhook sends
Crisp's JSON, or Alertmanager's webhook payload (``format: alertmanager``) so existing
receivers work unchanged; Slack gets an incoming-webhook message; email a subject with
a text and an HTML body; SMS gateways a short line.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crisp.alerting.grouping import AlertEntry
from crisp.alerting.templates import format_value

# Alertmanager's "zero time" for an alert that has not ended.
_ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Notification:
    channel: str
    group_key: str
    group_labels: Mapping[str, str]
    alerts: Sequence[AlertEntry]
    external_url: str = ""

    @property
    def status(self) -> str:
        """firing while any alert fires, else resolved (Alertmanager's rule)."""
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[AlertEntry]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertEntry]:
        return [a for a in self.alerts if a.status == "resolved"]

    def common_labels(self) -> dict[str, str]:
        return _common([a.labels for a in self.alerts])

    def common_annotations(self) -> dict[str, str]:
        return _common([a.annotations for a in self.alerts])


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = dict(maps[0])
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def rfc3339(ns: int | None) -> str:
    if ns is None:
        return _ZERO_TIME
    return (
        datetime.fromtimestamp(ns / 1e9, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def title(notification: Notification) -> str:
    """``[FIRING:2] cpu_high service=api`` — Alertmanager's default subject line."""
    n = notification
    count = len(n.firing) if n.status == "firing" else len(n.resolved)
    labels = " ".join(f"{k}={v}" for k, v in sorted(n.group_labels.items()) if v)
    return f"[{n.status.upper()}:{count}] {labels}".rstrip()


def alert_line(alert: AlertEntry) -> str:
    name = alert.labels.get("alertname", "alert")
    tags = ", ".join(
        f"{k}={v}" for k, v in sorted(alert.labels.items()) if k not in ("alertname", "severity")
    )
    value = f" value={format_value(alert.value)}" if alert.value is not None else ""
    summary = alert.annotations.get("summary") or alert.error or ""
    text = f"{alert.status.upper()} {name}"
    if tags:
        text += f" ({tags})"
    text += value
    if summary:
        text += f": {summary}"
    return text


def webhook_json(notification: Notification) -> dict[str, Any]:
    n = notification
    return {
        "receiver": n.channel,
        "status": n.status,
        "group_key": n.group_key,
        "group_labels": dict(n.group_labels),
        "common_labels": n.common_labels(),
        "alerts": [
            {
                "status": a.status,
                "state": a.state,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "value": a.value,
                "starts_at": rfc3339(a.starts_at_ns),
                "ends_at": rfc3339(a.ends_at_ns) if a.ends_at_ns is not None else None,
                "error": a.error,
                "fingerprint": a.fingerprint,
            }
            for a in n.alerts
        ],
    }


def alertmanager_json(notification: Notification) -> dict[str, Any]:
    """Alertmanager's webhook_config payload, version 4."""
    n = notification
    return {
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": 0,
        "status": n.status,
        "receiver": n.channel,
        "groupLabels": dict(n.group_labels),
        "commonLabels": n.common_labels(),
        "commonAnnotations": n.common_annotations(),
        "externalURL": n.external_url,
        "alerts": [
            {
                "status": a.status,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "startsAt": rfc3339(a.starts_at_ns),
                "endsAt": rfc3339(a.ends_at_ns),
                "generatorURL": n.external_url,
                "fingerprint": a.fingerprint,
            }
            for a in n.alerts
        ],
    }


_SLACK_COLORS = {"firing": "#d63232", "resolved": "#2eb886"}


def slack_json(notification: Notification) -> dict[str, Any]:
    n = notification
    return {
        "text": title(n),
        "attachments": [
            {
                "color": _SLACK_COLORS[n.status],
                "title": title(n),
                "text": "\n".join(alert_line(a) for a in n.alerts),
            }
        ],
    }


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def email_content(notification: Notification) -> EmailContent:
    n = notification
    lines = [title(n), ""]
    rows: list[str] = []
    for a in n.alerts:
        lines.append(alert_line(a))
        lines.extend(f"  {k}: {v}" for k, v in sorted(a.annotations.items()))
        lines.append(f"  since {rfc3339(a.starts_at_ns)}")
        rows.append(
            "<tr>"
            f"<td>{html.escape(a.status)}</td>"
            f"<td>{html.escape(a.labels.get('alertname', ''))}</td>"
            f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in sorted(a.labels.items())))}</td>"
            f"<td>{html.escape(format_value(a.value))}</td>"
            f"<td>{html.escape(a.annotations.get('summary', '') or (a.error or ''))}</td>"
            "</tr>"
        )
    body = (
        f"<h2>{html.escape(title(n))}</h2>"
        '<table border="1" cellpadding="4" cellspacing="0">'
        "<tr><th>status</th><th>alert</th><th>labels</th><th>value</th><th>summary</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return EmailContent(title(n), "\n".join(lines) + "\n", f"<html><body>{body}</body></html>")


def sms_text(notification: Notification, limit: int = 300) -> str:
    """One short line per alert, cut to ``limit`` characters (SMS gateways split or refuse)."""
    text = "; ".join(alert_line(a) for a in notification.alerts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
