"""The NumPy path for same-shape bodies must give exactly what the line-by-line path
gives, or decline (``None``) and leave the body to the other paths."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisp.core.batch import ParseResult
from crisp.protocols.line_protocol import DEFAULT_LIMITS, LineProtocolLimits, parse_line_protocol
from crisp.protocols.line_protocol.known_series import KnownSeries
from crisp.protocols.line_protocol.single_line import LineParser
from crisp.protocols.line_protocol.uniform_lines import parse_uniform

from .strategies import (
    INT64_MAX,
    INT64_MIN,
    PRECISIONS,
    UINT64_MAX,
    edited,
    mutated_bodies,
    names,
    plain_names,
    valid_bodies,
    value_texts,
)
from .test_vectorised import assert_same, sequential

NOW = 1_700_000_000_000_000_000

# Values at the edges of what the digit reader and the casts accept ...
_EDGE_VALUES = {
    "integer": [f"{INT64_MAX}i", f"{INT64_MIN + 1}i", f"-{INT64_MAX}i", "-0i", "007i", "0i",
                "1234567890123456789i"],
    "unsigned": [f"{UINT64_MAX}u", "0u", "00u", "10000000000000000000u", f"{INT64_MAX + 1}u"],
    "float": ["1.", ".5", "-.25", "1e3", "1E+2", "-0", "0.1", "123456789012345678901"],
    "boolean": ["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"],
}
# ... and just past them: the body must be declined, or parsed as the reference does.
_PAST_EDGE_VALUES = {
    "integer": [f"{INT64_MAX + 1}i", f"{INT64_MIN}i", "12345678901234567890i", "i", "-i"],
    "unsigned": [f"{UINT64_MAX + 1}u", "123456789012345678901u", "-1u", "u"],
    "float": ["1e999", "-1e999", "1e", ".", "+1", "inf", "nan", "1.2.3"],
    "boolean": ["tru", "yes", "FALSe"],
}
_NUMERIC_TYPES = ("float", "integer", "unsigned", "boolean")


def uniform(body: bytes, precision: str = "ns", limits: LineProtocolLimits = DEFAULT_LIMITS) -> (
    ParseResult | None
):
    return parse_uniform(body, LineParser(PRECISIONS[precision], limits), NOW)


@st.composite
def field_values(draw: st.DrawFn, field_type: str) -> str:
    choice = draw(st.integers(0, 199))
    if choice == 0:
        return draw(st.sampled_from(_PAST_EDGE_VALUES[field_type]))
    if choice <= 10:
        return draw(st.sampled_from(_EDGE_VALUES[field_type]))
    return draw(value_texts(field_type))


# Any character but the separators and escapes (those send a body elsewhere anyway):
# control characters, other whitespace, non-ASCII.
unusual_names = names.filter(lambda name: not any(c in name for c in ' ,="\\#'))


@st.composite
def uniform_bodies(
    draw: st.DrawFn, name_strategy: st.SearchStrategy[str] = plain_names
) -> tuple[bytes, str]:
    """One measurement, the same field keys in the same order on every line."""
    precision = draw(st.sampled_from(sorted(PRECISIONS)))
    multiplier = PRECISIONS[precision]
    measurement = draw(name_strategy)
    keys = draw(st.lists(name_strategy.filter(lambda name: name != "time"), min_size=1,
                         max_size=6, unique=True))
    split = draw(st.integers(0, len(keys) - 1))
    tag_keys, field_keys = keys[:split], keys[split:]
    types = {key: draw(st.sampled_from(_NUMERIC_TYPES)) for key in field_keys}
    with_time = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(1, 30))):
        tags = draw(st.lists(st.sampled_from(tag_keys), unique=True)) if tag_keys else []
        key = measurement + "".join(f",{tag}={draw(name_strategy)}" for tag in sorted(tags))
        fields = ",".join(f"{name}={draw(field_values(types[name]))}" for name in field_keys)
        line = f"{key} {fields}"
        if with_time:
            bound = INT64_MAX // multiplier
            line += f" {draw(st.integers(-bound, bound + (draw(st.integers(0, 199)) == 0)))}"
        lines.append(line)
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "", "", "", "# a comment", " "])))
    return "\n".join(lines).encode("utf-8"), precision


@st.composite
def damaged_uniform_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    body, precision = draw(uniform_bodies())
    lines = body.decode("utf-8").split("\n")
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    position = draw(st.integers(0, len(line)))
    char = draw(st.sampled_from([",", "=", " ", "i", "u", ".", "-", "e", "t", "x", "#", "é"]))
    action = draw(st.sampled_from(["insert", "delete", "replace"]))
    lines[index] = edited(line, position, char, action)
    return "\n".join(lines).encode("utf-8"), precision


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        uniform_bodies(),
        uniform_bodies(unusual_names),
        damaged_uniform_bodies(),
        valid_bodies(plain=True, max_lines=20),
        mutated_bodies(plain=True, max_lines=20),
    )
)
def test_uniform_equals_sequential(case: tuple[bytes, str]) -> None:
    body, precision = case
    result = uniform(body, precision)
    if result is not None:
        assert_same(result, sequential(body.decode("utf-8"), precision))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uniform_bodies(), st.integers(1, 4), st.integers(1, 3), st.integers(20, 200))
def test_limits_are_kept(
    case: tuple[bytes, str], max_tags: int, max_fields: int, max_line_bytes: int
) -> None:
    body, precision = case
    limits = LineProtocolLimits(max_line_bytes=max_line_bytes, max_tags=max_tags,
                                max_fields=max_fields)
    result = uniform(body, precision, limits)
    if result is not None:
        text = body.decode("utf-8")
        parser = LineParser(PRECISIONS[precision], limits)
        from crisp.protocols.line_protocol.parser import parse_sequentially

        expected = parse_sequentially(enumerate(text.split("\n"), start=1), parser, NOW, [])
        assert_same(result, expected)
        assert not expected.errors


def _cpu_lines(count: int, value: str = "{i}i", time: bool = True) -> list[str]:
    lines = []
    for i in range(count):
        line = (
            f"cpu,hostname=host_{i % 50},region=eu-{i % 3} usage_user={value.format(i=i)},"
            f"usage_system={i % 7}i,usage_idle=-{i}i"
        )
        lines.append(line + (f" {1_451_606_400_000_000_000 + i}" if time else ""))
    return lines


def test_generated_traffic_takes_this_path_and_matches() -> None:
    for value, time in (("{i}i", True), ("{i}.25", True), ("{i}u", False), ("t", True)):
        body = "\n".join(_cpu_lines(300, value, time)).encode()
        known = KnownSeries()
        first = parse_uniform(body, LineParser(1, DEFAULT_LIMITS, known_series=known), NOW)
        assert first is not None, value
        assert_same(first, sequential(body.decode()))
        assert first.batch.num_points == 300
        # Again, every series key now stored: the rows come straight from the store.
        assert known.stored_columns(pa.array(["cpu,hostname=host_0,region=eu-0"]), 256)
        again = parse_uniform(body, LineParser(1, DEFAULT_LIMITS, known_series=known), NOW)
        assert again is not None
        assert_same(again, first)


# One line added to a same-shape body, and why the body is no longer one.
_ODD_LINES = {
    "type conflict between lines": "cpu,hostname=a usage_user=1.5,usage_system=1i,usage_idle=1i 1",
    "field order differs": "cpu,hostname=a usage_system=1i,usage_user=1i,usage_idle=1i 1",
    "second measurement": "mem,hostname=a usage_user=1i,usage_system=1i,usage_idle=1i 1",
    "escape": r"cpu,hostname=a\ b usage_user=1i,usage_system=1i,usage_idle=1i 1",
    "string": 'cpu,hostname=a usage_user=1i,usage_system=1i,usage_idle="x" 1',
    "bad line": "cpu,hostname=a usage_user=1i,usage_system=1i,usage_idle=1x 1",
    "out of range": f"cpu,hostname=a usage_user={INT64_MAX + 1}i,usage_system=1i,usage_idle=1i 1",
    "no time": "cpu,hostname=a usage_user=1i,usage_system=1i,usage_idle=1i",
    "tag also a field": "cpu,usage_user=a usage_user=1i,usage_system=1i,usage_idle=1i 1",
    "comment": "# comment",
    "indented": " cpu,hostname=a usage_user=1i,usage_system=1i,usage_idle=1i 1",
}


def test_declines_what_it_does_not_handle() -> None:
    lines = _cpu_lines(100)
    for what, odd in _ODD_LINES.items():
        body = "\n".join([*lines[:50], odd, *lines[50:]]).encode()
        assert uniform(body) is None, what
        # The public entry point still gives the line-by-line result.
        assert_same(parse_line_protocol(body, default_time_ns=NOW), sequential(body.decode()))
