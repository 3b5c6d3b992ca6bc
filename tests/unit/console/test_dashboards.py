"""Dashboards: variables substituted through the query model, panels run for members,
JSON export/import, and the pages (viewers see no edit controls)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from crisp.console.dashboards.models import Dashboard
from crisp.console.dashboards.variables import substitute
from crisp.console.explore.backend import MetricsBackend
from crisp.console.explore.querymodel import ExploreQuery, TagFilter, translate
from crisp.query.influxql import parse_query
from tests.unit.console.fixtures import PANEL, World, build_world, client_for
from tests.unit.console.test_querymodel import NASTY, NOW

BY_SERVICE = {
    "title": "p95 of $service by endpoint",
    "query": {
        **PANEL["query"],
        "aggregate": "count",
        "interval": "1h",
        "start": "-10m",
        "group_by": ["endpoint"],
        "filters": [{"tag": "service", "op": "=", "value": "$service"}],
    },
}
SERVICE_VARIABLE = {
    "name": "service",
    "database": "metrics",
    "measurement": "api_latency",
    "tag": "service",
}

# ---------------------------------------------------------------- substitution


def model(*filters: TagFilter) -> ExploreQuery:
    return ExploreQuery("db", "m", "f", filters=filters)


def test_substitute_replaces_whole_values_only() -> None:
    query = model(
        TagFilter("service", "=", "$service"),
        TagFilter("host", "=", "literal $service"),
        TagFilter("zone", "!=", "$zone"),
    )
    done = substitute(query, {"service": "checkout", "zone": "eu"})
    assert done.filters == (
        TagFilter("service", "=", "checkout"),
        TagFilter("host", "=", "literal $service"),
        TagFilter("zone", "!=", "eu"),
    )


def test_all_drops_the_filter() -> None:
    query = model(TagFilter("service", "=", "$service"), TagFilter("host", "=", "h1"))
    assert substitute(query, {}).filters == (TagFilter("host", "=", "h1"),)
    assert substitute(query, {"service": ""}).filters == (TagFilter("host", "=", "h1"),)


def test_regex_filters_match_the_picked_value_literally() -> None:
    query = model(TagFilter("endpoint", "=~", "$endpoint"))
    done = substitute(query, {"endpoint": "/a.b(c)"})
    assert done.filters == (TagFilter("endpoint", "=~", r"^/a\.b\(c\)$"),)


def injection_values() -> list[tuple[str, str]]:
    return [(op, text) for text in [*NASTY, "a/b", "x/ OR 1=1", ".*"] for op in ("=", "=~", "!~")]


@pytest.mark.parametrize(("op", "value"), injection_values())
def test_variable_values_cannot_change_the_statement(op: str, value: str) -> None:
    query = substitute(model(TagFilter("host", op, "$host")), {"host": value})
    translation = translate(query, NOW)
    assert parse_query(translation.text).statements == (translation.statement,)
    (term,) = query.filters
    if op == "=":
        assert term.value == value
    else:
        # The picked value, matched literally: not as a pattern, not as a prefix.
        assert re.fullmatch(term.value, value)
        assert not re.fullmatch(term.value, value + "x")


# ---------------------------------------------------------------- API

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(backend: MetricsBackend) -> World:
    world = build_world()
    Dashboard.objects.filter(pk=world.dashboard_a.pk).update(
        panels=[PANEL, BY_SERVICE], variables=[SERVICE_VARIABLE]
    )
    return world


def run_panel(world: World, user: str, **body: Any) -> Any:
    url = f"/api/dashboards/{world.dashboard_a.pk}/query/"
    return client_for(world, user).post(url, {"panel": 1, **body}, format="json")


def counts(response: Any) -> dict[str, int]:
    assert response.status_code == 200, response.content
    totals: dict[str, int] = {}
    for series in response.json()["series"]:
        name = series["tags"]["endpoint"]
        totals[name] = totals.get(name, 0) + sum(row[1] or 0 for row in series["values"])
    return totals


def test_viewer_runs_a_panel_with_a_variable(world: World) -> None:
    picked = run_panel(world, "alice", variables={"service": "checkout"})
    assert counts(picked) == {"/cart": 3, "/pay": 2}
    assert "service::tag = 'checkout'" in picked.json()["query"]
    # The same view as an Explore model, the variable put in.
    explore = picked.json()["explore"]
    assert explore["filters"] == [{"tag": "service", "op": "=", "value": "checkout"}]
    assert (explore["group_by"], explore["aggregate"]) == (["endpoint"], "count")
    same = client_for(world, "alice").post("/api/query/", explore, format="json")
    assert counts(same) == {"/cart": 3, "/pay": 2}
    quoted = run_panel(world, "alice", variables={"service": 'o\'brien "q"'})
    assert counts(quoted) == {"/": 1}
    everything = run_panel(world, "alice", variables={"service": ""})
    assert counts(everything) == {"/": 1, "/cart": 3, "/pay": 2}


@pytest.mark.parametrize("value", NASTY)
def test_injection_through_a_variable_finds_nothing(world: World, value: str) -> None:
    response = run_panel(world, "alice", variables={"service": value})
    assert response.status_code == 200, response.content
    assert response.json()["series"] == []


def test_panel_range_override_and_errors(world: World) -> None:
    assert counts(run_panel(world, "alice", start="-30s", end="now")) == {}
    bad = run_panel(world, "alice", start="yesterday")
    assert bad.status_code == 400
    missing = run_panel(world, "alice", panel=7)
    assert missing.status_code == 400
    assert "2 panels" in json.dumps(missing.json()["fields"])
    assert run_panel(world, "bob").status_code == 404  # another team's dashboard
    assert run_panel(world, "nora").status_code == 404


def test_panel_needs_access_to_its_database(world: World) -> None:
    secret = {"title": "s", "query": {"database": "secret", "measurement": "cpu", "field": "u"}}
    Dashboard.objects.filter(pk=world.dashboard_a.pk).update(panels=[secret])
    response = run_panel(world, "alice", panel=0)
    assert response.status_code == 403


def test_variable_values_come_from_tag_values(world: World) -> None:
    url = f"/api/dashboards/{world.dashboard_a.pk}/variable-values/"
    response = client_for(world, "alice").get(url)
    assert response.json() == [{"name": "service", "values": ["checkout", 'o\'brien "q"']}]


def create(world: World, user: str, **changes: Any) -> Any:
    body = {
        "team": world.team_a.pk,
        "title": "T",
        "panels": [BY_SERVICE],
        "variables": [SERVICE_VARIABLE],
        **changes,
    }
    return client_for(world, user).post("/api/dashboards/", body, format="json")


def test_editor_saves_variables(world: World) -> None:
    response = create(world, "erin")
    assert response.status_code == 201, response.content
    assert response.json()["variables"] == [SERVICE_VARIABLE]
    assert response.json()["can_edit"] is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"variables": []}, "undefined variable $service"),
        ({"variables": [SERVICE_VARIABLE, SERVICE_VARIABLE]}, "unique"),
        ({"variables": [{**SERVICE_VARIABLE, "name": "1x"}]}, "letters"),
        ({"variables": [{**SERVICE_VARIABLE, "name": "a b"}]}, "letters"),
        ({"variables": [{**SERVICE_VARIABLE, "tag": ""}]}, "tag"),
    ],
)
def test_invalid_variables_are_refused(world: World, changes: dict[str, Any], message: str) -> None:
    response = create(world, "erin", **changes)
    assert response.status_code == 400
    assert message in json.dumps(response.json())


def test_patch_cannot_orphan_a_reference(world: World) -> None:
    url = f"/api/dashboards/{world.dashboard_a.pk}/"
    response = client_for(world, "erin").patch(url, {"variables": []}, format="json")
    assert response.status_code == 400


def test_can_edit_follows_the_role(world: World) -> None:
    url = f"/api/dashboards/{world.dashboard_a.pk}/"
    assert client_for(world, "alice").get(url).json()["can_edit"] is False
    assert client_for(world, "erin").get(url).json()["can_edit"] is True


def test_export_import_round_trip(world: World) -> None:
    exported = client_for(world, "alice").get(f"/api/dashboards/{world.dashboard_a.pk}/export/")
    assert exported.status_code == 200
    assert "attachment" in exported["Content-Disposition"]
    document = exported.json()
    assert document == {
        "crisp_dashboard": 1,
        "title": "A board",
        "description": "",
        "variables": [SERVICE_VARIABLE],
        "panels": [PANEL, BY_SERVICE],
    }
    body = {"team": world.team_a.pk, "dashboard": document}
    refused = client_for(world, "alice").post("/api/dashboards/import/", body, format="json")
    assert refused.status_code == 403  # a viewer cannot create
    imported = client_for(world, "erin").post("/api/dashboards/import/", body, format="json")
    assert imported.status_code == 201, imported.content
    copy = Dashboard.objects.get(pk=imported.json()["id"])
    assert (copy.title, copy.team, copy.variables) == ("A board", world.team_a, [SERVICE_VARIABLE])
    # Validated on the way in, as any write: the panel type gets its default.
    assert copy.panels == [{**p, "type": "timeseries"} for p in (PANEL, BY_SERVICE)]
    other_team = {"team": world.team_b.pk, "dashboard": document}
    assert (
        client_for(world, "erin").post("/api/dashboards/import/", other_team, format="json")
    ).status_code == 403


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"title": "x"}, "not a Crisp dashboard export"),
        ({"crisp_dashboard": 1, "title": "x", "panels": [{"title": "p"}]}, "query"),
        ({"crisp_dashboard": 1, "panels": []}, "title"),
    ],
)
def test_import_checks_the_document(world: World, document: dict[str, Any], message: str) -> None:
    body = {"team": world.team_a.pk, "dashboard": document}
    response = client_for(world, "erin").post("/api/dashboards/import/", body, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json())


# ---------------------------------------------------------------- pages


def page(world: World, user: str, url: str) -> Any:
    client = Client()
    client.force_login(world.users[user])
    return client.get(url)


def test_dashboard_page_for_a_viewer_has_no_edit_controls(world: World) -> None:
    response = page(world, "alice", f"/dashboards/{world.dashboard_a.pk}/")
    assert response.status_code == 200
    assert b"console/dashboard.js" in response.content
    assert b'"can_edit": false' in response.content
    assert b'id="edit"' not in response.content
    assert b"Export JSON" in response.content
    listing = page(world, "alice", "/dashboards/")
    assert f'href="/dashboards/{world.dashboard_a.pk}/"'.encode() in listing.content
    assert b'id="import-dashboard"' not in listing.content


def test_dashboard_page_for_an_editor(world: World) -> None:
    response = page(world, "erin", f"/dashboards/{world.dashboard_a.pk}/")
    assert b'"can_edit": true' in response.content
    assert b'id="edit"' in response.content
    listing = page(world, "erin", "/dashboards/")
    assert b'id="import-dashboard"' in listing.content
    assert b'<option value="%d">Team A</option>' % world.team_a.pk in listing.content


def test_other_teams_dashboard_page_is_not_found(world: World) -> None:
    assert page(world, "bob", f"/dashboards/{world.dashboard_a.pk}/").status_code == 404
    assert Client().get(f"/dashboards/{world.dashboard_a.pk}/").status_code == 302
