"""``$name`` bound parameters → literals, from the ``params`` InfluxDB clients send.

Substitution happens on the syntax tree, so a parameter can only ever be a value: it is
never re-parsed as InfluxQL, and it reaches SQL as a bound parameter like any literal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from crisp.query.errors import QueryError
from crisp.query.influxql import ast

Node = TypeVar("Node")


def bind_parameters(node: Node, params: Mapping[str, Any]) -> Node:
    """``node`` with every BoundParameter replaced by its value as a literal."""
    if isinstance(node, ast.BoundParameter):
        if node.name not in params:
            raise QueryError(f"missing parameter: {node.name}")
        return _literal(node.name, params[node.name])  # type: ignore[return-value]
    if isinstance(node, tuple):
        items = tuple(bind_parameters(item, params) for item in node)
        same = all(new is old for new, old in zip(items, node, strict=True))
        return node if same else items  # type: ignore[return-value]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            bound = bind_parameters(value, params)
            if bound is not value:
                changes[f.name] = bound
        # Untouched subtrees are kept as they are: most statements have no parameter.
        return dataclasses.replace(node, **changes) if changes else node
    return node


def has_parameters(node: object) -> bool:
    """Whether ``node`` holds a BoundParameter (binding anything else changes nothing)."""
    if isinstance(node, ast.BoundParameter):
        return True
    if isinstance(node, tuple):
        return any(has_parameters(item) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return any(has_parameters(getattr(node, f.name)) for f in dataclasses.fields(node))
    return False


def _literal(name: str, value: Any) -> ast.Expr:
    if isinstance(value, bool):
        return ast.BooleanLiteral(value)
    if isinstance(value, int):
        return ast.IntegerLiteral(value)
    if isinstance(value, float):
        return ast.NumberLiteral(value)
    if isinstance(value, str):
        return ast.StringLiteral(value)
    raise QueryError(f"unsupported type for parameter {name}: {type(value).__name__}")
