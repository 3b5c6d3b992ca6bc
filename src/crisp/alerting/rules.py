"""Alert rules and notification channels as frozen values, and the YAML file format.

The file format is a contract that scripts rely on::

    channels:
      - {name: slack, type: slack, url: "https://hooks.slack.com/..."}
    alert_rules:
      - name: cpu_high              # the seed's keys ...
        severity: warning           # info | warning | critical
        threshold: 80%              # a number or a percentage (80% → 80.0)
        duration: 5m                # pending time before firing ("for" also accepted)
        notify: slack               # a channel name, a list, or "phone+sms"
        # ... plus
        query: SELECT mean(usage) FROM cpu WHERE time > now() - 5m GROUP BY host
        database: telegraf
        interval: 30s               # default 30s, at least 1s
        condition: ">"              # > >= < <= == != or "nodata"; default >
        keep_firing_for: 2m
        no_data_state: nodata       # ok | alerting | nodata | error
        error_state: error
        labels: {team: infra}
        annotations: {summary: "CPU on {{ labels.host }} at {{ value }}%"}

Instead of ``query`` text a rule may give the structured form, either at the rule's top
level or as a mapping under ``query``: ``measurement``, ``field``, ``aggregate``
(``mean``, ``max``, ``p95``...), ``where`` (a mapping of tag → value or list of values,
or an InfluxQL condition), ``group_by`` (tags) and ``window`` (default 5m). It is built
as a typed InfluxQL tree and rendered, so user values are always quoted correctly.

Validation collects every problem and names the rule and the field:
``alert_rules[2] (cpu_high): threshold: expected a number or a percentage``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import yaml

from crisp.alerting.routes import Route, RouteError, dump_route, parse_route
from crisp.alerting.templates import TemplateError, parse_template
from crisp.core.yaml_text import load_yaml
from crisp.query.influxql import ast
from crisp.query.influxql.durations import SECOND, format_duration, parse_duration
from crisp.query.influxql.parser import ParseError, parse_expr, parse_statement
from crisp.query.influxql.render import render_statement

DEFAULT_INTERVAL_NS = 30 * SECOND
MIN_INTERVAL_NS = SECOND
DEFAULT_WINDOW_NS = 5 * 60 * SECOND

COMPARISON_OPS = (">", ">=", "<", "<=", "==", "!=")
NO_DATA_OP = "nodata"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class StatePolicy(StrEnum):
    """What "no data" or a query error means for an instance."""

    OK = "ok"
    ALERTING = "alerting"
    NODATA = "nodata"
    ERROR = "error"


class ChannelType(StrEnum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"
    SMS = "sms"


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Condition:
    """``value <op> threshold``, or ``op == "nodata"``: fire when the query returns nothing."""

    op: str = ">"
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.op == NO_DATA_OP:
            return
        if self.op not in COMPARISON_OPS:
            raise ValueError(f"unknown operator {self.op!r}")
        if self.threshold is None:
            raise ValueError(f"operator {self.op!r} needs a threshold")

    @property
    def is_no_data(self) -> bool:
        return self.op == NO_DATA_OP

    def holds(self, value: float) -> bool:
        t = self.threshold
        if t is None:
            return False
        match self.op:
            case ">":
                return value > t
            case ">=":
                return value >= t
            case "<":
                return value < t
            case "<=":
                return value <= t
            case "==":
                return value == t
            case "!=":
                return value != t
        return False


@dataclass(frozen=True)
class Channel:
    name: str
    type: ChannelType
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", _frozen(self.settings))


@dataclass(frozen=True)
class Rule:
    """One alert rule. ``query`` is None only for seed-style rules that name no query yet."""

    name: str
    query: str | None
    condition: Condition = Condition(">", 0.0)
    database: str | None = None
    interval_ns: int = DEFAULT_INTERVAL_NS
    for_duration_ns: int = 0
    keep_firing_for_ns: int = 0
    severity: Severity = Severity.WARNING
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    group_by: tuple[str, ...] = ()
    no_data_state: StatePolicy = StatePolicy.NODATA
    error_state: StatePolicy = StatePolicy.ERROR
    notify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a rule needs a name")
        if self.interval_ns < MIN_INTERVAL_NS:
            raise ValueError("interval must be at least 1s")
        if self.for_duration_ns < 0 or self.keep_firing_for_ns < 0:
            raise ValueError("durations must not be negative")
        object.__setattr__(self, "labels", _frozen(self.labels))
        object.__setattr__(self, "annotations", _frozen(self.annotations))


@dataclass(frozen=True)
class AlertFile:
    channels: tuple[Channel, ...] = ()
    rules: tuple[Rule, ...] = ()
    routes: tuple[Route, ...] = ()


class AlertFileError(ValueError):
    """Every validation problem of a file, one message per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(self.errors))


