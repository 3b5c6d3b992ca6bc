from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crisp.console.alerts.timeline import WIDTH, build_timeline

START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(hours=10)


@dataclass
class T:
    tags: dict[str, str]
    from_state: str
    to_state: str
    at: datetime


def test_segments_cover_the_window_in_state_order() -> None:
    rows = build_timeline(
        [
            T({"service": "api"}, "pending", "firing", START + timedelta(hours=2)),
            T({"service": "api"}, "firing", "resolved", START + timedelta(hours=5)),
            T({}, "normal", "nodata", START + timedelta(hours=9)),
        ],
        START,
        END,
    )
    assert [r.label for r in rows] == ["(whole rule)", "service=api"]
    api = rows[1]
    assert [(s.state, s.x, s.width) for s in api.segments] == [
        ("pending", 0.0, WIDTH * 0.2),
        ("firing", WIDTH * 0.2, WIDTH * 0.3),
        ("resolved", WIDTH * 0.5, WIDTH * 0.5),
    ]
    assert api.segments[1].colour == "#d63232"
    assert rows[0].segments[-1].state == "nodata"
