"""Notifications delivered to real receivers: a local HTTP server and an SMTP server."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from crisp.alerting.delivery import DeliveryResult, RetryPolicy, deliver
from crisp.alerting.grouping import AlertEntry
from crisp.alerting.payloads import Notification
from crisp.alerting.rules import Channel, ChannelType
from crisp.bench.servers import free_port
from tests.integration.alert_receivers import http_receiver, smtp_receiver

pytestmark = pytest.mark.integration

ALERT = AlertEntry(
    "fp1", "firing", "firing",
    {"alertname": "p95_high", "severity": "critical", "service": "api"},
    {"summary": "p95 of api is 300 ms"}, 300.0, 1_700_000_000_000_000_000,
)  # fmt: skip
NOTE = Notification("ops", "group-1", {"alertname": "p95_high"}, [ALERT])
NO_WAIT = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.02)


def send(channel: Channel, notification: Notification = NOTE) -> DeliveryResult:
    with httpx.Client(timeout=5) as client:
        return deliver(channel, notification, client=client, retry=NO_WAIT)


def test_webhook_gets_crisp_json_with_headers_after_a_retried_500() -> None:
    with http_receiver() as hook:
        hook.failures.append(500)
        settings = {"url": f"{hook.url}/alerts", "headers": {"Authorization": "Bearer t0k"}}
        result = send(Channel("ops", ChannelType.WEBHOOK, settings))
        assert result.ok, result
        assert result.attempts == 2
        (request,) = hook.requests
        assert request.path == "/alerts"
        assert request.headers["Authorization"] == "Bearer t0k"
        body = request.json()
        assert body["status"] == "firing"
        assert body["alerts"][0]["labels"]["service"] == "api"
        assert body["alerts"][0]["value"] == 300.0


def test_webhook_in_alertmanager_shape() -> None:
    with http_receiver() as hook:
        result = send(
            Channel("ops", ChannelType.WEBHOOK, {"url": hook.url, "format": "alertmanager"})
        )
        assert result.ok
        (body,) = hook.bodies()
        assert body["version"] == "4"
        assert body["receiver"] == "ops"
        assert body["alerts"][0]["startsAt"] == "2023-11-14T22:13:20.000Z"


def test_a_4xx_is_final_and_a_dead_receiver_is_retried_then_reported() -> None:
    with http_receiver() as hook:
        hook.failures.append(404)
        refused = send(Channel("ops", ChannelType.WEBHOOK, {"url": hook.url}))
        assert not refused.ok
        assert refused.attempts == 1
        assert "HTTP 404" in refused.error
    dead = send(Channel("ops", ChannelType.WEBHOOK, {"url": f"http://127.0.0.1:{free_port()}"}))
    assert not dead.ok
    assert dead.attempts == 3
    assert "ConnectError" in dead.error


def test_slack_incoming_webhook_message() -> None:
    with http_receiver() as slack:
        assert send(Channel("s", ChannelType.SLACK, {"url": slack.url, "channel": "#ops"})).ok
        (body,) = slack.bodies()
        assert body["text"] == "[FIRING:1] alertname=p95_high"
        assert body["channel"] == "#ops"
        assert "p95 of api is 300 ms" in body["attachments"][0]["text"]


def test_sms_gateway_template_per_number() -> None:
    with http_receiver() as gateway:
        settings = {
            "url": f"{gateway.url}/send",
            "to": ["+15550100", "+15550101"],
            "body": '{"number": "{{ to }}", "text": "{{ message }}", "state": "{{ status }}"}',
        }
        assert send(Channel("sms", ChannelType.SMS, settings)).ok
        bodies = gateway.bodies()
        assert [b["number"] for b in bodies] == ["+15550100", "+15550101"]
        assert bodies[0]["text"].startswith("FIRING p95_high (service=api) value=300")
        assert bodies[0]["state"] == "firing"


def test_sms_gateway_with_a_form_body_escapes_the_values() -> None:
    with http_receiver() as gateway:
        settings = {
            "url": gateway.url,
            "to": "+15550100",
            "content_type": "application/x-www-form-urlencoded",
            "body": "To={{ to }}&Body={{ message }}",
        }
        assert send(Channel("sms", ChannelType.SMS, settings)).ok
        (request,) = gateway.requests
        form = parse_qs(request.body.decode())
        assert form["To"] == ["+15550100"]
        assert form["Body"][0].startswith("FIRING p95_high (service=api) value=300: p95 of api")


def test_email_over_smtp_with_text_and_html() -> None:
    with smtp_receiver() as (port, mails):
        settings = {
            "host": "127.0.0.1",
            "port": port,
            "from": "crisp@example.com",
            "to": ["ops@example.com", "dba@example.com"],
        }
        result = send(Channel("mail", ChannelType.EMAIL, settings))
        assert result.ok, result
        (mail,) = mails
        assert mail.rcpt_tos == ["ops@example.com", "dba@example.com"]
        assert mail.message["Subject"] == "[FIRING:1] alertname=p95_high"
        text = mail.message.get_body(("plain",))
        html = mail.message.get_body(("html",))
        assert text is not None
        assert html is not None
        assert "p95 of api is 300 ms" in text.get_content()
        assert "<table" in html.get_content()


def test_email_to_a_dead_smtp_server_is_retried_and_reported() -> None:
    settings = {"host": "127.0.0.1", "port": free_port(), "to": "ops@example.com", "timeout": 2}
    result = send(Channel("mail", ChannelType.EMAIL, settings))
    assert not result.ok
    assert result.attempts == 3


# aiosmtpd warns that AUTH without TLS is unsafe: true, and meant, for a local test server.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_email_logs_in_with_the_channels_credentials() -> None:
    from tests.integration.alert_receivers import SMTP_PASSWORD, SMTP_USER

    with smtp_receiver(require_login=True) as (port, mails):
        base = {"host": "127.0.0.1", "port": port, "to": "ops@example.com"}
        anonymous = send(Channel("mail", ChannelType.EMAIL, base))
        assert not anonymous.ok
        assert anonymous.attempts == 1  # 530 authentication required: final, not retried
        assert "SMTP 530" in anonymous.error
        good = send(Channel("mail", ChannelType.EMAIL, {**base, "username": SMTP_USER,
                                                         "password": SMTP_PASSWORD}))  # fmt: skip
        assert good.ok, good
        assert len(mails) == 1
