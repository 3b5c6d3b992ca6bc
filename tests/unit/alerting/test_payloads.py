from crisp.alerting.grouping import AlertEntry
from crisp.alerting.payloads import (
    Notification,
    alertmanager_json,
    email_content,
    rfc3339,
    slack_json,
    sms_text,
    webhook_json,
)

FIRING = AlertEntry(
    "f1", "firing", "firing",
    {"alertname": "p95_high", "severity": "critical", "service": "api"},
    {"summary": "p95 of api is 300 ms"}, 300.0, 1_700_000_000_000_000_000,
)  # fmt: skip
RESOLVED = AlertEntry(
    "f2", "resolved", "resolved",
    {"alertname": "p95_high", "severity": "critical", "service": "<web>"},
    {"summary": "fine"}, 20.0, 1_700_000_000_000_000_000, 1_700_000_060_000_000_000,
)  # fmt: skip
N = Notification("hook", "gk", {"alertname": "p95_high"}, [FIRING, RESOLVED], "http://console")


def test_alertmanager_shape() -> None:
    body = alertmanager_json(N)
    assert body["version"] == "4"
    assert body["status"] == "firing"
    assert body["groupLabels"] == {"alertname": "p95_high"}
    assert body["commonLabels"] == {"alertname": "p95_high", "severity": "critical"}
    assert body["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert body["alerts"][1]["endsAt"] == "2023-11-14T22:14:20.000Z"
    assert body["alerts"][1]["startsAt"] == rfc3339(RESOLVED.starts_at_ns)
    assert {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
            "fingerprint"} == set(body["alerts"][0])  # fmt: skip


def test_crisp_webhook_carries_values_and_states() -> None:
    body = webhook_json(N)
    assert [(a["state"], a["value"]) for a in body["alerts"]] == [("firing", 300.0),
                                                                   ("resolved", 20.0)]  # fmt: skip
    assert body["alerts"][0]["ends_at"] is None
    only_resolved = webhook_json(Notification("hook", "gk", {}, [RESOLVED]))
    assert only_resolved["status"] == "resolved"


def test_slack_email_and_sms_texts() -> None:
    assert slack_json(N)["text"] == "[FIRING:1] alertname=p95_high"
    mail = email_content(N)
    assert mail.subject == "[FIRING:1] alertname=p95_high"
    assert "FIRING p95_high (service=api) value=300: p95 of api is 300 ms" in mail.text
    assert "&lt;web&gt;" in mail.html
    assert "<web>" not in mail.html
    assert sms_text(N).startswith("FIRING p95_high (service=api) value=300")
    assert len(sms_text(N, limit=20)) == 20
