"""Pages: login required, templates render, session auth drives the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crisp.console.explore.backend import MetricsBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_logged_in(backend: MetricsBackend) -> Client:
    User.objects.create_superuser("root", password="pw")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/login/", {"username": "root", "password": "pw", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("url", ["/explore/", "/dashboards/", "/"])
def test_pages_need_login(backend: MetricsBackend, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"] or response["Location"] == "/explore/"


def test_login_page_renders(backend: MetricsBackend) -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_wrong_password_stays_on_login(backend: MetricsBackend) -> None:
    User.objects.create_user("sam", password="pw")
    response = Client().post("/login/", {"username": "sam", "password": "no"})
    assert response.status_code == 200
    assert b"Wrong user name or password" in response.content


@pytest.mark.parametrize(
    ("url", "marker"),
    [("/explore/", b"console/explore.js"), ("/dashboards/", b"No dashboards yet")],
)
def test_pages_render_for_a_user(client_logged_in: Client, url: str, marker: bytes) -> None:
    response = client_logged_in.get(url)
    assert response.status_code == 200
    assert marker in response.content
    assert b"https://" not in response.content  # nothing from a CDN


def test_session_auth_reaches_the_api_with_csrf(client_logged_in: Client) -> None:
    assert client_logged_in.get("/api/meta/databases/").json() == ["metrics", "secret"]
    body = {"database": "metrics", "measurement": "api_latency", "field": "duration_ms"}
    refused = client_logged_in.post("/api/query/", body, content_type="application/json")
    assert refused.status_code == 403  # no CSRF token
    accepted = client_logged_in.post(
        "/api/query/",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": client_logged_in.cookies["csrftoken"].value},
    )
    assert accepted.status_code == 200


def test_api_docs_are_served_locally(client_logged_in: Client) -> None:
    response = client_logged_in.get("/api/docs/")
    assert response.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in response.content
    assert b"cdn" not in response.content.lower()


def test_logout(client_logged_in: Client) -> None:
    token = client_logged_in.cookies["csrftoken"].value
    client_logged_in.post("/logout/", {"csrfmiddlewaretoken": token})
    assert client_logged_in.get("/explore/").status_code == 302


def test_admin_lists_console_models(client_logged_in: Client) -> None:
    response = client_logged_in.get("/admin/")
    for model in (
        b"Teams",
        b"Memberships",
        b"API tokens",
        b"Dashboards",
        b"Team databases",
        b"Storage databases",
        b"Storage retention policies",
        b"Write tokens",
    ):
        assert model in response.content


def test_migrations_match_the_models(backend: MetricsBackend) -> None:
    from django.core.management import call_command

    # A model change without its migration would fail `crisp manage migrate` users.
    call_command("makemigrations", "accounts", "dashboards", "--check", "--dry-run", verbosity=0)
