"""The alerting API: team-scoped CRUD, sealed secrets, validation, import/export."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from crisp.console.alerts import models
from tests.unit.console.fixtures import World, client_for

pytestmark = pytest.mark.django_db

RULE = {
    "name": "p95_high",
    "severity": "critical",
    "threshold": 250,
    "duration": "1m",
    "database": "metrics",
    "query": "SELECT percentile(duration_ms, 95) FROM api_latency "
    "WHERE time > now() - 1m GROUP BY service",
    "labels": {"team": "a"},
    "annotations": {"summary": "p95 of {{ labels.service }} is {{ value }} ms"},
}

FILE = textwrap.dedent(
    """
    channels:
      - {name: hook, type: webhook, url: "http://127.0.0.1:9/hook?token=s3cret"}
      - {name: pager, type: sms, url: "env:SMS_GATEWAY_URL", to: "+15550100"}
    alert_rules:
      - name: p95_high
        severity: critical
        threshold: 250
        duration: 1m
        database: metrics
        query: SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 1m
        notify: hook
      - name: disk_full
        severity: critical
        threshold: 90%
        duration: 1m
        notify: hook+pager
    routes:
      - {match: {severity: critical}, notify: pager, continue: true, group_wait: 0s}
    """
)


def make_rule(world: World, team: Any, name: str = "p95_high") -> models.AlertRule:
    return models.AlertRule.objects.create(team=team, name=name, spec={**RULE, "name": name})


CASES = [
    # (user, action, target team, status)
    (None, "list", "a", 401),
    ("alice", "list", "a", 200),
    ("alice", "create", "a", 403),
    ("alice", "delete", "a", 403),
    ("erin", "create", "a", 201),
    ("erin", "update", "a", 200),
    ("erin", "delete", "a", 204),
    ("erin", "create", "b", 403),
    ("erin", "retrieve", "b", 404),
    ("bob", "retrieve", "a", 404),
    ("nora", "create", "a", 403),
    ("root", "delete", "b", 204),
]


@pytest.mark.parametrize(("user", "action", "target", "status"), CASES)
def test_rule_permissions(
    world: World, user: str | None, action: str, target: str, status: int
) -> None:
    team = world.team_a if target == "a" else world.team_b
    existing = make_rule(world, team, "existing")
    client = client_for(world, user)
    url = f"/api/alerts/rules/{existing.pk}/"
    if action == "list":
        response = client.get("/api/alerts/rules/")
    elif action == "retrieve":
        response = client.get(url)
    elif action == "update":
        response = client.patch(
            url, {"spec": {**RULE, "name": "existing", "threshold": 5}}, format="json"
        )
    elif action == "delete":
        response = client.delete(url)
    else:
        spec = {**RULE, "database": "metrics" if target == "a" else "secret"}
        response = client.post("/api/alerts/rules/", {"team": team.pk, "spec": spec}, format="json")
    assert response.status_code == status, response.content


def test_a_created_rule_is_stored_normalised_and_listed_with_its_states(world: World) -> None:
    client = client_for(world, "erin")
    created = client.post(
        "/api/alerts/rules/", {"team": world.team_a.pk, "spec": RULE}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "p95_high"
    assert body["spec"]["interval"] == "30s"  # the default, made explicit
    assert body["states"] == {}
    listed = client.get("/api/alerts/rules/").json()
    assert [r["name"] for r in listed] == ["p95_high"]
    assert client_for(world, "bob").get("/api/alerts/rules/").json() == []


def test_an_invalid_rule_names_the_rule_and_the_field(world: World) -> None:
    response = client_for(world, "erin").post(
        "/api/alerts/rules/",
        {"team": world.team_a.pk, "spec": {**RULE, "threshold": "lots", "interval": "0s"}},
        format="json",
    )
    assert response.status_code == 400
    problems = response.json()["fields"]["spec"]
    assert "rule 'p95_high': threshold: expected a number or a percentage" in problems
    assert "rule 'p95_high': interval: must be at least 1s" in problems


def test_a_rule_cannot_read_a_database_its_author_cannot(world: World) -> None:
    response = client_for(world, "erin").post(
        "/api/alerts/rules/",
        {"team": world.team_a.pk, "spec": {**RULE, "database": "secret"}},
        format="json",
    )
    assert response.status_code == 403
    assert "secret" in response.json()["error"]


def test_a_rule_must_notify_known_channels(world: World) -> None:
    response = client_for(world, "erin").post(
        "/api/alerts/rules/",
        {"team": world.team_a.pk, "spec": {**RULE, "notify": "nowhere"}},
        format="json",
    )
    assert response.status_code == 400
    assert "rule 'p95_high': notify: unknown channel 'nowhere'" in response.json()["fields"]["spec"]


def test_channel_secrets_are_sealed_and_never_shown(world: World) -> None:
    client = client_for(world, "erin")
    response = client.post(
        "/api/alerts/channels/",
        {
            "team": world.team_a.pk,
            "name": "hook",
            "type": "webhook",
            "settings": {
                "url": "http://example.test/hook?token=s3cret",
                "headers": {"X-Key": "env:HOOK_KEY"},
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["settings"] == {
        "url": "<encrypted>",
        "headers": {"X-Key": "env:HOOK_KEY"},
    }
    stored = models.Channel.objects.get(name="hook")
    assert stored.settings["url"].startswith("enc:")
    assert "s3cret" not in str(stored.settings)
    # Sending the redacted form back (an edit of another field) keeps the secret.
    sealed = stored.settings["url"]
    client.patch(
        f"/api/alerts/channels/{stored.pk}/",
        {"settings": {"url": "<encrypted>", "format": "alertmanager"}},
        format="json",
    )
    stored.refresh_from_db()
    assert stored.settings["url"] == sealed
    assert stored.settings["format"] == "alertmanager"


def test_a_channel_without_its_required_setting_is_refused(world: World) -> None:
    response = client_for(world, "erin").post(
        "/api/alerts/channels/",
        {"team": world.team_a.pk, "name": "mail", "type": "email", "settings": {}},
        format="json",
    )
    assert response.status_code == 400
    assert "to: required for a email channel" in str(response.json()["fields"])


def test_silences_validate_matchers_and_window(world: World) -> None:
    client = client_for(world, "erin")
    good = client.post(
        "/api/alerts/silences/",
        {
            "team": world.team_a.pk,
            "matchers": ["service=checkout", 'env=~"prod|staging"'],
            "ends_at": "2099-01-01T00:00:00Z",
            "comment": "deploy",
        },
        format="json",
    )
    assert good.status_code == 201, good.content
    assert good.json()["matchers"] == ["service=checkout", "env=~prod|staging"]
    assert good.json()["created_by"] == "erin"
    assert good.json()["active"] is True
    bad = client.post(
        "/api/alerts/silences/",
        {"team": world.team_a.pk, "matchers": ["no operator"], "ends_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"matchers"}
    viewer = client_for(world, "alice").post(
        "/api/alerts/silences/",
        {"team": world.team_a.pk, "matchers": ["a=b"], "ends_at": "2099-01-01T00:00:00Z"},
        format="json",
    )
    assert viewer.status_code == 403


def test_states_and_history_are_read_only_and_team_scoped(world: World) -> None:
    rule = make_rule(world, world.team_a)
    models.AlertInstance.objects.create(
        rule=rule, key_hash="k", tags={"service": "api"}, state="firing", since_ns=1, value=300.0
    )
    models.AlertTransition.objects.create(
        rule=rule, tags={"service": "api"}, from_state="pending", to_state="firing",
        at="2026-01-01T00:00:00Z", value=300.0,
    )  # fmt: skip
    alice = client_for(world, "alice")
    assert [i["state"] for i in alice.get(f"/api/alerts/instances/?rule={rule.pk}").json()] == [
        "firing"
    ]
    history = alice.get("/api/alerts/history/").json()
    assert [(h["from_state"], h["to_state"]) for h in history] == [("pending", "firing")]
    assert alice.post("/api/alerts/history/", {}, format="json").status_code == 405
    assert client_for(world, "bob").get("/api/alerts/instances/").json() == []
    assert client_for(world, "erin").get(f"/api/alerts/rules/{rule.pk}/").json()["states"] == {
        "firing": 1
    }


def _import(client: APIClient, team: int, text: str) -> Any:
    return client.post("/api/alerts/import/", {"team": team, "document": text}, format="json")


def test_importing_the_same_file_twice_updates_and_never_duplicates(world: World) -> None:
    client = client_for(world, "erin")
    first = _import(client, world.team_a.pk, FILE)
    assert first.status_code == 200, first.content
    assert first.json()["summary"] == (
        "channels: 2 created, 0 updated; rules: 2 created, 0 updated; routes: 1"
    )
    second = _import(client, world.team_a.pk, FILE.replace("threshold: 250", "threshold: 300"))
    assert second.json()["summary"] == (
        "channels: 0 created, 2 updated; rules: 0 created, 2 updated; routes: 1"
    )
    assert models.AlertRule.objects.filter(team=world.team_a).count() == 2
    assert models.Channel.objects.filter(team=world.team_a).count() == 2
    assert models.Route.objects.filter(team=world.team_a).count() == 1
    assert models.AlertRule.objects.get(name="p95_high").spec["threshold"] == 300


def test_an_invalid_file_is_refused_whole_with_rule_and_field(world: World) -> None:
    text = FILE.replace("duration: 1m\n    database", "duration: soon\n    database")
    response = _import(client_for(world, "erin"), world.team_a.pk, text)
    assert response.status_code == 400
    assert response.json()["problems"] == [
        "alert_rules[0] (p95_high): duration: expected a duration such as 30s, 5m or 1h30m"
    ]
    assert not models.AlertRule.objects.exists()


def test_import_needs_an_editor_of_a_visible_team(world: World) -> None:
    assert _import(client_for(world, "alice"), world.team_a.pk, FILE).status_code == 403
    assert _import(client_for(world, "bob"), world.team_a.pk, FILE).status_code == 404


def test_export_gives_back_a_file_that_imports_to_the_same_state(world: World) -> None:
    client = client_for(world, "erin")
    _import(client, world.team_a.pk, FILE)
    response = client.get(f"/api/alerts/export/?team={world.team_a.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml"
    doc = yaml.safe_load(response.content)
    assert [c["name"] for c in doc["channels"]] == ["hook", "pager"]
    hook = doc["channels"][0]
    assert hook["url"].startswith("enc:")  # sealed, never the clear token
    assert doc["channels"][1]["url"] == "env:SMS_GATEWAY_URL"
    assert [r["name"] for r in doc["alert_rules"]] == ["disk_full", "p95_high"]
    assert doc["routes"][0]["match"] == ["severity=critical"]
    before = {r.name: r.spec for r in models.AlertRule.objects.all()}
    again = _import(client, world.team_a.pk, response.content.decode())
    assert again.status_code == 200, again.content
    assert {r.name: r.spec for r in models.AlertRule.objects.all()} == before
    assert models.Channel.objects.get(name="hook").settings["url"] == hook["url"]
    assert (
        client_for(world, "bob").get(f"/api/alerts/export/?team={world.team_a.pk}").status_code
        == 404
    )


def test_channel_test_endpoint_sends_and_answers_the_outcome(world: World) -> None:
    from tests.integration.alert_receivers import http_receiver

    with http_receiver() as hook:
        channel = models.Channel.objects.create(
            team=world.team_a, name="hook", type="webhook", settings={"url": hook.url}
        )
        url = f"/api/alerts/channels/{channel.pk}/test/"
        ok = client_for(world, "erin").post(url)
        assert ok.status_code == 200, ok.content
        assert ok.json()["ok"] is True
        assert len(hook.requests) == 1
        hook.failures.append(404)
        failed = client_for(world, "erin").post(url)
        assert failed.status_code == 502
        assert "HTTP 404" in failed.json()["error"]
        assert client_for(world, "alice").post(url).status_code == 403


PREVIEW_RULE = {
    "name": "p95_preview",
    "threshold": 50,
    "interval": "1m",
    "database": "metrics",
    "query": "SELECT percentile(duration_ms, 95) FROM api_latency "
    "WHERE time > now() - 1m GROUP BY service",
}


def test_preview_replays_the_rule_over_real_points(world: World) -> None:
    response = client_for(world, "alice").post(
        "/api/alerts/preview/", {"spec": PREVIEW_RULE, "range": "1h"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "GROUP BY time(1m), service" in body["query"]
    assert body["threshold"] == 50
    by_service = {s["tags"]["service"]: s for s in body["series"]}
    checkout = by_service["checkout"]
    # Points 5..1 minutes ago: 100, 40, 30, 20, 10 ms: only the oldest breaches.
    assert [v for _, v in checkout["points"]] == [100, 40, 30, 20, 10]
    assert [s for _, s in checkout["states"]][:2] == ["firing", "resolved"]
    assert len(checkout["firing"]) == 1
    assert by_service['o\'brien "q"']["firing"] == []


def test_preview_checks_the_rule_the_range_and_the_database(world: World) -> None:
    alice = client_for(world, "alice")
    bad = alice.post(
        "/api/alerts/preview/", {"spec": {**PREVIEW_RULE, "threshold": "x"}, "range": "9d"},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"spec", "range"}
    denied = client_for(world, "bob").post(
        "/api/alerts/preview/", {"spec": PREVIEW_RULE}, format="json"
    )
    assert denied.status_code == 403


def test_routes_are_read_and_replaced_whole(world: World) -> None:
    erin = client_for(world, "erin")
    _import(erin, world.team_a.pk, FILE)
    url = f"/api/alerts/routes/?team={world.team_a.pk}"
    (route,) = erin.get(url).json()["routes"]
    assert route["notify"] == ["pager"]
    assert route["continue"] is True
    replaced = erin.put(
        "/api/alerts/routes/",
        {"team": world.team_a.pk, "routes": [
            {"match": ["service=~api|web"], "group_by": ["service"]},
            {"notify": "hook", "mute": [{"weekdays": ["sat", "sun"]}]},
        ]},
        format="json",
    )  # fmt: skip
    assert replaced.status_code == 200, replaced.content
    routes = erin.get(url).json()["routes"]
    assert [r["match"] for r in routes] == [["service=~api|web"], []]
    assert routes[1]["mute"] == [{"weekdays": ["sat", "sun"]}]
    bad = erin.put(
        "/api/alerts/routes/",
        {"team": world.team_a.pk, "routes": [{"notify": "nowhere"}, {"group_wait": "soon"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["problems"] == [
        "routes[0]: notify: unknown channel 'nowhere'",
        "routes[1]: group_wait: expected a duration such as 30s or 5m",
    ]
    assert len(erin.get(url).json()["routes"]) == 2  # unchanged
    viewer = client_for(world, "alice").put(
        "/api/alerts/routes/", {"team": world.team_a.pk, "routes": []}, format="json"
    )
    assert viewer.status_code == 403
    assert client_for(world, "bob").get(url).status_code == 404


def test_encrypted_placeholder_without_a_stored_secret_is_refused(world: World) -> None:
    erin = client_for(world, "erin")
    created = erin.post(
        "/api/alerts/channels/",
        {"team": world.team_a.pk, "name": "hook", "type": "webhook",
         "settings": {"url": "<encrypted>"}},
        format="json",
    )  # fmt: skip
    assert created.status_code == 400
    assert "url: <encrypted> stands for a stored secret" in str(created.json()["fields"])
    text = 'channels: [{name: x, type: webhook, url: "<encrypted>"}]\n'
    imported = _import(erin, world.team_a.pk, text)
    assert imported.status_code == 400
    assert imported.json()["problems"] == [
        "channel 'x': url: <encrypted> stands for a stored secret; there is none"
    ]
    assert not models.Channel.objects.exists()


OBJECT_CASES = [
    # (kind, user, action, target team, status)
    ("channels", "alice", "list", "a", 200),
    ("channels", "alice", "update", "a", 403),
    ("channels", "alice", "delete", "a", 403),
    ("channels", "erin", "update", "a", 200),
    ("channels", "erin", "delete", "a", 204),
    ("channels", "erin", "retrieve", "b", 404),
    ("channels", "bob", "delete", "a", 404),
    ("channels", "root", "update", "b", 200),
    ("silences", "alice", "list", "a", 200),
    ("silences", "alice", "update", "a", 403),
    ("silences", "erin", "update", "a", 200),
    ("silences", "erin", "delete", "a", 204),
    ("silences", "erin", "retrieve", "b", 404),
    ("silences", "nora", "delete", "a", 404),
    ("silences", "root", "delete", "b", 204),
]


@pytest.mark.parametrize(("kind", "user", "action", "target", "status"), OBJECT_CASES)
def test_channel_and_silence_permissions(
    world: World, kind: str, user: str, action: str, target: str, status: int
) -> None:
    from django.utils import timezone

    team = world.team_a if target == "a" else world.team_b
    if kind == "channels":
        obj: Any = models.Channel.objects.create(
            team=team, name="hook", type="webhook", settings={"url": "http://x"}
        )
        change = {"settings": {"url": "http://y"}}
    else:
        obj = models.Silence.objects.create(
            team=team, matchers=["a=b"], starts_at=timezone.now(),
            ends_at=timezone.now() + timezone.timedelta(hours=1),
        )  # fmt: skip
        change = {"comment": "longer", "ends_at": "2099-01-01T00:00:00Z"}
    client = client_for(world, user)
    url = f"/api/alerts/{kind}/{obj.pk}/"
    if action == "list":
        response = client.get(f"/api/alerts/{kind}/")
    elif action == "retrieve":
        response = client.get(url)
    elif action == "update":
        response = client.patch(url, change, format="json")
    else:
        response = client.delete(url)
    assert response.status_code == status, response.content
