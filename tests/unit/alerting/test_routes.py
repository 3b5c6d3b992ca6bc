import pytest

from crisp.alerting.routes import (
    DEFAULT_GROUP_WAIT_NS,
    Route,
    RouteError,
    destinations,
    dump_route,
    parse_route,
)
from crisp.alerting.rules import AlertFileError, parse_alert_document
from crisp.alerting.silences import Matcher
from crisp.query.influxql.durations import MINUTE, SECOND

CRITICAL = Route((Matcher("severity", "=", "critical"),), notify=("phone", "sms"))


def names(labels: dict[str, str], notify: tuple[str, ...], routes: list[Route]) -> list[str]:
    return [d.channel for d in destinations(labels, notify, routes)]


def test_the_seed_routing_critical_goes_to_phone_and_sms() -> None:
    assert names({"severity": "critical"}, ("slack",), [CRITICAL]) == ["phone", "sms"]
    assert names({"severity": "warning"}, ("slack",), [CRITICAL]) == ["slack"]


def test_first_match_wins_unless_it_continues() -> None:
    everyone = Route((), notify=("audit",))
    assert names({"severity": "critical"}, (), [CRITICAL, everyone]) == ["phone", "sms"]
    cont = Route(CRITICAL.matchers, notify=("phone",), continue_matching=True)
    assert names({"severity": "critical"}, (), [cont, everyone]) == ["phone", "audit"]


def test_a_route_without_channels_uses_the_rules_own() -> None:
    grouping = Route((Matcher("team", "=", "db"),), group_by=("service",))
    (dest,) = destinations({"team": "db", "service": "pg"}, ("slack",), [grouping])
    assert dest.channel == "slack"
    assert dest.group_labels({"team": "db", "service": "pg", "x": "y"}) == {"service": "pg"}


def test_parse_and_dump_round_trip() -> None:
    route = parse_route(
        {"match": ["service=~api|web"], "notify": "phone+sms", "group_by": "service",
         "group_wait": "0s", "group_interval": "10s", "repeat_interval": "1h", "continue": True}
    )  # fmt: skip
    assert route.notify == ("phone", "sms")
    assert route.timing.group_wait_ns == 0
    assert route.timing.group_interval_ns == 10 * SECOND
    assert route.matches({"service": "web"})
    assert not route.matches({"service": "db"})
    assert parse_route(dump_route(route)) == route
    assert parse_route({}).timing.group_wait_ns == DEFAULT_GROUP_WAIT_NS


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"match": 3}, "match"),
        ({"match": ["nope"]}, "match"),
        ({"group_interval": "0s"}, "group_interval"),
        ({"group_wait": "soon"}, "group_wait"),
        ({"continue": "yes"}, "continue"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_routes_name_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(RouteError) as info:
        parse_route(raw)
    assert info.value.field == field


def test_routes_in_a_file_are_checked_against_its_channels() -> None:
    doc = {
        "channels": [{"name": "hook", "type": "webhook", "url": "http://x"}],
        "routes": [{"notify": "pager", "group_interval": "5m"}, {"group_wait": "x"}],
    }
    with pytest.raises(AlertFileError) as info:
        parse_alert_document(doc)
    assert info.value.errors == (
        "routes[0]: notify: unknown channel 'pager'",
        "routes[1]: group_wait: expected a duration such as 30s or 5m",
    )
    ok = parse_alert_document({**doc, "routes": [{"notify": "hook", "group_interval": "5m"}]})
    assert ok.routes[0].timing.group_interval_ns == 5 * MINUTE


def at(text: str) -> int:
    """Epoch ns of an ISO time; 2026-01-03 is a Saturday, 2026-01-05 a Monday."""
    from datetime import datetime

    return int(datetime.fromisoformat(text).timestamp()) * SECOND


def test_mute_windows_by_weekday_and_time_range_past_midnight() -> None:
    route = parse_route(
        {"mute": [{"weekdays": ["sat", "sun"]},
                  {"weekdays": "mon-fri", "times": ["22:00-07:00"]}]}
    )  # fmt: skip
    assert route.muted(at("2026-01-03T12:00:00+00:00"))  # Saturday noon
    assert not route.muted(at("2026-01-05T12:00:00+00:00"))  # Monday noon
    assert route.muted(at("2026-01-05T23:30:00+00:00"))  # Monday night
    assert route.muted(at("2026-01-06T06:59:00+00:00"))  # Tuesday early: Monday's night
    assert not route.muted(at("2026-01-06T07:00:00+00:00"))
    assert parse_route(dump_route(route)) == route


def test_mute_windows_read_times_in_their_time_zone() -> None:
    route = parse_route({"mute": [{"times": "09:00-17:00", "timezone": "Asia/Tokyo"}]})
    assert route.muted(at("2026-01-05T01:00:00+00:00"))  # 10:00 in Tokyo
    assert not route.muted(at("2026-01-05T12:00:00+00:00"))  # 21:00 in Tokyo


@pytest.mark.parametrize(
    ("mute", "field"),
    [
        ([{"weekdays": ["someday"]}], "mute[0].weekdays"),
        ([{"times": ["9-5"]}], "mute[0].times"),
        ([{"times": ["10:00-10:00"]}], "mute[0].times"),
        ([{"timezone": "Mars/Olympus"}], "mute[0].timezone"),
        ([{"colour": "red"}], "mute[0]"),
        ({"weekdays": "sat"}, "mute"),
    ],
)
def test_invalid_mute_windows_name_the_field(mute: object, field: str) -> None:
    with pytest.raises(RouteError) as info:
        parse_route({"mute": mute})
    assert info.value.field == field
