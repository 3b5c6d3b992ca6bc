"""Every Crisp setting, typed, read once at start-up from ``CRISP_*`` and flags.

Each setting is a field of :class:`Settings` whose metadata carries its environment
variable, parser, help line and whether it is a secret. Commands pick the settings
they take (see ``crisp.cli``); a flag on the command line wins over the environment,
which wins over the default. Nothing reads ``os.environ`` anywhere else.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

ENV_PREFIX = "CRISP_"


class SettingError(ValueError):
    """A setting has a value Crisp cannot use; the message names it and what it expects."""

    def __init__(self, source: str, value: str, expects: str) -> None:
        super().__init__(f"{source}={value!r} is invalid: expected {expects}")
        self.source = source
        self.value = value
        self.expects = expects


@dataclass(frozen=True)
class Address:
    """A ``HOST:PORT`` pair to listen on or connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self}"


# Parsers: each raises ValueError; the caller turns that into a SettingError with the
# setting's own "expects" text, so messages name the variable and the expected form.


def _parse_positive_int(text: str) -> int:
    value = int(text.strip())
    if value <= 0:
        raise ValueError(text)
    return value


def _parse_address(text: str) -> Address:
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(text)
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return Address(host.strip("[]"), port)


def _parse_http_url(text: str) -> str:
    """An ``http(s)://`` base URL, without a trailing slash."""
    value = text.strip()
    if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
        raise ValueError(text)
    return value.rstrip("/")


def _parse_sink(text: str) -> str:
    """``embedded``, an ``http(s)://`` base URL of an InfluxDB-compatible server, or a
    ``nats://`` / ``tls://`` JetStream URL (checked in full by ``crisp.collector.nats_target``)."""
    if text.strip().lower().startswith(("nats://", "tls://")):
        return _parse_nats_url(text)
    return "embedded" if text.strip().lower() == "embedded" else _parse_http_url(text)


def _parse_nats_url(text: str) -> str:
    """``nats://HOST:PORT/STREAM[?subject=…]`` (or ``tls://``): scheme, host and stream."""
    value = text.strip()
    scheme, _, rest = value.partition("://")
    host, _, stream = rest.partition("/")
    if scheme.lower() not in ("nats", "tls") or not host or not stream.split("?")[0].strip("/"):
        raise ValueError(text)
    return value


def _parse_optional_nats_url(text: str) -> str:
    return _parse_nats_url(text) if text.strip() else ""


def _parse_limit(text: str) -> int:
    """A non-negative integer; 0 means no limit."""
    value = int(text.strip())
    if value < 0:
        raise ValueError(text)
    return value


def _parse_optional_path(text: str) -> Path | None:
    return Path(text.strip()) if text.strip() else None


def _parse_optional_address(text: str) -> Address | None:
    return _parse_address(text) if text.strip() else None


def _parse_path(text: str) -> Path:
    if not text.strip():
        raise ValueError(text)
    return Path(text.strip())


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(text)
        return value

    return parse


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _parse_duration_seconds(text: str) -> float:
    """``250ms``, ``30s``, ``5m``, ``1h`` or a bare number of seconds."""
    raw = text.strip().lower()
    for unit in sorted(_DURATION_UNITS, key=len, reverse=True):
        if raw.endswith(unit):
            value = float(raw[: -len(unit)]) * _DURATION_UNITS[unit]
            break
    else:
        value = float(raw)
    if value < 0:
        raise ValueError(text)
    return value


# Public: the collector's pre-aggregation rules file reads durations the same way.
parse_duration_seconds = _parse_duration_seconds


def _parse_optional_url(text: str) -> str:
    """Empty, or an ``http(s)://`` base URL."""
    return _parse_http_url(text) if text.strip() else ""


def _parse_database_url(text: str) -> str:
    value = text.strip()
    if value and not value.startswith(("sqlite:///", "postgres://", "postgresql://", "pgsql://")):
        raise ValueError(text)
    return value