class _Invalid(Exception):
    """One field's problem; the caller prefixes the rule and field."""


# ---------------------------------------------------------------- loading


_RULE_KEYS = frozenset(
    {
        "name", "severity", "threshold", "duration", "for", "notify", "query", "database",
        "interval", "condition", "keep_firing_for", "labels", "annotations",
        "no_data_state", "error_state",
    }
)  # fmt: skip
_STRUCTURED_KEYS = frozenset({"measurement", "field", "aggregate", "where", "group_by", "window"})
_CHANNEL_NEEDS: dict[ChannelType, tuple[str, ...]] = {
    ChannelType.WEBHOOK: ("url", "url_env"),
    ChannelType.SLACK: ("url", "url_env"),
    ChannelType.SMS: ("url", "url_env"),
    ChannelType.EMAIL: ("to",),
}
_AGGREGATES = frozenset(
    {"mean", "median", "mode", "max", "min", "sum", "count", "first", "last", "spread",
     "stddev"}
)  # fmt: skip
_PERCENTILE = re.compile(r"(?:p|percentile_?)([0-9]{1,2}(?:\.[0-9]+)?)")


def load_alert_file(text: str, known_channels: Sequence[str] = ()) -> AlertFile:
    """Parse and validate a YAML alert file; raises AlertFileError listing every problem.

    ``notify`` names are checked against the file's ``channels`` plus ``known_channels``
    (channels already configured); a file that declares no channels and is given none
    (the seed's bare ``alert_rules:`` form) is not checked.
    """
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        raise AlertFileError([f"invalid YAML: {exc}"]) from exc
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise AlertFileError(["expected a mapping with 'channels' and 'alert_rules'"])
    return parse_alert_document(doc, known_channels)


def parse_alert_document(doc: Mapping[str, Any], known_channels: Sequence[str] = ()) -> AlertFile:
    errors: list[str] = []
    unknown = sorted(set(doc) - {"channels", "alert_rules", "routes"}, key=str)
    errors.extend(f"{key}: unknown section" for key in unknown)

    channels: list[Channel] = []
    raw_channels = doc.get("channels") or []
    if not isinstance(raw_channels, list):
        errors.append("channels: expected a list")
        raw_channels = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_channels):
        where = _where("channels", i, raw)
        try:
            channel = _parse_channel(raw)
        except _FieldError as exc:
            errors.append(f"{where}: {exc.field}: {exc.message}")
            continue
        if channel.name in seen:
            errors.append(f"{where}: name: duplicate channel name")
        seen.add(channel.name)
        channels.append(channel)

    check_notify = bool(raw_channels) or bool(known_channels)
    channel_names = seen | set(known_channels)

    rules: list[Rule] = []
    raw_rules = doc.get("alert_rules") or []
    if not isinstance(raw_rules, list):
        errors.append("alert_rules: expected a list")
        raw_rules = []
    names: set[str] = set()
    for i, raw in enumerate(raw_rules):
        where = _where("alert_rules", i, raw)
        rule_errors: list[str] = []
        rule = _parse_rule(raw, rule_errors)
        if rule is not None:
            if rule.name in names:
                rule_errors.append("name: duplicate rule name")
            names.add(rule.name)
            if check_notify:
                rule_errors.extend(
                    f"notify: unknown channel {n!r}" for n in rule.notify if n not in channel_names
                )
            rules.append(rule)
        errors.extend(f"{where}: {e}" for e in rule_errors)
    routes: list[Route] = []
    raw_routes = doc.get("routes") or []
    if not isinstance(raw_routes, list):
        errors.append("routes: expected a list")
        raw_routes = []
    for i, raw in enumerate(raw_routes):
        try:
            route = parse_route(raw)
        except RouteError as exc:
            errors.append(f"routes[{i}]: {exc.field}: {exc.message}")
            continue
        if check_notify:
            errors.extend(
                f"routes[{i}]: notify: unknown channel {n!r}"
                for n in route.notify
                if n not in channel_names
            )
        routes.append(route)
    if errors:
        raise AlertFileError(errors)
    return AlertFile(tuple(channels), tuple(rules), tuple(routes))


