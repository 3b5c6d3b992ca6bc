"""API tokens: stored hashed, shown once, accepted as ``Authorization: Token``."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from crisp.console.accounts.models import APIToken
from crisp.console.accounts.tokens import hash_token
from crisp.console.explore.backend import MetricsBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(backend: MetricsBackend) -> User:
    return User.objects.create_user("sam", password="pw")


def create_token(username: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", username, stdout=out)
    return out.getvalue().strip()


def get(token: str | None, header: str | None = None) -> int:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return int(client.get("/api/tokens/").status_code)


def test_command_prints_a_token_that_the_api_accepts(user: User) -> None:
    token = create_token("sam")
    assert token.startswith("crisp_")
    assert get(token) == 200
    record = APIToken.objects.get(user=user)
    assert record.key_hash == hash_token(token)
    assert token not in {record.prefix, record.key_hash, record.name}
    assert record.last_used is not None


def test_command_refuses_an_unknown_user(backend: MetricsBackend) -> None:
    with pytest.raises(CommandError, match="no user named"):
        create_token("ghost")


@pytest.mark.parametrize(
    "header", ["Token nope", "Token", "Token a b", "Bearer x", "Basic c2FtOnB3"]
)
def test_bad_credentials_are_401(user: User, header: str) -> None:
    create_token("sam")
    assert get(None, header) in (401, 403)
    assert get(None, header) != 200


def test_expired_and_inactive(user: User) -> None:
    token = create_token("sam")
    APIToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert get(token) == 401
    APIToken.objects.update(expires=None)
    user.is_active = False
    user.save()
    assert get(token) == 401


def test_token_api_shows_a_new_token_once(user: User) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_token('sam')}")
    created = client.post("/api/tokens/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    token = created.json()["token"]
    assert get(token) == 200
    listed = client.get("/api/tokens/").json()
    assert {t["name"] for t in listed} == {"", "ci"}
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/tokens/{created.json()['id']}/").status_code == 204
    assert get(token) == 401


def test_users_cannot_see_each_others_tokens(user: User) -> None:
    create_token("sam")
    User.objects.create_user("max", password="pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_token('max')}")
    assert len(client.get("/api/tokens/").json()) == 1
    sams = APIToken.objects.get(user=user)
    assert client.delete(f"/api/tokens/{sams.pk}/").status_code == 404
