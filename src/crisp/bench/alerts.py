"""``crisp bench alerts``: can one alerting worker keep N rules on schedule?

In a temporary data directory: the embedded engine holds live ``api_latency`` data (the
api-latency use case, backfilled then written as time passes), the console database
(SQLite, or ``--database-url``) holds N rules imported as ``crisp alerts import`` does,
and the real worker (:class:`~crisp.console.alerts.worker.AlertWorker`, driven tick by
tick as :class:`~crisp.console.alerts.components.WorkerComponent` drives it) evaluates
them on the in-process backend and notifies a local webhook sink.

Measured: a *cold* pass (every rule is new, so all are due at once), then R *rounds*
of one interval each in steady state. Per round: rules evaluated, time the worker was
busy (summed ticks; it must stay below the interval), the worker thread's CPU, the
worst schedule lag (how long the most overdue rule had been waiting when a tick began)
and the latency of each evaluation (query, state machine, storing: what
``crisp_alerting_evaluation_seconds`` observes). The worker keeps up when, in every
round, it was busy less than the interval and no rule waited a whole interval.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crisp.alerting.query_family import family_of
from crisp.bench.alert_rules import DATABASE, alert_document, firing_rules
from crisp.bench.alert_sink import NotificationSink
from crisp.bench.api_latency import ENDPOINTS_PER_SERVICE
from crisp.bench.dataset import DatasetSpec
from crisp.bench.generate import line_chunks
from crisp.bench.line_format import to_bytes
from crisp.bench.stats import LatencySummary, json_number, summarise
from crisp.bench.timespec import NS_PER_S, parse_duration_ns

if TYPE_CHECKING:
    from crisp.alerting.rules import AlertFile
    from crisp.console.alerts.worker import AlertWorker
    from crisp.storage.api import Storage

DATA_INTERVAL_S = 10
BACKFILL_S = 600
# The cold pass gives up after this long (a worker this far behind has its answer).
COLD_LIMIT_S = 600.0
_LATENCY_FIELDS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")


@dataclass(frozen=True)
class AlertBenchConfig:
    rules: int = 5000
    hosts: int = 50
    interval_s: float = 30.0
    rounds: int = 3
    firing_share: float = 0.02
    seed: int = 1
    query_families: bool = True

    def __post_init__(self) -> None:
        if self.rules < 1 or self.hosts < 1 or self.rounds < 1:
            raise ValueError("--rules, --hosts and --rounds must be at least 1")
        if self.interval_s < 1:
            raise ValueError("--interval must be at least 1s")


@dataclass(frozen=True)
class RoundResult:
    """One phase of the run: the cold pass (``round`` 0) or a steady-state round."""

    round: int
    wall_s: float
    evaluations: int
    errors: int
    busy_s: float
    worker_cpu_s: float
    process_cpu_s: float
    max_lag_s: float
    notifications: int
    latency: LatencySummary
    queries: int = 0
    """Queries the worker answered (rules sharing a query in a tick run it once)."""
    statements: int = 0
    """Statements it sent for them (a query family answered by one counts once)."""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["latency"] = self.latency.as_dict()
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RoundResult:
        lat = raw["latency"]
        numbers = (float("nan") if lat[k] is None else float(lat[k]) for k in _LATENCY_FIELDS)
        return cls(**{**raw, "latency": LatencySummary(int(lat["count"]), *numbers)})


@dataclass(frozen=True)
class AlertBenchResult:
    config: AlertBenchConfig
    database: str
    machine: str
    import_s: float
    firing_rules: int
    cold: RoundResult
    rounds: list[RoundResult]
    instances: dict[str, int] = field(default_factory=dict)
    distinct_queries: int = 0
    """Distinct (database, query) among the rules."""
    query_families: int = 0
    """Distinct (database, query family or query alone) among the rules."""

    def kept_up(self) -> bool:
        """Every round: busy less than the interval and no rule a whole interval late."""
        limit = self.config.interval_s
        return all(r.busy_s < limit and r.max_lag_s < limit for r in self.rounds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "database": self.database,
            "machine": self.machine,
            "import_s": self.import_s,
            "firing_rules": self.firing_rules,
            "cold": self.cold.as_dict(),
            "rounds": [r.as_dict() for r in self.rounds],
            "instances": self.instances,
            "distinct_queries": self.distinct_queries,
            "query_families": self.query_families,
            "kept_up": self.kept_up(),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AlertBenchResult:
        return cls(
            config=AlertBenchConfig(**raw["config"]),
            database=raw["database"],
            machine=raw["machine"],
            import_s=raw["import_s"],
            firing_rules=raw["firing_rules"],
            cold=RoundResult.from_dict(raw["cold"]),
            rounds=[RoundResult.from_dict(r) for r in raw["rounds"]],
            instances=dict(raw.get("instances", {})),
            distinct_queries=int(raw.get("distinct_queries", 0)),
            query_families=int(raw.get("query_families", 0)),
        )


def _ms(value: float) -> str:
    return "-" if json_number(value) is None else f"{value:.1f}"


def describe(result: AlertBenchResult) -> str:
    """The report: one Markdown table, a row per phase, and the verdict."""
    c = result.config
    lines = [
        f"{c.rules} rules ({result.firing_rules} firing) every {c.interval_s:g} s, "
        f"{c.hosts} hosts of api_latency, console database {result.database}; "
        f"{result.distinct_queries} distinct queries in {result.query_families} query "
        f"families ({'merged' if c.query_families else 'not merged: each query alone'}); "
        f"import {result.import_s:.1f} s",
        "",
        "| phase | wall s | rules evaluated | errors | worker busy s | worker CPU s "
        "| process CPU s | max lag s | notifications | eval p50 / p95 / p99 / max ms "
        "| queries answered / statements run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [result.cold, *result.rounds]:
        name = "cold pass (all due)" if r.round == 0 else f"round {r.round}"
        lat = r.latency
        lag = "-" if r.round == 0 else f"{r.max_lag_s:.2f}"
        lines.append(
            f"| {name} | {r.wall_s:.1f} | {r.evaluations} | {r.errors} | {r.busy_s:.1f} "
            f"| {r.worker_cpu_s:.1f} | {r.process_cpu_s:.1f} | {lag} | {r.notifications} "
            f"| {_ms(lat.p50_ms)} / {_ms(lat.p95_ms)} / {_ms(lat.p99_ms)} / {_ms(lat.max_ms)} "
            f"| {r.queries} / {r.statements} |"
        )
    states = ", ".join(f"{k} {v}" for k, v in sorted(result.instances.items()) if v)
    lines += ["", f"alert instances at the end: {states or 'none'}"]
    verdict = "yes" if result.kept_up() else "NO"
    lines.append(
        f"kept up: {verdict} (every round busy < {c.interval_s:g} s and no rule a whole "
        "interval late)"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- data


def _step_bodies(spec: DatasetSpec) -> Iterator[tuple[int, bytes]]:
    """(time, body) per timestamp of ``spec``: api-latency lines come step by step."""
    per_step = 2 * spec.hosts * ENDPOINTS_PER_SERVICE  # a latency and a count per endpoint
    step = 0
    for chunk in line_chunks(spec):
        for begin in range(0, len(chunk), per_step):
            yield spec.start_ns + step * spec.interval_ns, to_bytes(chunk.slice(begin, per_step))
            step += 1


class LiveData:
    """Backfills the last minutes, then writes each step when its time comes."""

    def __init__(self, storage: Storage, config: AlertBenchConfig, run_s: float) -> None:
        now = time.time_ns()
        interval_ns = DATA_INTERVAL_S * NS_PER_S
        start = (now - BACKFILL_S * NS_PER_S) // interval_ns * interval_ns
        spec = DatasetSpec(
            use_case="api-latency",
            hosts=config.hosts,
            start_ns=start,
            duration_ns=int((BACKFILL_S + run_s) * NS_PER_S),
            interval_ns=interval_ns,
            seed=config.seed,
        )
        self._storage = storage
        self._pending: list[tuple[int, bytes]] = []
        past: list[bytes] = []
        for at, body in _step_bodies(spec):
            if at <= now:
                past.append(body)
            else:
                self._pending.append((at, body))
        storage.create_database(DATABASE)
        self._write(b"".join(past))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-live-data", daemon=True)

    def _write(self, body: bytes) -> None:
        if body:
            self._storage.write_lines(DATABASE, None, body, "ns", time.time_ns())

    def _run(self) -> None:
        for at, body in self._pending:
            if self._stop.wait(max(0.0, (at - time.time_ns()) / NS_PER_S)):
                return
            self._write(body)

    def __enter__(self) -> LiveData:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- the worker


class RecordingHistogram(Histogram):
    """The worker's evaluation histogram, also keeping every observation (seconds)."""

    def __init__(self) -> None:
        super().__init__(
            "crisp_alerting_evaluation_seconds",
            "Time to evaluate one rule (kept by crisp bench alerts).",
            registry=None,
        )
        self.samples: list[float] = []

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        self.samples.append(amount)
        super().observe(amount, exemplar)


