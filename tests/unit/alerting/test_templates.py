import pytest

from crisp.alerting.templates import TemplateError, format_value, parse_template, render_template

CONTEXT = {"labels": {"service": "api", "host-name": "h1"}, "value": 95.5, "rule": "p95"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ labels.service }} at {{ value }}", "api at 95.5"),
        ("{{labels.service}}", "api"),
        ("{{ labels.host-name }}", "h1"),
        ("rule {{ rule }}!", "rule p95!"),
        ("{{ labels.missing }}|{{ nothing.at.all }}", "|"),
        ("{{ labels }}", "{'service': 'api', 'host-name': 'h1'}"),
        ("no placeholders", "no placeholders"),
        ("", ""),
    ],
)
def test_render(source: str, expected: str) -> None:
    assert render_template(source, CONTEXT) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ value + 1 }}",
        "{{ __import__('os') }}",
        "{{ labels['service'] }}",
        "{{ }}",
        "{{ value",
        "value }}",
        "{{ labels.service | upper }}",
    ],
)
def test_anything_but_a_lookup_is_rejected(source: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(source)


def test_values_are_not_evaluated() -> None:
    assert render_template("{{ value }}", {"value": "{{ labels.x }}"}) == "{{ labels.x }}"


@pytest.mark.parametrize(
    ("value", "text"),
    [(80.0, "80"), (0.1, "0.1"), (1e20, "1e+20"), (None, ""), (True, "true"), (3, "3")],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text