def _parse_host_list(text: str) -> str:
    """Comma-separated host names, kept as text (normalised) so it prints as given."""
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    if not hosts:
        raise ValueError(text)
    return ",".join(hosts)


def _parse_counter(text: str) -> str:
    """``measurement.field`` (split at the last dot: measurement names may hold dots), or
    empty."""
    value = text.strip()
    if not value:
        return ""
    measurement, dot, name = value.rpartition(".")
    if not dot or not measurement or not name:
        raise ValueError(text)
    return value


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _parse_name(text: str) -> str:
    if not text.strip():
        raise ValueError(text)
    return text.strip()


def _setting(
    default: Any,
    parse: Callable[[str], Any],
    expects: str,
    help: str,
    *,
    secret: bool = False,
    env: str | None = None,
) -> Any:
    return field(
        default=default,
        metadata={"parse": parse, "expects": expects, "help": help, "secret": secret, "env": env},
    )


LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]
FsyncPolicy = Literal["always", "interval"]
WriteAck = Literal["parsed", "logged"]


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one Crisp process."""

    data_dir: Path = _setting(
        Path("crisp-data"),
        _parse_path,
        "a directory path",
        "Where storage keeps its WAL, Parquet files and catalog; put it on a fast local disk.",
    )
    listen: Address = _setting(
        Address("127.0.0.1", 8086),
        _parse_address,
        "HOST:PORT, e.g. 127.0.0.1:8086",
        "Address of the InfluxDB-compatible HTTP API (writes and queries).",
    )
    console_listen: Address = _setting(
        Address("127.0.0.1", 8000),
        _parse_address,
        "HOST:PORT, e.g. 127.0.0.1:8000",
        "Address of the web console.",
    )
    log_format: LogFormat = _setting(
        "text",
        _choice("text", "json"),
        "one of text, json",
        "Log line format: human-readable text, or one JSON object per line for log shippers.",
    )
    log_level: LogLevel = _setting(
        "info",
        _choice("debug", "info", "warning", "error"),
        "one of debug, info, warning, error",
        "Least severe log level written; debug logs every request and costs throughput.",
    )
    writer_batch_size: int = _setting(
        5000,
        _parse_positive_int,
        "a positive integer (points)",
        "Points buffered before a batch is flushed to the sink; larger batches raise "
        "throughput and memory use.",
    )
    writer_flush_interval: float = _setting(
        1.0,
        _parse_duration_seconds,
        "a duration such as 1000ms, 1s or 0.5 (seconds)",
        "Longest time a point waits in a batch before it is flushed, whatever the batch size.",
    )
    wal_fsync: FsyncPolicy = _setting(
        "always",
        _choice("always", "interval"),
        "one of always, interval",
        "always: acknowledge a write only after its WAL record is fsynced (no loss on power "
        "failure); interval: fsync on a timer (faster, loses the last interval on power loss).",
    )
    write_ack: WriteAck = _setting(
        "parsed",
        _choice("parsed", "logged"),
        "one of parsed, logged",
        "When /write answers. parsed: after parsing and the WAL fsync, so a bad line gets "
        "a 400 naming it (InfluxDB 1.x). logged: after the raw body's WAL fsync, parsing "
        "just after (a few ms sooner); lines refused then are kept in <data dir>/rejected/.",
    )
    max_body_size: int = _setting(
        25_000_000,
        _parse_positive_int,
        "a positive integer (bytes)",
        "Largest write body accepted (after gzip decoding); larger bodies get 413. Bounds "
        "the memory one request can take.",
    )
    collector_listen: Address = _setting(
        Address("127.0.0.1", 8087),
        _parse_address,
        "HOST:PORT, e.g. 127.0.0.1:8087",
        "Address of the collector's ingest API (line protocol, JSON, Prometheus, OTLP).",
    )
    collector_default_db: str = _setting(
        "metrics",
        str,
        "a database name",
        "Database for collector writes that name none (every protocol but line protocol); "
        "a ?db= query parameter overrides it.",
    )
    sink: str = _setting(
        "embedded",
        _parse_sink,
        "embedded, an http(s):// URL, e.g. http://127.0.0.1:8086, or nats://HOST:PORT/STREAM",
        "Where the collector delivers batches: an in-process engine (embedded, uses the "
        "data directory), any InfluxDB-compatible /write endpoint, or a NATS JetStream "
        "stream that crisp consume reads.",
    )
    sink_token: str = _setting(
        "",
        str,
        "a string",
        "Token the collector sends to an http sink (Authorization: Token); empty sends none.",
        secret=True,
    )
    sink_timeout: float = _setting(
        10.0,
        _parse_duration_seconds,
        "a duration such as 10s",
        "Longest time one batch write to the sink may take before it counts as failed "
        "and is retried.",
    )
    sink_retry_initial: float = _setting(
        0.2,
        _parse_duration_seconds,
        "a duration such as 200ms",
        "First retry delay after a sink failure (5xx or network); doubles per attempt, "
        "with jitter.",
    )
    sink_retry_max: float = _setting(
        30.0,
        _parse_duration_seconds,
        "a duration such as 30s",
        "Longest delay between two retries of a failing sink; retries go on while the "
        "spool holds the data.",
    )
    spool_dir: Path = _setting(
        Path("crisp-spool"),
        _parse_path,
        "a directory path",
        "Where the collector keeps its spool (fsynced before a write is acknowledged) "
        "and its dead letters.",
    )
    spool_max_bytes: int = _setting(
        1_000_000_000,
        _parse_positive_int,
        "a positive integer (bytes)",
        "Spool size past which the collector answers 429 with Retry-After instead of "
        "accepting what it could not keep.",
    )
    # Collector: NATS JetStream sink and crisp consume (issue 5).
    nats_stream_max_bytes: int = _setting(
        1_000_000_000,
        _parse_positive_int,
        "a positive integer (bytes)",
        "Size of the JetStream stream the collector and crisp consume create when it is "
        "absent; a full stream refuses publishes (the collector's spool keeps the data).",
    )
    consume_nats: str = _setting(
        "",
        _parse_optional_nats_url,
        "a NATS URL, e.g. nats://127.0.0.1:4222/crisp",
        "The JetStream stream crisp consume reads and writes to CRISP_SINK (required by it).",
    )
    consume_durable: str = _setting(
        "crisp-storage",
        _parse_name,
        "a consumer name (letters, digits, _ and -)",
        "Durable consumer of crisp consume: processes with the same name share the work "
        "and resume where the last one stopped.",
    )
    consume_listen: Address = _setting(
        Address("127.0.0.1", 8088),
        _parse_address,
        "HOST:PORT, e.g. 127.0.0.1:8088",
        "Address of crisp consume's /health (503 while NATS is unreachable) and /metrics.",
    )
    # Collector: line protocol over UDP (issue 5).
    collector_udp_listen: Address | None = _setting(
        None,
        _parse_optional_address,
        "empty (off) or HOST:PORT, e.g. 127.0.0.1:8089",
        "UDP address for line protocol datagrams (InfluxDB's UDP input: no answer, no "
        "auth, one database); empty turns UDP off.",
    )
    collector_udp_db: str = _setting(
        "udp",
        _parse_name,
        "a database name",
        "Database every UDP point is written to.",
    )
    collector_udp_precision: str = _setting(
        "ns",
        _choice("ns", "n", "us", "u", "ms", "s", "m", "h"),
        "one of ns, us, ms, s, m, h",
        "Unit of the timestamps in UDP line protocol.",
    )
    # Collector: cardinality guard (issue 5).
    collector_max_series_per_measurement: int = _setting(
        100_000,
        _parse_limit,
        "a non-negative integer (series; 0 turns the limit off)",
        "Active series one measurement may have in the collector; points of new series "
        "past it are refused with 400. About 70 bytes of memory per series tracked.",
    )
    collector_max_series_per_database: int = _setting(
        1_000_000,
        _parse_limit,
        "a non-negative integer (series; 0 turns the limit off)",
        "Active series one database (tenant) may have in the collector, over all its "
        "measurements; points of new series past it are refused with 400.",
    )
    # Collector: write tokens per tenant (issue 5).
    write_tokens_file: Path | None = _setting(
        None,
        _parse_optional_path,
        "empty or a JSON file path",
        "Write tokens (SHA-256 hashes) each limited to databases; the collector re-reads "
        "the file when it changes. Empty: only CRISP_ADMIN_TOKEN (or local mode).",
    )
    # Collector: edge pre-aggregation (issue 5).
    collector_aggregation_file: Path | None = _setting(
        None,
        _parse_optional_path,
        "empty (off) or a YAML/JSON file path",
        "Pre-aggregation rules: per measurement, a series' points within a window become "
        "one point (sum, mean, min, max, last, count per field) before delivery; fewer "
        "points to store, one extra fsync per flush. Read at start-up.",
    )
    # Collector: several processes on one port (issue 5).
    collector_workers: int = _setting(
        1,
        _parse_positive_int,
        "a positive integer (processes)",
        "Collector processes sharing the listen port (SO_REUSEPORT; the kernel spreads "
        "connections), each with its own spool SPOOL_DIR/worker-N; use about one per core. "
        "More than 1 needs an http(s):// or nats:// sink.",
    )
    admin_token: str = _setting(
        "",
        str,
        "a string",
        "Token that grants every write and admin right; empty disables token checks for "
        "local use only.",
        secret=True,
    )

    database_url: str = _setting(
        "",
        _parse_database_url,
        "empty, sqlite:///PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/NAME",
        "Console database (users, teams, dashboards); empty uses SQLite at "
        "<data dir>/console.sqlite3. Use PostgreSQL for more than a few users.",
        secret=True,
    )
    metrics_url: str = _setting(
        "",
        _parse_optional_url,
        "empty or an http(s):// URL, e.g. http://127.0.0.1:8086",
        "Where the console reads metrics (InfluxQL over HTTP: crisp storage, a router or "
        "InfluxDB 1.x); empty: the local storage API at CRISP_LISTEN, or in-process in serve.",
    )
    metrics_token: str = _setting(
        "",
        str,
        "a string",
        "Token the console sends to CRISP_METRICS_URL (Authorization: Token); empty sends none.",
        secret=True,
    )
    metrics_timeout: float = _setting(
        30.0,
        _parse_duration_seconds,
        "a duration such as 30s",
        "Longest time one console query may take before it is abandoned with a 504.",
    )
    secret_key: str = _setting(
        "",
        str,
        "a long random string",
        "Signs console sessions and CSRF tokens; empty: generated once and kept in "
        "<data dir>/console-secret-key. Set it when several console processes share users.",
        secret=True,
    )
    allowed_hosts: str = _setting(
        "127.0.0.1,localhost,[::1]",
        _parse_host_list,
        "comma-separated host names, e.g. console.example.com,127.0.0.1 (* allows all)",
        "Host headers the console answers (Django ALLOWED_HOSTS); others get 400.",
    )
    debug: bool = _setting(
        False,
        _parse_bool,
        "true or false",
        "Console debug mode: detailed error pages. Never in production: it shows settings.",
    )
    latency_measurement: str = _setting(
        "api_latency",
        _parse_name,
        "a measurement name",
        "Measurement the console's latency endpoint and services overview read.",
    )
    latency_field: str = _setting(
        "duration_ms",
        _parse_name,
        "a field name",
        "Field (milliseconds) of CRISP_LATENCY_MEASUREMENT the latency endpoint reads.",
    )
    latency_service_tag: str = _setting(
        "service",
        _parse_name,
        "a tag key",
        "Tag of CRISP_LATENCY_MEASUREMENT naming the service.",
    )
    console_default_db: str = _setting(
        "metrics",
        _parse_name,
        "a database name",
        "Database the console's latency endpoint reads when the request names none.",
    )
    # Console drill-down and demo data (issue 6).
    latency_breakdown_tags: str = _setting(
        "endpoint,host",
        _parse_host_list,
        "comma-separated tag keys, e.g. endpoint,host",
        "Tags of CRISP_LATENCY_MEASUREMENT a service page breaks down by; Explore drills "
        "down in this order after CRISP_LATENCY_SERVICE_TAG.",
    )
    request_counter: str = _setting(
        "http_requests.count",
        _parse_counter,
        "MEASUREMENT.FIELD, e.g. http_requests.count, or empty",
        "Request counter the services pages sum for request and error rates (each point "
        "counts the requests since the previous one); where it is absent or this is "
        "empty they count CRISP_LATENCY_MEASUREMENT points instead.",
    )
    demo_data: bool = _setting(
        False,
        _parse_bool,
        "true or false",
        "crisp serve writes an hour of demo api_latency and http_requests points into "
        "CRISP_CONSOLE_DEFAULT_DB at start, then live points every 10 s. Never in production.",
    )

    # Alerting worker (issue 7).
    worker_listen: Address = _setting(
        Address("127.0.0.1", 8089),
        _parse_address,
        "HOST:PORT, e.g. 127.0.0.1:8089",
        "Address of crisp worker's self-metrics (/metrics, /health); in crisp serve the "
        "worker's metrics are on the storage API's /metrics instead.",
    )
    worker_lease: float = _setting(
        60.0,
        _parse_duration_seconds,
        "a duration such as 60s",
        "How long a worker holds a rule or notification group it claimed; when a worker "
        "dies, another takes its work over after this. Longer than one evaluation or send.",
    )
    alert_history_retention: float = _setting(
        30 * 86400.0,
        _parse_duration_seconds,
        "a duration such as 720h (30 days)",
        "How long alert transition history and the notification log are kept; the worker "
        "deletes older rows every few minutes.",
    )

    @classmethod
    def env_name(cls, name: str) -> str:
        meta = _field_by_name(name).metadata
        return cast(str, meta["env"] or ENV_PREFIX + name.upper())

    @classmethod
    def flag_name(cls, name: str) -> str:
        return "--" + name.replace("_", "-")

    @classmethod
    def describe(cls, name: str) -> tuple[str, str, bool]:
        """(help, expects, secret) of one setting."""
        meta = _field_by_name(name).metadata
        return meta["help"], meta["expects"], meta["secret"]

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def display_items(self) -> Iterable[tuple[str, str]]:
        """(env var, value) pairs with secrets hidden, for ``crisp config``."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            shown = ("<set>" if value else "<empty>") if f.metadata["secret"] else str(value)
            yield self.env_name(f.name), shown


def _field_by_name(name: str) -> dataclasses.Field[Any]:
    for f in dataclasses.fields(Settings):
        if f.name == name:
            return f
    raise KeyError(name)


def load_settings(
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, str | None] | None = None,
) -> Settings:
    """Build :class:`Settings` from flags (win), then ``CRISP_*`` variables, then defaults.

    ``flags`` maps setting names to the raw text given on the command line (``None``
    where the flag was not given). Raises :class:`SettingError` on the first bad value.
    """
    environ = os.environ if environ is None else environ
    flags = flags or {}
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        flag_value = flags.get(f.name)
        env = Settings.env_name(f.name)
        if flag_value is not None:
            source, raw = Settings.flag_name(f.name), flag_value
        elif env in environ:
            source, raw = env, environ[env]
        else:
            continue
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError:
            raise SettingError(source, raw, f.metadata["expects"]) from None
    return Settings(**values)
