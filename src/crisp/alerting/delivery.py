"""Sending a notification to a channel, with retries and backoff: the I/O edge.

``deliver`` takes a channel whose secrets are already resolved and returns what
happened (it never raises for a receiver's failure): network errors, HTTP 5xx and 429,
and SMTP 4xx are retried with exponential backoff and jitter; other refusals are final.
"""

from __future__ import annotations

import json
import random
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote_plus

import httpx

from crisp.alerting.payloads import (
    Notification,
    alertmanager_json,
    email_content,
    slack_json,
    sms_text,
    webhook_json,
)
from crisp.alerting.rules import Channel, ChannelType
from crisp.alerting.templates import TemplateError, parse_template

USER_AGENT = "crisp-alerting/1"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        """Sleep before retry ``attempt`` (1-based): doubling, full jitter on the top half."""
        base = min(self.max_delay, self.initial_delay * 2.0 ** (attempt - 1))
        return base / 2 + random.uniform(0, base / 2)  # noqa: S311  # jitter, not crypto


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    attempts: int
    error: str = ""


class _Retryable(Exception):
    pass


class _Final(Exception):
    pass


def deliver(
    channel: Channel,
    notification: Notification,
    *,
    client: httpx.Client,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    send = _SENDERS[channel.type]
    error = ""
    for attempt in range(1, retry.attempts + 1):
        try:
            send(channel.settings, notification, client)
            return DeliveryResult(True, attempt)
        except _Final as exc:
            return DeliveryResult(False, attempt, str(exc))
        except _Retryable as exc:
            error = str(exc)
        if attempt < retry.attempts:
            sleep(retry.delay(attempt))
    return DeliveryResult(False, retry.attempts, error)


# ---------------------------------------------------------------- HTTP channels


def _post(
    client: httpx.Client,
    url: str,
    *,
    content: bytes,
    content_type: str,
    headers: Mapping[str, Any] | None = None,
    method: str = "POST",
) -> None:
    all_headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
    all_headers.update({str(k): str(v) for k, v in (headers or {}).items()})
    try:
        response = client.request(method, url, content=content, headers=all_headers)
    except httpx.HTTPError as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise _Retryable(f"HTTP {response.status_code} from receiver")
    if response.status_code >= 400:
        raise _Final(f"HTTP {response.status_code} from receiver: {response.text[:200]}")


def _json_bytes(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _url(settings: Mapping[str, Any]) -> str:
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _Final("url: expected an http(s):// URL")
    return url


def _send_webhook(settings: Mapping[str, Any], n: Notification, client: httpx.Client) -> None:
    shape = settings.get("format", "crisp")
    body = alertmanager_json(n) if shape == "alertmanager" else webhook_json(n)
    _post(
        client,
        _url(settings),
        content=_json_bytes(body),
        content_type="application/json",
        headers=settings.get("headers"),
    )


def _send_slack(settings: Mapping[str, Any], n: Notification, client: httpx.Client) -> None:
    body = slack_json(n)
    if settings.get("channel"):
        body["channel"] = settings["channel"]
    _post(client, _url(settings), content=_json_bytes(body), content_type="application/json")


def _send_sms(settings: Mapping[str, Any], n: Notification, client: httpx.Client) -> None:
    message = sms_text(n, int(settings.get("max_length", 300)))
    to = settings.get("to", "")
    numbers = to if isinstance(to, list) else [to]
    content_type = str(settings.get("content_type", "application/json"))
    template = settings.get("body")
    for number in numbers:
        context = {"message": message, "to": str(number), "status": n.status}
        if isinstance(template, str):
            if "json" in content_type:
                # Values go inside a JSON string literal in the template: escape them.
                context = {k: json.dumps(v)[1:-1] for k, v in context.items()}
            elif "x-www-form-urlencoded" in content_type:
                context = {k: quote_plus(v) for k, v in context.items()}
            try:
                content = parse_template(template).render(context).encode("utf-8")
            except TemplateError as exc:
                raise _Final(f"body: {exc}") from None
        else:
            content = _json_bytes({"to": str(number), "message": message})
        _post(
            client,
            _url(settings),
            content=content,
            content_type=content_type,
            headers=settings.get("headers"),
            method=str(settings.get("method", "POST")).upper(),
        )


# ---------------------------------------------------------------- email


def _send_email(settings: Mapping[str, Any], n: Notification, client: httpx.Client) -> None:
    content = email_content(n)
    to = settings.get("to")
    recipients = [to] if isinstance(to, str) else list(to or [])
    if not recipients:
        raise _Final("to: no recipient")
    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = str(settings.get("from", "crisp@localhost"))
    message["To"] = ", ".join(str(r) for r in recipients)
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    host = str(settings.get("host", "localhost"))
    use_ssl = bool(settings.get("ssl", False))
    port = int(settings.get("port", 465 if use_ssl else 25))
    timeout = float(settings.get("timeout", 10))
    try:
        smtp: smtplib.SMTP
        if use_ssl:
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if settings.get("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if settings.get("username"):
                smtp.login(str(settings["username"]), str(settings.get("password", "")))
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        problem = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        raise (_Retryable(problem) if 400 <= exc.smtp_code < 500 else _Final(problem)) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise _Final(f"recipients refused: {sorted(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}") from None


_SENDERS: dict[ChannelType, Callable[[Mapping[str, Any], Notification, httpx.Client], None]] = {
    ChannelType.WEBHOOK: _send_webhook,
    ChannelType.SLACK: _send_slack,
    ChannelType.SMS: _send_sms,
    ChannelType.EMAIL: _send_email,
}
