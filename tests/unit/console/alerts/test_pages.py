"""The alerting pages as a signed-in user sees them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crisp.console.alerts import models
from crisp.console.explore.backend import MetricsBackend
from tests.integration.alert_receivers import HTTPReceiver, http_receiver
from tests.unit.console.alerts.test_api import RULE
from tests.unit.console.fixtures import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook() -> Iterator[HTTPReceiver]:
    with http_receiver() as receiver:
        yield receiver


def login(world: World, name: str) -> Client:
    client = Client()
    client.force_login(world.users[name])
    return client


@pytest.fixture
def rule(world: World) -> models.AlertRule:
    rule = models.AlertRule.objects.create(
        team=world.team_a, name="p95_high", spec=RULE, last_eval_at=timezone.now(),
        last_eval_seconds=0.012,
    )  # fmt: skip
    models.AlertInstance.objects.create(
        rule=rule, key_hash="a", tags={"service": "checkout"}, state="firing", since_ns=1,
        value=300.0,
    )  # fmt: skip
    models.AlertInstance.objects.create(
        rule=rule, key_hash="b", tags={"service": "cart"}, state="normal", since_ns=1, value=9.0
    )
    models.AlertTransition.objects.create(
        rule=rule, tags={"service": "checkout"}, from_state="pending", to_state="firing",
        at=timezone.now(), value=300.0,
    )  # fmt: skip
    return rule


@pytest.mark.parametrize(
    "url", ["/alerts/", "/alerts/history/", "/alerts/silences/", "/alerts/channels/"]
)
def test_pages_need_login(backend: MetricsBackend, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_rules_list_shows_state_and_last_evaluation(world: World, rule: models.AlertRule) -> None:
    page = login(world, "alice").get("/alerts/").content.decode()
    assert "p95_high" in page
    assert '<td class="state-firing">firing</td>' in page
    assert "firing: 1, normal: 1" in page
    assert "(0.012 s)" in page
    assert "p95_high" not in login(world, "bob").get("/alerts/").content.decode()


def test_rule_page_shows_instances_and_history(world: World, rule: models.AlertRule) -> None:
    page = login(world, "alice").get(f"/alerts/rules/{rule.pk}/").content.decode()
    assert "service=checkout" in page
    assert "pending" in page
    assert "percentile(duration_ms, 95)" in page  # the definition
    assert 'aria-label="states of service=checkout"' in page  # the 24 h timeline
    assert 'fill="#d63232"' in page  # its firing segment
    assert login(world, "bob").get(f"/alerts/rules/{rule.pk}/").status_code == 404
    history = login(world, "alice").get("/alerts/history/").content.decode()
    assert f'href="/alerts/rules/{rule.pk}/"' in history


def test_an_editor_creates_and_expires_a_silence(world: World) -> None:
    erin = login(world, "erin")
    created = erin.post(
        "/alerts/silences/",
        {"team": world.team_a.pk, "matchers": "service=checkout\nenv=~prod.*",
         "duration": "2h", "comment": "deploy"},
    )  # fmt: skip
    assert created.status_code == 302
    silence = models.Silence.objects.get()
    assert silence.matchers == ["service=checkout", "env=~prod.*"]
    assert silence.created_by == world.users["erin"]
    assert (
        timedelta(hours=1, minutes=59) < silence.ends_at - silence.starts_at <= timedelta(hours=2)
    )
    page = erin.get("/alerts/silences/").content.decode()
    assert "service=checkout, env=~prod.*" in page
    assert "Expire" in page
    # A viewer sees it but cannot expire it.
    assert "Expire" not in login(world, "alice").get("/alerts/silences/").content.decode()
    assert login(world, "alice").post(f"/alerts/silences/{silence.pk}/expire/").status_code == 403
    erin.post(f"/alerts/silences/{silence.pk}/expire/")
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()


def test_a_bad_silence_is_refused_with_the_reason(world: World) -> None:
    page = login(world, "erin").post(
        "/alerts/silences/",
        {"team": world.team_a.pk, "matchers": "no operator here", "duration": "2h"},
    )
    assert page.status_code == 200
    assert "invalid matcher" in page.content.decode()
    assert not models.Silence.objects.exists()
    viewer = login(world, "alice").post(
        "/alerts/silences/", {"team": world.team_a.pk, "matchers": "a=b", "duration": "1h"}
    )
    assert viewer.status_code == 200  # no form for viewers: nothing to create
    assert not models.Silence.objects.exists()


def test_channel_test_button_reports_delivery(world: World, hook: HTTPReceiver) -> None:
    good = models.Channel.objects.create(
        team=world.team_a, name="hook", type="webhook", settings={"url": f"{hook.url}/x"}
    )
    erin = login(world, "erin")
    page = erin.post(f"/alerts/channels/{good.pk}/test/", follow=True).content.decode()
    assert "Test notification delivered to hook." in page
    (body,) = hook.bodies()
    assert body["alerts"][0]["labels"]["alertname"] == "CrispTestNotification"

    hook.failures.append(500)
    page = erin.post(f"/alerts/channels/{good.pk}/test/", follow=True).content.decode()
    assert "Test notification to hook failed: HTTP 500 from receiver" in page
    listing = erin.get("/alerts/channels/").content.decode()
    assert '<td class="error">HTTP 500 from receiver</td>' in listing
    assert login(world, "alice").post(f"/alerts/channels/{good.pk}/test/").status_code == 403
    assert login(world, "bob").post(f"/alerts/channels/{good.pk}/test/").status_code == 404


RULE_YAML = """
name: p95_high
threshold: 250
duration: 1m
database: metrics
query: SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 1m
"""


def test_the_editor_creates_and_renames_a_rule(world: World) -> None:
    erin = login(world, "erin")
    page = erin.get("/alerts/rules/new/").content.decode()
    assert 'name="spec"' in page
    assert 'id="preview"' in page
    created = erin.post(
        "/alerts/rules/new/", {"team": world.team_a.pk, "spec": RULE_YAML, "enabled": "on"}
    )
    assert created.status_code == 302
    rule = models.AlertRule.objects.get()
    assert created["Location"] == f"/alerts/rules/{rule.pk}/"
    assert rule.spec["threshold"] == 250
    edit = erin.get(f"/alerts/rules/{rule.pk}/edit/").content.decode()
    assert "percentile(duration_ms, 95)" in edit
    renamed = erin.post(
        f"/alerts/rules/{rule.pk}/edit/",
        {"team": world.team_a.pk, "spec": RULE_YAML.replace("p95_high", "p95_very_high")},
    )
    assert renamed.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.enabled) == ("p95_very_high", False)
    assert models.AlertRule.objects.count() == 1


def test_the_editor_names_the_field_of_a_problem(world: World) -> None:
    erin = login(world, "erin")
    bad = erin.post(
        "/alerts/rules/new/",
        {"team": world.team_a.pk, "spec": RULE_YAML.replace("250", "lots")},
    )
    assert bad.status_code == 200
    assert "threshold: expected a number or a percentage" in bad.content.decode()
    secret = erin.post(
        "/alerts/rules/new/",
        {"team": world.team_a.pk, "spec": RULE_YAML.replace("metrics", "secret")},
    )
    assert "database: no access to &#x27;secret&#x27;" in secret.content.decode()
    assert not models.AlertRule.objects.exists()


def test_viewers_cannot_open_the_editor(world: World, rule: models.AlertRule) -> None:
    alice = login(world, "alice")
    assert alice.get("/alerts/rules/new/").status_code == 403
    assert alice.get(f"/alerts/rules/{rule.pk}/edit/").status_code == 403
    assert "New rule" not in alice.get("/alerts/").content.decode()
    assert "New rule" in login(world, "erin").get("/alerts/").content.decode()
    assert login(world, "bob").get(f"/alerts/rules/{rule.pk}/edit/").status_code == 404


def test_an_instance_links_to_a_prefilled_silence(world: World, rule: models.AlertRule) -> None:
    erin = login(world, "erin")
    page = erin.get(f"/alerts/rules/{rule.pk}/").content.decode()
    link = "/alerts/silences/?matchers=alertname%3Dp95_high&amp;matchers=service%3Dcheckout"
    assert link in page
    form = erin.get(link.replace("&amp;", "&")).content.decode()
    assert "alertname=p95_high\nservice=checkout</textarea>" in form
    assert (
        "Silence</a>" not in login(world, "alice").get(f"/alerts/rules/{rule.pk}/").content.decode()
    )


def test_the_notification_log_page(world: World) -> None:
    channel = models.Channel.objects.create(
        team=world.team_a, name="hook", type="webhook", settings={"url": "http://x"}
    )
    models.NotificationLog.objects.create(
        channel=channel, channel_name="hook", status="firing", group_labels={"alertname": "x"},
        alerts=[{}, {}], ok=False, attempts=4, error="HTTP 503 from receiver",
    )  # fmt: skip
    page = login(world, "alice").get("/alerts/notifications/").content.decode()
    assert "HTTP 503 from receiver" in page
    assert "alertname=x" in page
    assert "HTTP 503" not in login(world, "bob").get("/alerts/notifications/").content.decode()


def test_channels_are_created_and_edited_with_secrets_kept(world: World) -> None:
    erin = login(world, "erin")
    created = erin.post(
        "/alerts/channels/new/",
        {"team": world.team_a.pk, "name": "slack", "type": "slack",
         "settings": "url: https://hooks.example/T0/s3cret\nchannel: '#ops'\n"},
    )  # fmt: skip
    assert created.status_code == 302
    channel = models.Channel.objects.get()
    assert channel.settings["url"].startswith("enc:")
    edit = erin.get(f"/alerts/channels/{channel.pk}/edit/").content.decode()
    assert "url: &lt;encrypted&gt;" in edit
    assert "s3cret" not in edit
    sealed = channel.settings["url"]
    erin.post(
        f"/alerts/channels/{channel.pk}/edit/",
        {"team": world.team_a.pk, "name": "slack-ops", "type": "slack",
         "settings": "url: <encrypted>\nchannel: '#oncall'\n"},
    )  # fmt: skip
    channel.refresh_from_db()
    assert (channel.name, channel.settings) == ("slack-ops", {"url": sealed, "channel": "#oncall"})
    bad = erin.post(
        "/alerts/channels/new/",
        {"team": world.team_a.pk, "name": "mail", "type": "email", "settings": "host: smtp\n"},
    )
    assert "to: required for a email channel" in bad.content.decode()
    assert login(world, "alice").get("/alerts/channels/new/").status_code == 403


def test_rule_page_buttons_disable_enable_and_delete(world: World, rule: models.AlertRule) -> None:
    erin = login(world, "erin")
    assert login(world, "alice").post(f"/alerts/rules/{rule.pk}/disable/").status_code == 403
    erin.post(f"/alerts/rules/{rule.pk}/disable/")
    rule.refresh_from_db()
    assert rule.enabled is False
    assert "Enable</button>" in erin.get(f"/alerts/rules/{rule.pk}/").content.decode()
    erin.post(f"/alerts/rules/{rule.pk}/enable/")
    rule.refresh_from_db()
    assert rule.enabled is True
    assert erin.get(f"/alerts/rules/{rule.pk}/delete/").status_code == 405
    assert erin.post(f"/alerts/rules/{rule.pk}/delete/")["Location"] == "/alerts/"
    assert not models.AlertRule.objects.exists()
    assert not models.AlertTransition.objects.exists()  # its history goes with it
