"""People and teams of the permission tests.

team-a is granted "metrics", team-b "secret". alice views A, erin edits A, bob edits
B, nora is in no team, root is a superuser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from crisp.console.accounts.actions import do_add_member, do_create_api_token, do_grant_database
from crisp.console.accounts.models import Role, Team
from crisp.console.dashboards.models import Dashboard

PANEL: dict[str, Any] = {
    "title": "p95 checkout",
    "query": {
        "database": "metrics",
        "measurement": "api_latency",
        "field": "duration_ms",
        "aggregate": "p95",
        "start": "-1h",
    },
}


@dataclass
class World:
    team_a: Team
    team_b: Team
    users: dict[str, User]
    tokens: dict[str, str]
    dashboard_a: Dashboard
    dashboard_b: Dashboard


def build_world() -> World:
    team_a = Team.objects.create(name="Team A", slug="team-a")
    team_b = Team.objects.create(name="Team B", slug="team-b")
    do_grant_database(team_a, "metrics")
    do_grant_database(team_b, "secret")
    users = {
        name: User.objects.create_user(name, password="pw")
        for name in ("alice", "erin", "bob", "nora")
    }
    users["root"] = User.objects.create_superuser("root", password="pw")
    do_add_member(team_a, users["alice"], Role.VIEWER)
    do_add_member(team_a, users["erin"], Role.EDITOR)
    do_add_member(team_b, users["bob"], Role.EDITOR)
    tokens = {name: do_create_api_token(user)[1] for name, user in users.items()}
    dashboard_a = Dashboard.objects.create(team=team_a, title="A board", panels=[PANEL])
    dashboard_b = Dashboard.objects.create(team=team_b, title="B board", panels=[])
    return World(team_a, team_b, users, tokens, dashboard_a, dashboard_b)


def client_for(world: World, user: str | None) -> APIClient:
    """An API client authenticated by ``user``'s token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[user]}")
    return client
