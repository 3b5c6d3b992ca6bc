"""Write tokens for the collector: managed by team admins in the console API, written
to CRISP_WRITE_TOKENS_FILE, and accepted by the collector's own reader of that file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crisp.collector.write_tokens import WriteTokensFile
from crisp.console.accounts.actions import do_add_member, do_create_api_token
from crisp.console.accounts.models import Role, WriteToken
from crisp.console.explore.backend import MetricsBackend
from tests.unit.console.fixtures import World, build_world, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens_path(settings: Any, backend: MetricsBackend, tmp_path: Path) -> Path:
    path = tmp_path / "collector" / "write-tokens.json"
    settings.CRISP.write_tokens_file = path
    return path


@pytest.fixture
def world(tokens_path: Path) -> World:
    world = build_world()
    ada = User.objects.create_user("ada", password="pw")
    do_add_member(world.team_a, ada, Role.ADMIN)
    world.users["ada"] = ada
    world.tokens["ada"] = do_create_api_token(ada)[1]
    return world


def create(world: World, user: str, **changes: Any) -> Any:
    body = {"team": world.team_a.pk, "name": "ingest", "databases": ["metrics"], **changes}
    return client_for(world, user).post("/api/write-tokens/", body, format="json")


def test_team_admin_creates_a_token_the_collector_accepts(world: World, tokens_path: Path) -> None:
    response = create(world, "ada")
    assert response.status_code == 201, response.content
    body = response.json()
    token = body["token"]
    assert token.startswith(body["prefix"])
    written = json.loads(tokens_path.read_text())
    assert written["tokens"][0]["name"] == "team-a/ingest"
    assert token not in tokens_path.read_text()  # only its hash
    known = WriteTokensFile(tokens_path).lookup(token)
    assert known is not None
    assert known.allows("metrics")
    assert not known.allows("secret")
    # Listed without the clear token, to the team's members.
    listed = client_for(world, "alice").get("/api/write-tokens/").json()
    assert [(t["name"], t["databases"]) for t in listed] == [("ingest", ["metrics"])]
    assert "token" not in listed[0]
    assert client_for(world, "bob").get("/api/write-tokens/").json() == []


def test_revoking_removes_it_from_the_file(world: World, tokens_path: Path) -> None:
    created = create(world, "ada").json()
    assert (
        client_for(world, "erin").delete(f"/api/write-tokens/{created['id']}/").status_code == 403
    )
    assert client_for(world, "ada").delete(f"/api/write-tokens/{created['id']}/").status_code == 204
    assert WriteTokensFile(tokens_path).lookup(created["token"]) is None
    assert json.loads(tokens_path.read_text()) == {"tokens": []}


@pytest.mark.parametrize(
    ("user", "changes", "status", "message"),
    [
        ("erin", {}, 403, "only admins"),
        ("alice", {}, 403, "only admins"),
        ("bob", {}, 403, "only admins"),
        ("ada", {"databases": ["secret"]}, 400, "not granted database 'secret'"),
        ("ada", {"databases": ["metr*"]}, 400, "not granted"),
        ("ada", {"databases": []}, 400, "databases"),
        ("root", {"databases": ["metrics", "pay_*"]}, 201, ""),
    ],
)
def test_who_may_create_what(
    world: World, user: str, changes: dict[str, Any], status: int, message: str
) -> None:
    response = create(world, user, **changes)
    assert response.status_code == status, response.content
    if message:
        assert message in json.dumps(response.json())


def test_names_are_unique_per_team(world: World) -> None:
    assert create(world, "ada").status_code == 201
    again = create(world, "ada")
    assert again.status_code == 400
    assert "team, name must make a unique set" in json.dumps(again.json())


def test_without_the_file_setting_tokens_are_refused(world: World, settings: Any) -> None:
    settings.CRISP.write_tokens_file = None
    response = create(world, "ada")
    assert response.status_code == 409
    assert "CRISP_WRITE_TOKENS_FILE" in response.json()["error"]
    assert not WriteToken.objects.exists()


def test_admin_add_shows_the_token_once_and_writes_the_file(
    world: World, tokens_path: Path
) -> None:
    client = Client()
    client.force_login(world.users["root"])
    response = client.post(
        "/admin/accounts/writetoken/add/",
        {"team": world.team_a.pk, "name": "agents", "databases": '["metrics"]'},
        follow=True,
    )
    assert response.status_code == 200
    match = re.search(r"not shown again\): (crisp_\S+)<", response.content.decode())
    assert match, response.content.decode()[-3000:]
    assert WriteTokensFile(tokens_path).lookup(match[1]) is not None
