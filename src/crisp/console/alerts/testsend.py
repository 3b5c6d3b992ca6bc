"""The channel test button: a made-up firing alert sent at once, without retries."""

from __future__ import annotations

import time

import httpx

from crisp.alerting.delivery import RetryPolicy
from crisp.alerting.grouping import AlertEntry, fingerprint
from crisp.alerting.payloads import Notification
from crisp.console.alerts import models
from crisp.console.alerts.sending import do_send


def do_test_channel(channel: models.Channel, requested_by: str) -> models.NotificationLog:
    labels = {"alertname": "CrispTestNotification", "severity": "info", "channel": channel.name}
    alert = AlertEntry(
        fingerprint=fingerprint(labels),
        status="firing",
        state="firing",
        labels=labels,
        annotations={"summary": f"Test notification from the Crisp console ({requested_by})"},
        value=None,
        starts_at_ns=time.time_ns(),
    )
    notification = Notification(channel.name, "test", {"alertname": labels["alertname"]}, [alert])
    with httpx.Client(timeout=10) as client:
        return do_send(
            channel, notification, client=client, worker="test", retry=RetryPolicy(attempts=1)
        )
