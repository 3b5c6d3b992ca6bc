import pytest

from crisp.alerting.silences import Matcher, Silence, is_silenced, parse_matcher, silencing

T0 = 1_000
LABELS = {"alertname": "disk_full", "severity": "critical", "service": "api"}


def window(*matchers: Matcher, start: int = T0, end: int = T0 + 100) -> Silence:
    return Silence(matchers, start, end, comment="maintenance", created_by="bob")


@pytest.mark.parametrize(
    ("matcher", "matches"),
    [
        (Matcher("severity", "=", "critical"), True),
        (Matcher("severity", "=", "crit"), False),
        (Matcher("severity", "!=", "warning"), True),
        (Matcher("severity", "=~", "crit.*"), True),
        (Matcher("severity", "=~", "crit"), False),  # anchored both ends
        (Matcher("service", "=~", "api|web"), True),
        (Matcher("service", "!~", "api|web"), False),
        (Matcher("env", "=", ""), True),  # a missing label reads as empty
        (Matcher("env", "!=", "prod"), True),
        (Matcher("env", "=~", ".+"), False),
    ],
)
def test_matchers(matcher: Matcher, matches: bool) -> None:
    assert matcher.matches(LABELS) is matches


def test_all_matchers_must_match() -> None:
    s = window(Matcher("service", "=", "api"), Matcher("severity", "=", "warning"))
    assert not is_silenced(LABELS, [s], T0)
    assert is_silenced(LABELS, [s, window(Matcher("service", "=", "api"))], T0)


def test_time_window_is_half_open() -> None:
    s = window(Matcher("alertname", "=", "disk_full"))
    assert not is_silenced(LABELS, [s], T0 - 1)
    assert is_silenced(LABELS, [s], T0)
    assert is_silenced(LABELS, [s], T0 + 99)
    assert not is_silenced(LABELS, [s], T0 + 100)
    assert silencing(LABELS, [s], T0) == [s]
    assert not is_silenced(LABELS, [], T0)


def test_parse_matcher() -> None:
    assert parse_matcher("severity=critical") == Matcher("severity", "=", "critical")
    assert parse_matcher('service =~ "api|web"') == Matcher("service", "=~", "api|web")
    assert parse_matcher("env!~'prod.*'") == Matcher("env", "!~", "prod.*")
    assert parse_matcher("env!=") == Matcher("env", "!=", "")
    with pytest.raises(ValueError, match="invalid matcher"):
        parse_matcher("=x")


def test_invalid_silences_are_rejected() -> None:
    with pytest.raises(ValueError, match="operator"):
        Matcher("a", "==", "b")
    with pytest.raises(ValueError, match="regular expression"):
        Matcher("a", "=~", "(")
    with pytest.raises(ValueError, match="matcher"):
        Silence((), 0, 1)
    with pytest.raises(ValueError, match="end after"):
        window(Matcher("a", "=", "b"), start=5, end=5)