def dump_alert_document(alert_file: AlertFile) -> dict[str, Any]:
    """The file-format mapping of ``alert_file`` (queries as text); loads back equal."""
    return {
        "channels": [
            {"name": c.name, "type": c.type.value, **dict(c.settings)} for c in alert_file.channels
        ],
        "alert_rules": [dump_rule(r) for r in alert_file.rules],
        "routes": [dump_route(r) for r in alert_file.routes],
    }


def dump_rule(rule: Rule) -> dict[str, Any]:
    """One rule in the file format; ``parse_rule`` gives it back."""
    out: dict[str, Any] = {"name": rule.name, "severity": rule.severity.value}
    if rule.condition.is_no_data:
        out["condition"] = NO_DATA_OP
    else:
        out["condition"] = rule.condition.op
        out["threshold"] = rule.condition.threshold
    out["duration"] = _fmt(rule.for_duration_ns)
    if rule.notify:
        out["notify"] = list(rule.notify)
    if rule.query is not None:
        out["query"] = rule.query
    if rule.database is not None:
        out["database"] = rule.database
    out["interval"] = _fmt(rule.interval_ns)
    if rule.keep_firing_for_ns:
        out["keep_firing_for"] = _fmt(rule.keep_firing_for_ns)
    out["no_data_state"] = rule.no_data_state.value
    out["error_state"] = rule.error_state.value
    if rule.labels:
        out["labels"] = dict(rule.labels)
    if rule.annotations:
        out["annotations"] = dict(rule.annotations)
    return out


def _fmt(ns: int) -> str:
    return format_duration(ns)


def _where(section: str, index: int, raw: object) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    suffix = f" ({name})" if isinstance(name, str) and name else ""
    return f"{section}[{index}]{suffix}"


