"""Send one notification to a stored channel and record it: the log row, the channel's
last success or failure (shown in the UI) and the worker's counters."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import httpx
from django.utils import timezone

from crisp.alerting.delivery import DeliveryResult, RetryPolicy, deliver
from crisp.alerting.payloads import Notification
from crisp.alerting.secrets import SecretError
from crisp.console.alerts import models
from crisp.console.alerts.convert import channel_value


def process_environ() -> Mapping[str, str]:
    """Where ``env:NAME`` channel secrets are looked up: this process's environment.

    Not Crisp settings (those are read once by crisp.core.settings): names the operator
    chose for secrets, read when a notification is sent so a rotated secret applies.
    """
    return os.environ


def do_send(
    channel: models.Channel,
    notification: Notification,
    *,
    client: httpx.Client,
    worker: str = "",
    retry: RetryPolicy | None = None,
    environ: Mapping[str, str] | None = None,
    on_result: Callable[[models.Channel, DeliveryResult], None] | None = None,
) -> models.NotificationLog:
    try:
        value = channel_value(channel, process_environ() if environ is None else environ)
    except SecretError as exc:
        result = DeliveryResult(False, 0, f"secret: {exc}")
    else:
        result = deliver(value, notification, client=client, retry=retry or RetryPolicy())
    now = timezone.now()
    if result.ok:
        models.Channel.objects.filter(pk=channel.pk).update(last_success_at=now)
    else:
        models.Channel.objects.filter(pk=channel.pk).update(
            last_failure_at=now, last_error=result.error[:2000]
        )
    if on_result is not None:
        on_result(channel, result)
    return models.NotificationLog.objects.create(
        channel=channel,
        channel_name=channel.name,
        status=notification.status,
        group_labels=dict(notification.group_labels),
        alerts=[a.to_json() for a in notification.alerts],
        ok=result.ok,
        attempts=result.attempts,
        error=result.error,
        worker=worker,
    )
