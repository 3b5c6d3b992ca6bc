"""Databases and retention policies from the admin: made and changed on storage
(through the metrics backend), not only stored locally."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crisp.console.accounts import storage
from crisp.console.accounts.models import StorageDatabase, StorageRetentionPolicy
from crisp.console.explore.backend import InProcessBackend
from crisp.storage.api import RetentionPolicy
from crisp.storage.engine import Engine, EngineOptions
from tests.unit.console.conftest import use_backend

pytestmark = pytest.mark.django_db
DAY = 86_400 * 10**9
INLINE = {
    "retention_policies-TOTAL_FORMS": "0",
    "retention_policies-INITIAL_FORMS": "0",
    "retention_policies-MIN_NUM_FORMS": "0",
    "retention_policies-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def engine(settings: Any) -> Iterator[Engine]:
    with Engine(Path(tempfile.mkdtemp()), EngineOptions(background=False)) as real:
        use_backend(settings, InProcessBackend(real, timeout=10))
        yield real


@pytest.fixture
def admin_client(engine: Engine) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


def policies(engine: Engine, database: str) -> dict[str, RetentionPolicy]:
    return {p.name: p for p in engine.retention_policies(database)}


def test_adding_a_database_creates_it_on_storage(admin_client: Client, engine: Engine) -> None:
    name = 'odd "name"; DROP DATABASE x'
    response = admin_client.post("/admin/accounts/storagedatabase/add/", {"name": name, **INLINE})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert name in engine.databases()
    assert StorageDatabase.objects.filter(name=name).exists()


def test_adding_a_policy_creates_then_changes_it_on_storage(
    admin_client: Client, engine: Engine
) -> None:
    engine.create_database("shop")
    admin_client.get("/admin/accounts/storagedatabase/")  # the list reads storage back
    database = StorageDatabase.objects.get(name="shop")
    assert list(database.retention_policies.values_list("name", "duration")) == [("autogen", "INF")]
    added = admin_client.post(
        "/admin/accounts/storageretentionpolicy/add/",
        {
            "database": database.pk,
            "name": "month",
            "duration": "30d",
            "shard_duration": "1d",
            "replication": "1",
            "default": "on",
        },
    )
    assert added.status_code == 302, added.content.decode()[-2000:]
    month = policies(engine, "shop")["month"]
    assert (month.duration_ns, month.shard_group_duration_ns, month.default) == (
        30 * DAY,
        DAY,
        True,
    )
    assert not policies(engine, "shop")["autogen"].default
    local = StorageRetentionPolicy.objects.get(database=database, name="month")
    changed = admin_client.post(
        f"/admin/accounts/storageretentionpolicy/{local.pk}/change/",
        {"duration": "INF", "shard_duration": "", "replication": "1"},
    )
    assert changed.status_code == 302, changed.content.decode()[-2000:]
    assert policies(engine, "shop")["month"].duration_ns == 0
    assert StorageRetentionPolicy.objects.get(pk=local.pk).duration == "INF"


@pytest.mark.parametrize(
    ("duration", "shard", "message"),
    [("soon", "", "invalid duration"), ("30d", "INF", "invalid duration"), ("0s", "", "positive")],
)
def test_bad_durations_are_form_errors(
    admin_client: Client, engine: Engine, duration: str, shard: str, message: str
) -> None:
    engine.create_database("shop")
    database = StorageDatabase.objects.create(name="shop")
    response = admin_client.post(
        "/admin/accounts/storageretentionpolicy/add/",
        {"database": database.pk, "name": "p", "duration": duration, "shard_duration": shard},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "p" not in policies(engine, "shop")


def test_storage_refusal_shows_on_the_form(admin_client: Client, engine: Engine) -> None:
    # The database exists here but not on storage: storage's message, nothing saved.
    database = StorageDatabase.objects.create(name="ghost")
    response = admin_client.post(
        "/admin/accounts/storageretentionpolicy/add/",
        {"database": database.pk, "name": "p", "duration": "1d", "replication": "1"},
    )
    assert response.status_code == 200
    assert "storage refused" in response.content.decode()
    assert not StorageRetentionPolicy.objects.filter(name="p").exists()


def test_deleting_drops_on_storage(admin_client: Client, engine: Engine) -> None:
    engine.create_database("old")
    engine.create_retention_policy("old", RetentionPolicy("week", 7 * DAY, DAY))
    admin_client.get("/admin/accounts/storagedatabase/")
    week = StorageRetentionPolicy.objects.get(name="week")
    response = admin_client.post(
        f"/admin/accounts/storageretentionpolicy/{week.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert "week" not in policies(engine, "old")
    database = StorageDatabase.objects.get(name="old")
    response = admin_client.post(
        f"/admin/accounts/storagedatabase/{database.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert "old" not in engine.databases()
    assert not StorageDatabase.objects.filter(name="old").exists()


def test_sync_mirrors_storage(engine: Engine) -> None:
    engine.create_database("a")
    StorageDatabase.objects.create(name="gone")
    assert storage.do_sync_from_storage() == (2, 1)  # "a" and its autogen; "gone" removed
    assert list(StorageDatabase.objects.values_list("name", flat=True)) == ["a"]
    assert storage.do_sync_from_storage() == (0, 0)


def test_admins_only(engine: Engine) -> None:
    client = Client()
    client.force_login(User.objects.create_user("sam", password="pw", is_staff=True))
    assert client.get("/admin/accounts/storagedatabase/").status_code == 403