class _FieldError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def _parse_channel(raw: object) -> Channel:
    if not isinstance(raw, dict):
        raise _FieldError("channel", "expected a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _FieldError("name", "required, a non-empty string")
    if "+" in name:
        raise _FieldError("name", "must not contain '+' (it joins names in 'notify')")
    kind = raw.get("type")
    try:
        ctype = ChannelType(str(kind))
    except ValueError:
        raise _FieldError("type", "expected one of webhook, slack, email, sms") from None
    settings = {str(k): v for k, v in raw.items() if k not in ("name", "type")}
    needs = _CHANNEL_NEEDS[ctype]
    if not any(settings.get(k) for k in needs):
        raise _FieldError(needs[0], f"required for a {ctype.value} channel")
    return Channel(name, ctype, settings)


def parse_rule(raw: object, known_channels: Sequence[str] | None = None) -> Rule:
    """One rule mapping of the file format; AlertFileError lists its ``field: problem``s."""
    errors: list[str] = []
    rule = _parse_rule(raw, errors)
    if rule is not None and known_channels is not None:
        errors.extend(
            f"notify: unknown channel {n!r}" for n in rule.notify if n not in known_channels
        )
    if errors or rule is None:
        raise AlertFileError(errors or ["rule: invalid"])
    return rule


def _parse_rule(raw: object, errors: list[str]) -> Rule | None:
    """Build a rule, appending ``field: message`` problems to ``errors``."""
    if not isinstance(raw, dict):
        errors.append("rule: expected a mapping")
        return None

    def get(key: str, parse: Any, default: Any) -> Any:
        if key not in raw or raw[key] is None:
            return default
        try:
            return parse(raw[key])
        except _Invalid as exc:
            errors.append(f"{key}: {exc}")
            return default

    for key in sorted(set(raw) - _RULE_KEYS - _STRUCTURED_KEYS, key=str):
        errors.append(f"{key}: unknown field")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append("name: required, a non-empty string")
        name = ""
    severity = get("severity", _enum(Severity), Severity.WARNING)
    threshold = get("threshold", _threshold, None)
    op = get("condition", _operator, ">")
    if "duration" in raw and "for" in raw:
        errors.append("for: give either 'duration' or 'for', not both")
    for_ns = get("duration", _duration, 0) if "duration" in raw else get("for", _duration, 0)
    keep_ns = get("keep_firing_for", _duration, 0)
    interval_ns = get("interval", _interval, DEFAULT_INTERVAL_NS)
    notify = get("notify", _notify, ())
    database = get("database", _string, None)
    labels = get("labels", _labels, {})
    annotations = get("annotations", _annotations, {})
    no_data_state = get("no_data_state", _enum(StatePolicy), StatePolicy.NODATA)
    error_state = get("error_state", _enum(StatePolicy), StatePolicy.ERROR)

    query: str | None = None
    group_by: tuple[str, ...] = ()
    structured = {k: raw[k] for k in _STRUCTURED_KEYS if k in raw}
    raw_query = raw.get("query")
    if structured and raw_query is not None:
        errors.append(f"query: give either 'query' or {sorted(structured)}, not both")
    elif structured or isinstance(raw_query, dict):
        spec: Mapping[str, Any] = raw_query if isinstance(raw_query, dict) else structured
        try:
            query, group_by = build_structured_query(spec)
        except _FieldError as exc:
            errors.append(f"query.{exc.field}: {exc.message}")
    elif raw_query is not None:
        try:
            query, group_by = _text_query(raw_query)
        except _Invalid as exc:
            errors.append(f"query: {exc}")

    if op == NO_DATA_OP:
        condition = Condition(NO_DATA_OP)
    elif threshold is None:
        if "threshold" not in raw:
            errors.append("threshold: required unless condition is 'nodata'")
        condition = Condition(op, 0.0)
    else:
        condition = Condition(op, threshold)

    if errors:
        # Invalid: a placeholder (defaults) only so duplicate names are still reported.
        return Rule(name, None) if name else None
    return Rule(
        name=name,
        query=query,
        condition=condition,
        database=database,
        interval_ns=interval_ns,
        for_duration_ns=for_ns,
        keep_firing_for_ns=keep_ns,
        severity=severity,
        labels=labels,
        annotations=annotations,
        group_by=group_by,
        no_data_state=no_data_state,
        error_state=error_state,
        notify=notify,
    )


# ---------------------------------------------------------------- field parsers


def _enum(kind: type[StrEnum]) -> Any:
    def parse(value: object) -> StrEnum:
        try:
            return kind(str(value))
        except ValueError:
            choices = ", ".join(m.value for m in kind)
            raise _Invalid(f"expected one of {choices}") from None

    return parse


def _threshold(value: object) -> float:
    if isinstance(value, bool):
        raise _Invalid("expected a number or a percentage")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        number = text[:-1].strip() if text.endswith("%") else text
        try:
            return float(number)
        except ValueError:
            pass
    raise _Invalid("expected a number or a percentage")


def _operator(value: object) -> str:
    text = str(value).strip().lower().replace(" ", "") if isinstance(value, str) else None
    if text in ("=",):
        text = "=="
    if text in ("nodata", "no_data"):
        return NO_DATA_OP
    if text in COMPARISON_OPS:
        return text
    raise _Invalid(f"expected one of {' '.join(COMPARISON_OPS)} or nodata")


def _duration(value: object) -> int:
    if isinstance(value, bool):
        raise _Invalid("expected a duration such as 30s, 5m or 1h30m")
    if isinstance(value, int):
        if value < 0:
            raise _Invalid("must not be negative")
        return value * SECOND
    if isinstance(value, str):
        try:
            return parse_duration(value.strip())
        except ValueError:
            pass
    raise _Invalid("expected a duration such as 30s, 5m or 1h30m")


def _interval(value: object) -> int:
    ns = _duration(value)
    if ns < MIN_INTERVAL_NS:
        raise _Invalid("must be at least 1s")
    return ns


def _string(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid("expected a non-empty string")
    return value


def _notify(value: object) -> tuple[str, ...]:
    items: list[object] = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _Invalid("expected a channel name, a list of names, or 'a+b'")
        names.extend(part.strip() for part in item.split("+"))
    if any(not n for n in names):
        raise _Invalid("empty channel name")
    return tuple(dict.fromkeys(names))


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Invalid("expected a mapping of name: value")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            raise _Invalid(f"invalid label name {k!r}")
        if isinstance(v, dict | list) or v is None:
            raise _Invalid(f"{k}: expected a scalar value")
        out[k] = str(v)
    return out


def _annotations(value: object) -> dict[str, str]:
    out = _labels(value)
    for k, v in out.items():
        try:
            parse_template(v)
        except TemplateError as exc:
            raise _Invalid(f"{k}: {exc}") from None
    return out


def _text_query(value: object) -> tuple[str, tuple[str, ...]]:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected InfluxQL text or a structured query mapping")
    try:
        statement = parse_statement(value)
    except ParseError as exc:
        raise _Invalid(str(exc)) from None
    if not isinstance(statement, ast.SelectStatement):
        raise _Invalid("expected a SELECT statement")
    if statement.into is not None:
        raise _Invalid("SELECT ... INTO is not allowed in an alert rule")
    tags = tuple(d.expr.name for d in statement.dimensions if isinstance(d.expr, ast.VarRef))
    return value.strip(), tags


def build_structured_query(spec: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """InfluxQL text and group-by tags of the structured form; raises ``_FieldError``."""
    unknown = sorted(set(spec) - _STRUCTURED_KEYS, key=str)
    if unknown:
        raise _FieldError(str(unknown[0]), "unknown field")
    measurement = spec.get("measurement")
    if not isinstance(measurement, str) or not measurement:
        raise _FieldError("measurement", "required, a non-empty string")
    field_name = spec.get("field", "value")
    if not isinstance(field_name, str) or not field_name:
        raise _FieldError("field", "expected a non-empty string")
    call = _aggregate(spec.get("aggregate", "mean"), ast.VarRef(field_name))

    window = spec.get("window", "5m")
    try:
        window_ns = _duration(window)
    except _Invalid as exc:
        raise _FieldError("window", str(exc)) from None
    if window_ns <= 0:
        raise _FieldError("window", "must be positive")
    condition: ast.Expr = ast.BinaryExpr(
        ">",
        ast.VarRef("time"),
        ast.BinaryExpr("-", ast.Call("now"), ast.DurationLiteral(window_ns)),
    )
    where = spec.get("where")
    if where is not None:
        condition = ast.BinaryExpr("AND", _where_expr(where), condition)

    raw_group = spec.get("group_by") or []
    group = [raw_group] if isinstance(raw_group, str) else raw_group
    if not isinstance(group, list) or not all(isinstance(t, str) and t for t in group):
        raise _FieldError("group_by", "expected a tag name or a list of tag names")
    statement = ast.SelectStatement(
        fields=(ast.Field(call),),
        sources=(ast.Measurement(name=measurement),),
        condition=condition,
        dimensions=tuple(ast.Dimension(ast.VarRef(t)) for t in group),
    )
    return render_statement(statement), tuple(group)


def _aggregate(value: object, ref: ast.VarRef) -> ast.Call:
    if not isinstance(value, str):
        raise _FieldError("aggregate", "expected a function name such as mean, max or p95")
    name = value.strip().lower()
    if name in _AGGREGATES:
        return ast.Call(name, (ref,))
    match = _PERCENTILE.fullmatch(name)
    if match:
        n = float(match.group(1))
        arg: ast.Expr = ast.IntegerLiteral(int(n)) if n.is_integer() else ast.NumberLiteral(n)
        return ast.Call("percentile", (ref, arg))
    raise _FieldError(
        "aggregate",
        f"unknown aggregate {value!r}; expected one of {', '.join(sorted(_AGGREGATES))} or pNN",
    )


def _where_expr(where: object) -> ast.Expr:
    if isinstance(where, str):
        try:
            return parse_expr(where)
        except ParseError as exc:
            raise _FieldError("where", str(exc)) from None
    if not isinstance(where, dict) or not where:
        raise _FieldError("where", "expected a mapping of tag: value, or an InfluxQL condition")
    terms: list[ast.Expr] = []
    for tag, wanted in where.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if (
            not isinstance(tag, str)
            or not values
            or any(v is None or isinstance(v, dict | list) for v in values)
        ):
            raise _FieldError("where", f"{tag}: expected a value or a list of values")
        alternatives: list[ast.Expr] = [
            ast.BinaryExpr("=", ast.VarRef(tag), ast.StringLiteral(str(v))) for v in values
        ]
        term = alternatives[0]
        for alt in alternatives[1:]:
            term = ast.BinaryExpr("OR", term, alt)
        terms.append(term)
    expr = terms[0]
    for term in terms[1:]:
        expr = ast.BinaryExpr("AND", expr, term)
    return expr
