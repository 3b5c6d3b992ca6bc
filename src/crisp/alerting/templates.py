"""A tiny, safe template language for alert annotations.

``{{ name }}`` and ``{{ name.key }}`` look a value up in a context of nested mappings;
that is the whole language: no expressions, no filters, no code. An unknown name
renders as an empty string (a rule whose series lacks a tag still gets a message);
malformed placeholders are rejected when the template is parsed, at rule load time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_\-]+)*")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Template:
    """Parsed template: literal text and lookup paths, alternating (text first)."""

    source: str
    parts: tuple[str | tuple[str, ...], ...]

    def render(self, context: Mapping[str, object]) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(format_value(_lookup(context, part)))
        return "".join(out)


def parse_template(source: str) -> Template:
    parts: list[str | tuple[str, ...]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(source):
        literal = source[pos : match.start()]
        _check_literal(literal)
        parts.append(literal)
        path = match.group(1).strip()
        if not _PATH.fullmatch(path):
            raise TemplateError(
                f"invalid placeholder {match.group(0)!r}: expected {{{{ name }}}} or "
                "{{ name.key }}"
            )
        parts.append(tuple(path.split(".")))
        pos = match.end()
    tail = source[pos:]
    _check_literal(tail)
    parts.append(tail)
    return Template(source, tuple(p for p in parts if p != ""))


def render_template(source: str, context: Mapping[str, object]) -> str:
    return parse_template(source).render(context)


def format_value(value: object) -> str:
    """Numbers without float noise (``80.0`` → ``80``), None as empty, else ``str``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _check_literal(text: str) -> None:
    if "{{" in text or "}}" in text:
        raise TemplateError("unbalanced '{{' or '}}' in template")


def _lookup(context: Mapping[str, object], path: tuple[str, ...]) -> object:
    current: object = context
    for key in path:
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current