@dataclass
class _Totals:
    busy_s: float = 0.0
    worker_cpu_s: float = 0.0
    max_lag_s: float = 0.0
    queries: int = 0
    statements: int = 0


class WorkerDriver:
    """Ticks the worker as WorkerComponent does (tick, then wait what it asks), timing it."""

    def __init__(
        self,
        worker: AlertWorker,
        registry: CollectorRegistry,
        recorder: RecordingHistogram,
        sink: NotificationSink,
    ) -> None:
        self._worker = worker
        self._registry = registry
        self._recorder = recorder
        self._sink = sink

    def evaluations(self) -> tuple[int, int]:
        """Evaluations so far: (all, failed)."""

        def value(result: str) -> int:
            sample = self._registry.get_sample_value(
                "crisp_alerting_rules_evaluated_total", {"result": result}
            )
            return int(sample or 0)

        errors = value("error")
        return value("ok") + errors, errors

    def phase(
        self,
        number: int,
        until: Callable[[float, int], bool],
        on_tick: Callable[[float, int], None],
        measure_lag: bool,
    ) -> RoundResult:
        """Ticks until ``until(elapsed s, evaluations this phase)``; the phase's figures."""
        first_sample = len(self._recorder.samples)
        evaluated0, errors0 = self.evaluations()
        sent0 = self._sink.received
        cpu0 = time.process_time()
        start = time.perf_counter()
        totals = _Totals()
        while True:
            elapsed = time.perf_counter() - start
            done = self.evaluations()[0] - evaluated0
            on_tick(elapsed, done)
            if until(elapsed, done):
                break
            if measure_lag:
                totals.max_lag_s = max(totals.max_lag_s, _schedule_lag_s())
            tick_start, tick_cpu = time.perf_counter(), time.thread_time()
            pause = self._worker.tick()
            totals.busy_s += time.perf_counter() - tick_start
            totals.worker_cpu_s += time.thread_time() - tick_cpu
            _, distinct, statements = self._worker.last_tick_queries
            totals.queries += distinct
            totals.statements += statements
            time.sleep(pause)  # as WorkerComponent waits (the worker caps it at 1 s)
        evaluated, errors = self.evaluations()
        return RoundResult(
            round=number,
            wall_s=time.perf_counter() - start,
            evaluations=evaluated - evaluated0,
            errors=errors - errors0,
            busy_s=totals.busy_s,
            worker_cpu_s=totals.worker_cpu_s,
            process_cpu_s=time.process_time() - cpu0,
            max_lag_s=totals.max_lag_s,
            notifications=self._sink.received - sent0,
            latency=summarise(self._recorder.samples[first_sample:]),
            queries=totals.queries,
            statements=totals.statements,
        )


