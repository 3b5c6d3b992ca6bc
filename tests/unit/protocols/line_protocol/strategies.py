"""Hypothesis strategies: random valid points, and their line protocol text."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

PRECISIONS = {"ns": 1, "us": 1_000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}

# Separators and escape characters are over-represented: they are where parsers break.
_SPECIAL = st.sampled_from([",", "=", " ", "\\", '"', "#", "é", "∑", "\x00", "'", "i", "t"])
_ORDINARY = st.characters(
    blacklist_characters="\n\r\t", blacklist_categories=["Cs"], max_codepoint=0x24F
)
_NAME_CHAR = st.one_of(_SPECIAL, _SPECIAL, st.sampled_from("abcxyz019"), _ORDINARY)


def _valid_name(name: str) -> bool:
    # A trailing backslash would escape the separator that follows it.
    return not name.endswith("\\")


names = st.text(_NAME_CHAR, min_size=1, max_size=8).filter(_valid_name)
# Plain names keep lines on the vectorised path (no escapes); few letters, many repeats.
plain_names = st.text(st.sampled_from("abt1-._é"), min_size=1, max_size=3)
string_values = st.text(st.one_of(_SPECIAL, _SPECIAL, _ORDINARY), max_size=12)

FIELD_TYPES = ("float", "integer", "unsigned", "boolean", "string")


@dataclass
class PointText:
    line: str
    has_time: bool


def escape_name(name: str, specials: str) -> str:
    return "".join("\\" + char if char in specials else char for char in name)


def escape_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def float_texts(draw: st.DrawFn) -> str:
    value = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
    style = draw(st.sampled_from(["repr", "fixed", "exp", "int-dot", "dot-frac"]))
    if style == "fixed":
        return f"{value:.3f}"
    if style == "exp":
        return f"{value:E}"
    if style == "int-dot":
        return f"{int(value) if abs(value) < 1e18 else 1}."
    if style == "dot-frac":
        return draw(st.sampled_from([".5", "-.25", ".0", "0.", "-0", "1e3", "1e-3", "1E+2"]))
    return repr(value)


@st.composite
def value_texts(draw: st.DrawFn, field_type: str) -> str:
    if field_type == "float":
        return draw(float_texts())
    if field_type == "integer":
        return f"{draw(st.integers(INT64_MIN, INT64_MAX))}i"
    if field_type == "unsigned":
        return f"{draw(st.integers(0, UINT64_MAX))}u"
    if field_type == "boolean":
        return draw(
            st.sampled_from(["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"])
        )
    return escape_string(draw(string_values))


@st.composite
def measurement_schemas(
    draw: st.DrawFn, name_strategy: st.SearchStrategy[str]
) -> tuple[str, list[str], dict[str, str]]:
    """A measurement with its tag keys and typed field keys, tag and field keys disjoint."""
    measurement = draw(name_strategy.filter(lambda name: not name.startswith("#")))
    key_names = name_strategy.filter(lambda name: name != "time")
    keys = draw(st.lists(key_names, min_size=1, max_size=7, unique=True))
    split = draw(st.integers(0, len(keys) - 1))
    tag_keys = keys[:split]
    field_keys = keys[split:]
    types = {key: draw(st.sampled_from(FIELD_TYPES)) for key in field_keys}
    return measurement, tag_keys, types


@st.composite
def valid_bodies(draw: st.DrawFn, plain: bool = False, max_lines: int = 8) -> tuple[bytes, str]:
    """A body of valid, mutually consistent points and the precision to parse it with."""
    precision = draw(st.sampled_from(sorted(PRECISIONS)))
    multiplier = PRECISIONS[precision]
    name_strategy = plain_names if plain else names
    schemas = draw(
        st.lists(
            measurement_schemas(name_strategy), min_size=1, max_size=3, unique_by=lambda s: s[0]
        )
    )
    lines: list[str] = []
    for _ in range(draw(st.integers(1, max_lines))):
        measurement, tag_keys, types = draw(st.sampled_from(schemas))
        parts = [escape_name(measurement, ", ")]
        chosen_tags = draw(st.lists(st.sampled_from(tag_keys), unique=True)) if tag_keys else []
        for key in chosen_tags:
            value = draw(name_strategy)
            parts.append(f",{escape_name(key, ',= ')}={escape_name(value, ',= ')}")
        field_keys = draw(st.lists(st.sampled_from(sorted(types)), min_size=1, unique=True))
        fields = ",".join(
            f"{escape_name(key, ',= ')}={draw(value_texts(types[key]))}" for key in field_keys
        )
        line = "".join(parts) + draw(st.sampled_from([" ", " ", " ", "  "])) + fields
        if draw(st.booleans()):
            bound = INT64_MAX // multiplier
            line += f" {draw(st.integers(-bound, bound))}"
        line += draw(st.sampled_from(["", " ", "\r", " \t"]))
        lines.append(line)
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "# a comment", "   ", "\t# indented"])))
    return "\n".join(lines).encode("utf-8"), precision


@st.composite
def mutated_bodies(draw: st.DrawFn, plain: bool = False, max_lines: int = 8) -> tuple[bytes, str]:
    """Valid bodies with some lines damaged: inserted, deleted or replaced characters."""
    body, precision = draw(valid_bodies(plain, max_lines))
    lines = body.decode("utf-8").split("\n")
    for index in range(len(lines)):
        if not lines[index] or not draw(st.booleans()):
            continue
        line = lines[index]
        position = draw(st.integers(0, len(line)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from([",", "=", " ", "\\", '"', "i", "u", ".", "-", "e", "t", "x"]))
        lines[index] = edited(line, position, char, action)
    return "\n".join(lines).encode("utf-8"), precision


def edited(line: str, position: int, char: str, action: str) -> str:
    """``line`` with ``char`` inserted at, deleted from or replacing ``position``."""
    if action == "insert":
        return line[:position] + char + line[position:]
    if action == "delete":
        return line[:position] + line[position + 1 :]
    return line[:position] + char + line[position + 1 :]
