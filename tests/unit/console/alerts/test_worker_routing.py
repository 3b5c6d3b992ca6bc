"""The seed's routing through the worker: critical alerts go to phone+sms (SMS gateways),
warnings to Slack and email; each receiver is a real local server."""

from __future__ import annotations

import textwrap

import pytest

from crisp.alerting.rules import load_alert_file
from crisp.console.accounts.models import Team
from crisp.console.alerts.actions import do_import_alert_file
from tests.integration.alert_receivers import http_receiver, smtp_receiver
from tests.unit.console.alerts.test_worker import Clock, ScriptedBackend, make_worker

pytestmark = pytest.mark.django_db

QUERY = (
    "SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 1m GROUP BY service"
)


def test_critical_pages_phone_and_sms_warnings_go_to_slack_and_email() -> None:
    with http_receiver() as gateway, http_receiver() as slack, smtp_receiver() as (port, mails):
        text = textwrap.dedent(
            f"""
            channels:
              - {{name: phone, type: sms, url: "{gateway.url}/call", to: "+15550100"}}
              - {{name: sms, type: sms, url: "{gateway.url}/sms", to: "+15550100"}}
              - {{name: slack, type: slack, url: "{slack.url}/hook"}}
              - {{name: mail, type: email, host: 127.0.0.1, port: {port}, to: ops@example.com}}
            alert_rules:
              - {{name: p95_critical, severity: critical, threshold: 500, duration: 0s,
                  interval: 1s, database: metrics, query: "{QUERY}", notify: slack+mail}}
              - {{name: p95_warning, severity: warning, threshold: 200, duration: 0s,
                  interval: 1s, database: metrics, query: "{QUERY}", notify: slack+mail}}
            routes:
              - {{match: {{severity: critical}}, notify: phone+sms, group_wait: 0s,
                  group_interval: 1s}}
              - {{match: {{severity: warning}}, group_wait: 0s, group_interval: 1s}}
            """
        )
        team = Team.objects.create(name="Ops", slug="ops")
        do_import_alert_file(team, load_alert_file(text), has_routes=True)
        backend = ScriptedBackend()
        backend.values = {"api": 900.0}  # breaches both rules
        make_worker(backend, Clock()).tick()

        paths = sorted(r.path for r in gateway.requests)
        assert paths == ["/call", "/sms"]  # critical: phone+sms, not the rule's slack+mail
        assert all(b["message"].startswith("FIRING p95_critical") for b in gateway.bodies())
        (slack_body,) = slack.bodies()  # warning: the rule's own channels
        assert slack_body["text"] == "[FIRING:1] alertname=p95_warning"
        (mail,) = mails
        assert mail.message["Subject"] == "[FIRING:1] alertname=p95_warning"