def _schedule_lag_s() -> float:
    """How long the most overdue rule has been due (0 when none is)."""
    from django.db.models import Min
    from django.utils import timezone

    from crisp.console.alerts.models import AlertRule

    now = timezone.now()
    oldest = AlertRule.objects.filter(enabled=True, next_eval_at__lte=now).aggregate(
        oldest=Min("next_eval_at")
    )["oldest"]
    return 0.0 if oldest is None else (now - oldest).total_seconds()


def _never_evaluated() -> int:
    from crisp.console.alerts.models import AlertRule

    return AlertRule.objects.filter(enabled=True, last_eval_at__isnull=True).count()


def _instances_by_state() -> dict[str, int]:
    from django.db.models import Count

    from crisp.console.alerts.models import AlertInstance

    rows = AlertInstance.objects.values("state").annotate(n=Count("id"))
    return {str(row["state"]): int(row["n"]) for row in rows}


ProgressHook = Callable[[str, float, float], None]  # (label, completed, total)


def run_alert_bench(
    config: AlertBenchConfig, storage: Storage, progress: ProgressHook | None = None
) -> AlertBenchResult:
    """The benchmark on a configured, migrated console database and a started engine."""
    import yaml
    from django.db import connection

    from crisp.alerting.rules import load_alert_file
    from crisp.bench.report import machine_description
    from crisp.console.accounts.models import Team
    from crisp.console.alerts.actions import do_import_alert_file
    from crisp.console.alerts.worker import AlertWorker, WorkerOptions
    from crisp.console.alerts.worker_metrics import WorkerMetrics
    from crisp.console.explore.backend import InProcessBackend

    show = progress or (lambda _label, _done, _total: None)
    run_s = COLD_LIMIT_S + config.rounds * config.interval_s + 60
    with NotificationSink() as sink, LiveData(storage, config, run_s):
        document = alert_document(
            config.rules, f"{config.interval_s:g}s", config.firing_share, sink.url, config.seed
        )
        team, _ = Team.objects.get_or_create(slug="alertbench", defaults={"name": "alertbench"})
        started = time.perf_counter()
        # The path of `crisp alerts import`: YAML text, parsed and validated, then upserted.
        alert_file = load_alert_file(yaml.safe_dump(document, sort_keys=False))
        do_import_alert_file(team, alert_file, has_routes=True)
        import_s = time.perf_counter() - started

        registry = CollectorRegistry()
        metrics = WorkerMetrics(registry)
        recorder = RecordingHistogram()
        metrics.evaluation_seconds = recorder
        backend = InProcessBackend(storage)
        worker = AlertWorker(
            lambda: backend,
            metrics,
            options=WorkerOptions(
                default_database=DATABASE,
                external_url="http://bench/alerts/",
                query_families=config.query_families,
            ),
        )
        driver = WorkerDriver(worker, registry, recorder, sink)
        try:
            # Until every rule ran once: a slow pass evaluates early rules again meanwhile.
            cold = driver.phase(
                0,
                lambda elapsed, _done: _never_evaluated() == 0 or elapsed > COLD_LIMIT_S,
                lambda _elapsed, _done: show(
                    "cold pass", config.rules - _never_evaluated(), config.rules
                ),
                measure_lag=False,
            )

            def round_progress(label: str) -> Callable[[float, int], None]:
                return lambda elapsed, _done: show(label, elapsed, config.interval_s)

            rounds = [
                driver.phase(
                    number,
                    lambda elapsed, _done: elapsed >= config.interval_s,
                    round_progress(f"round {number}/{config.rounds}"),
                    measure_lag=True,
                )
                for number in range(1, config.rounds + 1)
            ]
        finally:
            worker.close()
        return AlertBenchResult(
            config=config,
            database=connection.vendor,
            machine=machine_description(),
            import_s=import_s,
            firing_rules=firing_rules(document),
            cold=cold,
            rounds=rounds,
            instances=_instances_by_state(),
            distinct_queries=distinct_queries(alert_file),
            query_families=query_families(alert_file),
        )


