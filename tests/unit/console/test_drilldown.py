"""Drill-down: the next dimension after one series, and the query answer naming it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from crisp.console.explore.drilldown import next_group_by
from crisp.console.explore.querymodel import ExploreQuery, TagFilter
from tests.unit.console.fixtures import World, client_for

ORDER = ("service", "endpoint", "host")
TAGS = ("endpoint", "host", "method", "service", "status")


def query(group_by: tuple[str, ...], filters: tuple[TagFilter, ...] = ()) -> ExploreQuery:
    return ExploreQuery("db", "api_latency", "duration_ms", group_by=group_by, filters=filters)


@pytest.mark.parametrize(
    ("group_by", "filters", "available", "expected"),
    [
        (("service",), (), TAGS, ("endpoint",)),
        (("endpoint",), (TagFilter("service", "=", "a"),), TAGS, ("host",)),
        (("host",), (TagFilter("service", "=", "a"), TagFilter("endpoint", "=", "/")), TAGS, ()),
        # A grouping outside the order starts it from the top.
        (("status",), (), TAGS, ("service",)),
        # A regex or != filter does not pin a tag to one value.
        (("endpoint",), (TagFilter("service", "=~", "^a"),), TAGS, ("service",)),
        # Tags the measurement lacks are skipped.
        (("service",), (), ("service", "host"), ("host",)),
        # Not grouped: there is no series to pick.
        ((), (), TAGS, ()),
    ],
)
def test_next_group_by(
    group_by: tuple[str, ...],
    filters: tuple[TagFilter, ...],
    available: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    assert next_group_by(query(group_by, filters), available, ORDER) == expected


@pytest.fixture
def alice(world: World) -> APIClient:
    return client_for(world, "alice")


def post(client: APIClient, **body: Any) -> Any:
    base = {"database": "metrics", "measurement": "api_latency", "field": "duration_ms"}
    response = client.post("/api/query/", {**base, "start": "-10m", **body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_answer_names_the_next_dimension(alice: APIClient) -> None:
    # The fixture's api_latency has service and endpoint tags, no host.
    assert post(alice, group_by=["service"])["next_group_by"] == ["endpoint"]
    drilled = post(
        alice,
        group_by=["endpoint"],
        filters=[{"tag": "service", "op": "=", "value": "checkout"}],
    )
    assert sorted(s["tags"]["endpoint"] for s in drilled["series"]) == ["/cart", "/pay"]
    assert drilled["next_group_by"] == []
    assert post(alice)["next_group_by"] == []


@pytest.mark.django_db
def test_explore_page_has_breadcrumbs_and_csv_link(world: World) -> None:
    client = Client()
    client.force_login(world.users["alice"])
    page = client.get("/explore/").content
    assert b'id="breadcrumbs"' in page
    assert b'id="csv"' in page
    assert b"console/common.js" in page
