"""Typed InfluxQL syntax tree: immutable, comparable, hashable.

Parentheses are not kept as nodes: the tree's shape already records grouping, and the
renderer adds parentheses back where they are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class VarRef:
    """A field, tag or ``time``; ``type`` is the ``::field``/``::tag``/``::float`` cast."""

    name: str
    type: str | None = None


@dataclass(frozen=True)
class Wildcard:
    """``*`` (``type`` is ``field`` or ``tag`` for ``*::field``)."""

    type: str | None = None


@dataclass(frozen=True)
class IntegerLiteral:
    value: int


@dataclass(frozen=True)
class NumberLiteral:
    value: float


@dataclass(frozen=True)
class StringLiteral:
    value: str


@dataclass(frozen=True)
class BooleanLiteral:
    value: bool


@dataclass(frozen=True)
class DurationLiteral:
    ns: int


@dataclass(frozen=True)
class RegexLiteral:
    pattern: str


@dataclass(frozen=True)
class BoundParameter:
    name: str


@dataclass(frozen=True)
class Call:
    """A function call; ``name`` is lower-cased (InfluxQL function names ignore case)."""

    name: str
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class BinaryExpr:
    """``op`` is one of + - * / % & | ^ = != < <= > >= =~ !~ AND OR (``<>`` reads as !=)."""

    op: str
    lhs: Expr
    rhs: Expr


Literal = IntegerLiteral | NumberLiteral | StringLiteral | BooleanLiteral | DurationLiteral
Expr = VarRef | Wildcard | Literal | RegexLiteral | BoundParameter | Call | BinaryExpr

COMPARISON_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "=~", "!~"})
ARITHMETIC_OPS = frozenset({"+", "-", "*", "/", "%", "&", "|", "^"})
LOGICAL_OPS = frozenset({"AND", "OR"})

# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class Measurement:
    """``db.rp.name`` or a regex over measurement names (exactly one of name/regex)."""

    name: str | None = None
    regex: str | None = None
    database: str | None = None
    rp: str | None = None


@dataclass(frozen=True)
class SubQuery:
    statement: SelectStatement


Source = Measurement | SubQuery

# ---------------------------------------------------------------- SELECT


class FillOption(StrEnum):
    NULL = "null"
    NONE = "none"
    PREVIOUS = "previous"
    LINEAR = "linear"
    NUMBER = "number"


@dataclass(frozen=True)
class Field:
    expr: Expr
    alias: str | None = None


@dataclass(frozen=True)
class Dimension:
    """A GROUP BY term: VarRef (tag), Wildcard, RegexLiteral or Call('time', ...)."""

    expr: Expr


@dataclass(frozen=True)
class SelectStatement:
    fields: tuple[Field, ...]
    sources: tuple[Source, ...]
    condition: Expr | None = None
    dimensions: tuple[Dimension, ...] = ()
    fill: FillOption = FillOption.NULL
    fill_value: int | float | None = None
    descending: bool = False
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0
    timezone: str | None = None
    into: Measurement | None = None


# ---------------------------------------------------------------- meta statements


@dataclass(frozen=True)
class CreateDatabaseStatement:
    name: str
    rp_duration_ns: int | None = None
    rp_replication: int | None = None
    rp_shard_duration_ns: int | None = None
    rp_name: str | None = None


@dataclass(frozen=True)
class DropDatabaseStatement:
    name: str


@dataclass(frozen=True)
class ShowDatabasesStatement:
    pass


@dataclass(frozen=True)
class CreateRetentionPolicyStatement:
    name: str
    database: str
    duration_ns: int
    replication: int
    shard_duration_ns: int | None = None
    default: bool = False


@dataclass(frozen=True)
class AlterRetentionPolicyStatement:
    name: str
    database: str
    duration_ns: int | None = None
    replication: int | None = None
    shard_duration_ns: int | None = None
    default: bool = False


@dataclass(frozen=True)
class DropRetentionPolicyStatement:
    name: str
    database: str


@dataclass(frozen=True)
class ShowRetentionPoliciesStatement:
    database: str | None = None


@dataclass(frozen=True)
class DropMeasurementStatement:
    name: str


@dataclass(frozen=True)
class DeleteStatement:
    source: Measurement | None = None
    condition: Expr | None = None


@dataclass(frozen=True)
class DropSeriesStatement:
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None


@dataclass(frozen=True)
class ShowMeasurementsStatement:
    database: str | None = None
    source: Measurement | None = None  # WITH MEASUREMENT = name | =~ /re/
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True)
class ShowTagKeysStatement:
    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True)
class ShowTagValuesStatement:
    """``WITH KEY <op> ...``: op is = != =~ !~ or IN; keys hold names, or one regex."""

    key_op: str
    keys: tuple[str, ...] = ()
    key_regex: str | None = None
    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True)
class ShowFieldKeysStatement:
    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True)
class ShowSeriesStatement:
    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True)
class ShowCardinalityStatement:
    """``SHOW {SERIES|MEASUREMENT|TAG KEY|TAG VALUES|FIELD KEY} [EXACT] CARDINALITY``.

    ``what`` is the keyword(s) before EXACT/CARDINALITY; ``key_op``, ``keys`` and
    ``key_regex`` hold TAG VALUES' ``WITH KEY`` as in ShowTagValuesStatement.
    """

    what: str
    exact: bool = False
    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    key_op: str = ""
    keys: tuple[str, ...] = ()
    key_regex: str | None = None
    limit: int = 0
    offset: int = 0


Statement = (
    SelectStatement
    | CreateDatabaseStatement
    | DropDatabaseStatement
    | ShowDatabasesStatement
    | CreateRetentionPolicyStatement
    | AlterRetentionPolicyStatement
    | DropRetentionPolicyStatement
    | ShowRetentionPoliciesStatement
    | DropMeasurementStatement
    | DeleteStatement
    | DropSeriesStatement
    | ShowMeasurementsStatement
    | ShowTagKeysStatement
    | ShowTagValuesStatement
    | ShowFieldKeysStatement
    | ShowSeriesStatement
    | ShowCardinalityStatement
)


@dataclass(frozen=True)
class Query:
    statements: tuple[Statement, ...]