def distinct_queries(alert_file: AlertFile) -> int:
    return len({(r.database or DATABASE, r.query) for r in alert_file.rules if r.query})


def query_families(alert_file: AlertFile) -> int:
    return len({(r.database or DATABASE, family_of(r.query)) for r in alert_file.rules if r.query})


# ---------------------------------------------------------------- the command


def config_from(args: argparse.Namespace) -> AlertBenchConfig:
    return AlertBenchConfig(
        rules=args.rules,
        hosts=args.hosts,
        interval_s=parse_duration_ns(args.interval) / NS_PER_S,
        rounds=args.rounds,
        firing_share=args.firing,
        seed=args.seed,
        query_families=not args.no_query_families,
    )


def run_alerts_command(args: argparse.Namespace) -> int:
    from django.conf import settings as django_settings
    from django.core.management import call_command

    from crisp.console.conf import configure
    from crisp.console.explore.backend import InProcessBackend
    from crisp.core.settings import load_settings
    from crisp.runtime.storage_node import parse_logged_lines
    from crisp.storage.engine import Engine, EngineOptions

    config = config_from(args)
    if django_settings.configured:
        raise RuntimeError("crisp bench alerts sets up its own console; run it in a new process")
    with tempfile.TemporaryDirectory(prefix="crisp-bench-alerts-") as tmp:
        data_dir = Path(tmp)
        settings = replace(
            load_settings({}), data_dir=data_dir, database_url=args.database_url or ""
        )
        engine = Engine(
            data_dir / "engine",
            EngineOptions(wal_fsync=settings.wal_fsync, parse_lines=parse_logged_lines),
        )
        try:
            configure(settings, lambda: InProcessBackend(engine))
            call_command("migrate", interactive=False, verbosity=0)
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),  # stdout carries the report
                transient=True,
                disable=args.no_progress or not sys.stderr.isatty(),
            ) as bar:
                tasks: dict[str, Any] = {}

                def show(label: str, done: float, total: float) -> None:
                    if label not in tasks:
                        tasks[label] = bar.add_task(label, total=total)
                    bar.update(tasks[label], completed=done)

                result = run_alert_bench(config, engine, show)
        finally:
            engine.close()
    print(describe(result))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    return 0
