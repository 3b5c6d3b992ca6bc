"""InfluxQL scanner.

Scanning is driven by the parser, one token at a given offset, because ``/`` is
ambiguous: it divides in an operator position and opens a regex in an operand
position, and only the parser knows which position it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from crisp.query.influxql.durations import DURATION_RE


class Kind(StrEnum):
    EOF = "EOF"
    ILLEGAL = "ILLEGAL"
    BADSTRING = "bad string"
    BADESCAPE = "bad escape"
    BADREGEX = "bad regex"
    IDENT = "identifier"
    KEYWORD = "keyword"
    INTEGER = "integer"
    NUMBER = "number"
    DURATION = "duration"
    STRING = "string"
    TRUE = "TRUE"
    FALSE = "FALSE"
    REGEX = "regex"
    BOUNDPARAM = "bound parameter"
    OPERATOR = "operator"


# fmt: off
KEYWORDS = frozenset(
    {
        "ALL", "ALTER", "AND", "ANALYZE", "ANY", "AS", "ASC", "BEGIN", "BY", "CARDINALITY",
        "CREATE", "CONTINUOUS", "DATABASE", "DATABASES", "DEFAULT", "DELETE", "DESC",
        "DESTINATIONS", "DIAGNOSTICS", "DISTINCT", "DROP", "DURATION", "END", "EVERY", "EXACT",
        "EXPLAIN", "FIELD", "FOR", "FROM", "GRANT", "GRANTS", "GROUP", "GROUPS", "IN", "INF",
        "INSERT", "INTO", "KEY", "KEYS", "KILL", "LIMIT", "MEASUREMENT", "MEASUREMENTS", "NAME",
        "OFFSET", "ON", "OR", "ORDER", "PASSWORD", "POLICY", "POLICIES", "PRIVILEGES", "QUERIES",
        "QUERY", "READ", "REPLICATION", "RESAMPLE", "RETENTION", "REVOKE", "SELECT", "SERIES",
        "SET", "SHARD", "SHARDS", "SHOW", "SLIMIT", "SOFFSET", "STATS", "SUBSCRIPTION",
        "SUBSCRIPTIONS", "TAG", "TO", "USER", "USERS", "VALUES", "WHERE", "WITH", "WRITE",
    }
)

# Longest first so "<=" wins over "<".
OPERATORS = (
    "::", "!=", "<>", "<=", ">=", "=~", "!~",
    "+", "-", "*", "/", "%", "&", "|", "^", "=", "<", ">", "(", ")", ",", ";", ".",
)
# fmt: on

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_SPACE_RE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)+", re.DOTALL)
_ESCAPES = {"n": "\n", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # decoded value: keyword upper-cased, string unescaped, operator symbol
    start: int  # offset of the token's first character
    end: int  # offset just after the token
    raw: str = ""  # as written, for error messages ("found from")

    def is_keyword(self, *names: str) -> bool:
        return self.kind is Kind.KEYWORD and self.text in names

    def is_op(self, *symbols: str) -> bool:
        return self.kind is Kind.OPERATOR and self.text in symbols

    def describe(self) -> str:
        """How InfluxDB names a token in "found X": its text, or its kind when empty."""
        if self.kind is Kind.EOF:
            return "EOF"
        return self.raw or self.text or self.kind.value


def skip_space(src: str, pos: int) -> int:
    match = _SPACE_RE.match(src, pos)
    return match.end() if match else pos


def scan(src: str, pos: int) -> Token:
    """The token starting at the first non-blank character at or after ``pos``."""
    pos = skip_space(src, pos)
    if pos >= len(src):
        return Token(Kind.EOF, "", pos, pos)
    ch = src[pos]
    if ch == '"':
        return _scan_quoted(src, pos, '"', Kind.IDENT)
    if ch == "'":
        return _scan_quoted(src, pos, "'", Kind.STRING)
    if ch == "$":
        match = _IDENT_RE.match(src, pos + 1)
        end = match.end() if match else pos + 1
        return Token(Kind.BOUNDPARAM, src[pos + 1 : end], pos, end, src[pos:end])
    if ch.isdigit() or (ch == "." and pos + 1 < len(src) and src[pos + 1].isdigit()):
        return _scan_number(src, pos)
    match = _IDENT_RE.match(src, pos)
    if match:
        word = match.group()
        upper = word.upper()
        if upper == "TRUE":
            return Token(Kind.TRUE, "true", pos, match.end(), word)
        if upper == "FALSE":
            return Token(Kind.FALSE, "false", pos, match.end(), word)
        if upper in KEYWORDS:
            return Token(Kind.KEYWORD, upper, pos, match.end(), word)
        return Token(Kind.IDENT, word, pos, match.end(), word)
    for op in OPERATORS:
        if src.startswith(op, pos):
            return Token(Kind.OPERATOR, op, pos, pos + len(op), op)
    return Token(Kind.ILLEGAL, ch, pos, pos + 1, ch)


def scan_regex(src: str, pos: int) -> Token:
    """A ``/pattern/`` literal at ``pos``; only ``\\/`` is unescaped, as InfluxQL does."""
    pos = skip_space(src, pos)
    if pos >= len(src) or src[pos] != "/":
        return scan(src, pos)
    out: list[str] = []
    i = pos + 1
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src) and src[i + 1] == "/":
            out.append("/")
            i += 2
            continue
        if ch == "\n":
            break
        if ch == "/":
            return Token(Kind.REGEX, "".join(out), pos, i + 1, src[pos : i + 1])
        out.append(ch)
        i += 1
    return Token(Kind.BADREGEX, "".join(out), pos, i, src[pos:i])


def _scan_quoted(src: str, pos: int, quote: str, kind: Kind) -> Token:
    out: list[str] = []
    i = pos + 1
    while i < len(src):
        ch = src[i]
        if ch == quote:
            return Token(kind, "".join(out), pos, i + 1, "".join(out))
        if ch == "\n":
            break
        if ch == "\\":
            nxt = src[i + 1] if i + 1 < len(src) else ""
            if nxt not in _ESCAPES:
                return Token(Kind.BADESCAPE, "\\" + nxt, i, i + 2, "\\" + nxt)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return Token(Kind.BADSTRING, "".join(out), pos, i, src[pos:i])


def _scan_number(src: str, pos: int) -> Token:
    duration = DURATION_RE.match(src, pos)
    if duration and not _continues_ident(src, duration.end()):
        text = duration.group()
        return Token(Kind.DURATION, text, pos, duration.end(), text)
    match = _NUMBER_RE.match(src, pos)
    assert match is not None  # callers only come here on a digit or ".<digit>"
    text = match.group()
    kind = Kind.NUMBER if "." in text else Kind.INTEGER
    if _continues_ident(src, match.end()):
        # "10x": InfluxDB rejects a number glued to letters rather than splitting it.
        ident = _IDENT_RE.match(src, match.end())
        end = ident.end() if ident else match.end()
        return Token(Kind.ILLEGAL, src[pos:end], pos, end, src[pos:end])
    return Token(kind, text, pos, match.end(), text)


def _continues_ident(src: str, pos: int) -> bool:
    return pos < len(src) and (src[pos].isalnum() or src[pos] == "_")


def line_char(src: str, offset: int) -> tuple[int, int]:
    """1-based line and character of ``offset``, as InfluxDB reports positions."""
    line = src.count("\n", 0, offset) + 1
    char = offset - (src.rfind("\n", 0, offset) + 1) + 1
    return line, char


def quote_ident(name: str) -> str:
    """``name`` as an InfluxQL identifier: bare when it can be, else double-quoted."""
    if _IDENT_RE.fullmatch(name) and name.upper() not in KEYWORDS | {"TRUE", "FALSE"}:
        return name
    return '"' + _escape(name, '"') + '"'


def quote_string(value: str) -> str:
    return "'" + _escape(value, "'") + "'"


def quote_regex(pattern: str) -> str:
    return "/" + pattern.replace("/", "\\/") + "/"


def _escape(text: str, quote: str) -> str:
    return text.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
