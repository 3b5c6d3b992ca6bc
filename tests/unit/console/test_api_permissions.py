"""Who may call what: one row per (user, request) → expected status, NetBox style."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.console.fixtures import PANEL, World, client_for

pytestmark = pytest.mark.django_db

QUERY_A = {"database": "metrics", "measurement": "api_latency", "field": "duration_ms"}
QUERY_B = {"database": "secret", "measurement": "cpu", "field": "usage"}


READS = [
    # (user, method, url, body, status)
    (None, "get", "/api/meta/databases/", None, 401),
    (None, "post", "/api/query/", QUERY_A, 401),
    (None, "get", "/api/metrics/latency/?service=checkout", None, 401),
    ("alice", "post", "/api/query/", QUERY_A, 200),
    ("alice", "post", "/api/query/", QUERY_B, 403),
    ("bob", "post", "/api/query/", QUERY_A, 403),
    ("bob", "post", "/api/query/", QUERY_B, 200),
    ("nora", "post", "/api/query/", QUERY_A, 403),
    ("root", "post", "/api/query/", QUERY_B, 200),
    ("alice", "get", "/api/meta/measurements/?db=metrics", None, 200),
    ("alice", "get", "/api/meta/measurements/?db=secret", None, 403),
    ("alice", "get", "/api/meta/tags/?db=secret&measurement=cpu", None, 403),
    ("alice", "get", "/api/meta/tag-values/?db=secret&measurement=cpu&key=host", None, 403),
    ("alice", "get", "/api/meta/fields/?db=secret&measurement=cpu", None, 403),
    ("alice", "get", "/api/meta/fields/?db=metrics&measurement=api_latency", None, 200),
    ("alice", "get", "/api/metrics/latency/?service=checkout", None, 200),
    ("alice", "get", "/api/metrics/latency/?service=checkout&db=secret", None, 403),
    ("nora", "get", "/api/metrics/latency/?service=checkout", None, 403),
    ("alice", "get", "/api/services/checkout/?db=metrics", None, 200),
    ("alice", "get", "/api/services/checkout/?db=secret", None, 403),
    ("nora", "get", "/api/services/checkout/?db=metrics", None, 403),
    (None, "get", "/api/services/checkout/?db=metrics", None, 401),
    ("alice", "get", f"/api/query/?q={json.dumps(QUERY_B)}", None, 403),
    ("bob", "get", f"/api/query/?format=csv&q={json.dumps(QUERY_B)}", None, 200),
    ("alice", "get", "/api/schema/", None, 200),
    ("alice", "get", "/api/teams/", None, 200),
    ("alice", "get", "/api/tokens/", None, 200),
]


@pytest.mark.parametrize(("user", "method", "url", "body", "status"), READS)
def test_read_permissions(
    world: World, user: str | None, method: str, url: str, body: Any, status: int
) -> None:
    response = getattr(client_for(world, user), method)(url, body, format="json")
    assert response.status_code == status, response.content
    if status >= 400:
        assert "error" in response.json()


@pytest.mark.parametrize(
    ("user", "expected"),
    [("alice", ["metrics"]), ("bob", ["secret"]), ("nora", []), ("root", ["metrics", "secret"])],
)
def test_databases_are_filtered_to_grants(world: World, user: str, expected: list[str]) -> None:
    assert client_for(world, user).get("/api/meta/databases/").json() == expected


# ---------------------------------------------------------------- dashboards CRUD


def _url(world: World, which: str) -> str:
    board = world.dashboard_a if which == "a" else world.dashboard_b
    return f"/api/dashboards/{board.pk}/"


DASHBOARD_CASES = [
    # (user, action, target board, status)
    ("alice", "retrieve", "a", 200),
    ("alice", "retrieve", "b", 404),
    ("alice", "update", "a", 403),
    ("alice", "delete", "a", 403),
    ("alice", "create", "a", 403),
    ("erin", "update", "a", 200),
    ("erin", "create", "a", 201),
    ("erin", "create", "b", 403),
    ("erin", "update", "b", 404),
    ("erin", "delete", "a", 204),
    ("bob", "retrieve", "a", 404),
    ("bob", "delete", "a", 404),
    ("nora", "create", "a", 403),
    ("root", "delete", "b", 204),
    # Running a panel, its variables and export: anyone who reads the dashboard.
    ("alice", "run", "a", 200),
    ("alice", "variables", "a", 200),
    ("alice", "export", "a", 200),
    ("bob", "run", "a", 404),
    ("bob", "export", "a", 404),
    ("nora", "variables", "a", 404),
    # Importing creates: editors and admins of the target team only.
    ("alice", "import", "a", 403),
    ("erin", "import", "a", 201),
    ("erin", "import", "b", 403),
    ("root", "import", "b", 201),
]


@pytest.mark.parametrize(("user", "action", "target", "status"), DASHBOARD_CASES)
def test_dashboard_permissions(
    world: World, user: str, action: str, target: str, status: int
) -> None:
    client = client_for(world, user)
    team = world.team_a if target == "a" else world.team_b
    body = {"team": team.pk, "title": "New", "panels": [PANEL]}
    if action == "retrieve":
        response = client.get(_url(world, target))
    elif action == "update":
        response = client.patch(_url(world, target), {"title": "Renamed"}, format="json")
    elif action == "delete":
        response = client.delete(_url(world, target))
    elif action == "run":
        response = client.post(_url(world, target) + "query/", {"panel": 0}, format="json")
    elif action == "variables":
        response = client.get(_url(world, target) + "variable-values/")
    elif action == "export":
        response = client.get(_url(world, target) + "export/")
    elif action == "import":
        document = {"crisp_dashboard": 1, "title": "Imported", "panels": [PANEL]}
        response = client.post(
            "/api/dashboards/import/", {"team": team.pk, "dashboard": document}, format="json"
        )
    else:
        response = client.post("/api/dashboards/", body, format="json")
    assert response.status_code == status, response.content


def test_dashboard_list_shows_only_own_teams(world: World) -> None:
    titles = [d["title"] for d in client_for(world, "alice").get("/api/dashboards/").json()]
    assert titles == ["A board"]


def test_editor_cannot_move_a_dashboard_to_another_team(world: World) -> None:
    response = client_for(world, "erin").patch(
        _url(world, "a"), {"team": world.team_b.pk}, format="json"
    )
    assert response.status_code == 403


def test_dashboard_round_trip_keeps_relative_times(world: World) -> None:
    client = client_for(world, "erin")
    created = client.post(
        "/api/dashboards/",
        {"team": world.team_a.pk, "title": "T", "panels": [{**PANEL, "grid": {"w": 6}}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    panel = client.get(f"/api/dashboards/{created.json()['id']}/").json()["panels"][0]
    assert panel["query"]["start"] == "-1h"
    assert panel["grid"] == {"x": 0, "y": 0, "w": 6, "h": 8}


@pytest.mark.parametrize(
    "panel",
    [
        {"title": "x"},
        {"title": "x", "query": {**PANEL["query"], "aggregate": "median!"}},
        {"title": "x", "query": {**PANEL["query"], "start": "yesterday"}},
        {"title": "x", "query": PANEL["query"], "grid": {"w": 99}},
        {"title": "x", "query": PANEL["query"], "type": "pie"},
    ],
)
def test_invalid_panels_are_refused(world: World, panel: dict[str, Any]) -> None:
    response = client_for(world, "erin").post(
        "/api/dashboards/",
        {"team": world.team_a.pk, "title": "T", "panels": [panel]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid request"
