"""The alerting worker: evaluates due rules, stores states and history, sends notifications.

One :meth:`AlertWorker.tick` does what is due now:

1. *rules*: enabled rules whose ``next_eval_at`` has passed are claimed in batches with
   a lease (one conditional UPDATE per batch: of racing workers, one wins each row),
   their queries run on the console's metrics backend (each distinct query once a tick,
   on a small thread pool: :mod:`~crisp.console.alerts.worker_queries`),
   :func:`crisp.alerting.evaluation.evaluate` gives new states and transitions, and the
   batch's states, history and next slots (:mod:`crisp.alerting.scheduler`, jittered
   per query) are stored in one transaction while the next batch's queries run.
   Transitions that notify and are not silenced join their channels' notification
   groups;
2. *groups*: each group whose flush time has passed is claimed the same way, sent if
   :mod:`crisp.alerting.grouping` says so, and updated.

Leases make every step run on one worker at a time, so several workers (sharing a
PostgreSQL database, or SQLite on one machine) send each notification once. A worker
that dies holding a lease delays its rows by the lease's length; then another takes
them over (that send may repeat: at-least-once beats never).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple, TypeVar

import httpx
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet

from crisp.alerting import evaluation, grouping, scheduler
from crisp.alerting.payloads import Notification
from crisp.alerting.routes import Destination, destinations
from crisp.alerting.routes import Route as RouteValue
from crisp.alerting.rules import Rule
from crisp.alerting.silences import Silence, is_silenced
from crisp.console.alerts import models
from crisp.console.alerts.convert import (
    from_ns,
    group_state,
    group_timing,
    route_values,
    rule_value,
    silence_value,
    store_group_state,
)
from crisp.console.alerts.sending import do_send
from crisp.console.alerts.worker_metrics import WorkerMetrics
from crisp.console.alerts.worker_queries import QueryCrashed, QueryKey, TickQueries
from crisp.console.alerts.worker_store import update_rows
from crisp.console.explore.backend import MetricsBackend

log = logging.getLogger(__name__)

_LEASE = timedelta(seconds=60)
_BATCH = 200
_EVAL_BATCH = 50
# 3, on 2 cores: DuckDB releases the GIL while it scans, and with 2 threads a query's
# Python half (parse, plan, snapshot) left the other core idle. `crisp bench alerts`,
# 5,000 rules: ~4,800 against ~3,700 rules evaluated per 30 s (docs/BENCHMARKS.md).
_QUERY_THREADS = 3
_MAX_SLEEP = 1.0
_MIN_SLEEP = 0.01
_PRUNE_EVERY_NS = 300 * 1_000_000_000
_COUNT_EVERY_NS = 10 * 1_000_000_000
_INSTANCE_FIELDS = (
    "tags", "state", "since_ns", "value", "active_since_ns", "last_breach_ns", "last_eval_ns",
    "error",
)  # fmt: skip
_FINISH_FIELDS = (
    "last_eval_at", "last_eval_seconds", "last_error", "next_eval_at", "lease_owner",
    "lease_until",
)  # fmt: skip


_T = TypeVar("_T")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _key_hash(tags: Mapping[str, str]) -> str:
    text = json.dumps(sorted(tags.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lease_free(now: object) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


@dataclass
class WorkerOptions:
    default_database: str = "metrics"
    external_url: str = ""
    lease: timedelta = _LEASE
    batch: int = _BATCH
    """Due rules a tick takes on at most (the rest wait for the next tick)."""
    eval_batch: int = _EVAL_BATCH
    """Rules claimed, evaluated and stored together, in one transaction."""
    query_threads: int = _QUERY_THREADS
    """Queries run at once; 1 runs them on the worker's thread."""
    query_families: bool = True
    """Answer a tick's queries that differ only in their aggregate with one statement
    (``crisp.alerting.query_family``)."""
    history_retention: timedelta = timedelta(days=30)


class _StoredInstance(NamedTuple):
    pk: int
    state: evaluation.InstanceState


def _instance_state(values: Sequence[Any]) -> evaluation.InstanceState:
    """An InstanceState from the values of ``_INSTANCE_FIELDS``."""
    tags, state, since_ns, value, active_since_ns, last_breach_ns, last_eval_ns, error = values
    return evaluation.InstanceState(
        state=evaluation.State(state),
        since_ns=since_ns,
        tags=tags,
        value=value,
        active_since_ns=active_since_ns,
        last_breach_ns=last_breach_ns,
        error=error or None,
        last_eval_ns=last_eval_ns,
    )


@dataclass
class _Evaluated:
    """One claimed rule, evaluated (``outcome``) or not (invalid, no query): to store."""

    row: models.AlertRule
    rule: Rule | None
    error: str
    own_seconds: float = 0.0
    """Its query and its state machine; storing, shared by the batch, comes on top."""
    previous: Mapping[evaluation.InstanceKey, _StoredInstance] = field(default_factory=dict)
    outcome: evaluation.Evaluation | None = None
    failed: bool = False
    seconds: float = 0.0


@dataclass
class _Batch:
    """Rules claimed together: loaded, their queries started, then evaluated and stored."""

    pks: list[int]
    instances: dict[int, dict[evaluation.InstanceKey, _StoredInstance]] = field(
        default_factory=dict
    )
    pending: list[tuple[models.AlertRule, Rule, QueryKey, float]] = field(default_factory=list)
    done: list[_Evaluated] = field(default_factory=list)


class _RuleCache:
    """Parsed rules by stored spec: parsing and rendering a spec costs more than a query's
    planning, and specs rarely change."""

    _LIMIT = 20_000

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def get(self, row: models.AlertRule) -> Rule:
        key = json.dumps(row.spec, sort_keys=True)
        rule = self._rules.get(key)
        if rule is None:
            rule = rule_value(row)
            if len(self._rules) >= self._LIMIT:
                self._rules.clear()
            self._rules[key] = rule
        return rule


class _TeamRouting:
    """Silences, routes and channels per team, read once per stored batch."""

    def __init__(self) -> None:
        self._teams: dict[
            int, tuple[list[Silence], list[RouteValue], dict[str, models.Channel]]
        ] = {}

    def of(
        self, team: Any, now_ns: int
    ) -> tuple[list[Silence], list[RouteValue], dict[str, models.Channel]]:
        if team.pk not in self._teams:
            silences = [
                silence_value(s)
                for s in models.Silence.objects.filter(
                    team=team, starts_at__lte=from_ns(now_ns), ends_at__gt=from_ns(now_ns)
                ).select_related("created_by")
            ]
            routes = route_values(models.Route.objects.filter(team=team).order_by("position"))
            channels = {c.name: c for c in models.Channel.objects.filter(team=team)}
            self._teams[team.pk] = (silences, routes, channels)
        return self._teams[team.pk]


def _instance_values(state: evaluation.InstanceState) -> list[Any]:
    """``state`` as the values of ``_INSTANCE_FIELDS``."""
    return [
        dict(state.tags),
        state.state.value,
        state.since_ns,
        state.value,
        state.active_since_ns,
        state.last_breach_ns,
        state.last_eval_ns,
        state.error or "",
    ]


def _finish_values(item: _Evaluated, now_ns: int, owner: str) -> list[Any]:
    """``_FINISH_FIELDS`` of a rule done with (its lease released), then its lease owner."""
    interval_rule = item.rule or Rule(item.row.name, None)
    return [
        from_ns(now_ns),
        item.seconds,
        item.error[:2000],
        from_ns(scheduler.next_run_ns(interval_rule, now_ns)),
        "",
        None,
        owner,
    ]


class AlertWorker:
    def __init__(
        self,
        backend: Callable[[], MetricsBackend],
        metrics: WorkerMetrics,
        *,
        options: WorkerOptions | None = None,
        name: str | None = None,
        clock: Callable[[], int] = time.time_ns,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._backend = backend
        self._metrics = metrics
        self._options = options or WorkerOptions()
        self.name = name or worker_name()
        self._clock = clock
        self._environ = environ
        self._client = httpx.Client(timeout=10)
        self._pruned_at_ns: int | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._rules = _RuleCache()
        self._counted_at_ns: int | None = None
        self._states_changed = False
        self.last_tick_queries = (0, 0, 0)
        """(rule evaluations that ran a query, distinct queries answered, statements
        started: a query family's count once) in the last tick."""

    def close(self) -> None:
        self._client.close()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def tick(self) -> float:
        """Run what is due; seconds until something may be due again."""
        now_ns = self._clock()
        now = from_ns(now_ns)
        # Most overdue first (new rules before all): a worker behind schedule still
        # reaches every rule, rather than re-running the lowest ids' over and over.
        rules = models.AlertRule.objects.filter(enabled=True).order_by(
            F("next_eval_at").asc(nulls_first=True), "pk"
        )
        due_rules = Q(next_eval_at__isnull=True) | Q(next_eval_at__lte=now)
        queries = TickQueries(
            self._backend, self._query_pool(), families=self._options.query_families
        )
        # A pipeline: the next batch's queries run on the pool while this thread stores
        # the batch before it.
        waiting: _Batch | None = None
        for pks in self._claim_batches(rules, due_rules, now):
            batch = self._guarded(pks, now_ns, partial(self._prepare, pks, queries))
            if waiting is not None:
                self._finish_batch(waiting, now_ns, queries)
            waiting = batch
        if waiting is not None:
            self._finish_batch(waiting, now_ns, queries)
        self.last_tick_queries = (queries.asked, queries.distinct, queries.statements)
        groups = models.NotificationGroup.objects.order_by("next_flush_ns", "pk")
        for pk in self._claim_each(groups, Q(next_flush_ns__lte=now_ns), now):
            try:
                self._flush(pk, now_ns)
            except Exception:
                log.exception("notification group %s: flush failed", pk)
                groups.filter(pk=pk, lease_owner=self.name).update(lease_owner="", lease_until=None)
        self._count_instances(now_ns)
        self._prune(now_ns)
        return self._sleep_seconds(self._clock())

    def _query_pool(self) -> ThreadPoolExecutor | None:
        if self._options.query_threads <= 1:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self._options.query_threads, thread_name_prefix="crisp-alert-query"
            )
        return self._pool

    # ---------------------------------------------------------------- leases

    def _claim_each(self, rows: QuerySet[Any], due: Q, now: datetime) -> Iterator[int]:
        """Primary keys of due rows, each yielded once this worker holds its lease.

        Rows are claimed one at a time, just before their work, so a lease covers one
        send however long the whole tick takes.
        """
        for pks in self._claim_batches(rows, due, now, size=1):
            yield from pks

    def _claim_batches(
        self, rows: QuerySet[Any], due: Q, now: datetime, size: int | None = None
    ) -> Iterator[list[int]]:
        """Due rows in batches of ``size``, each batch claimed just before its work.

        A batch's lease covers one batch of evaluations (a fraction of a second), not the
        whole tick.
        """
        candidates = list(
            rows.filter(due)
            .filter(_lease_free(now))
            .values_list("pk", flat=True)[: self._options.batch]
        )
        size = size or max(1, self._options.eval_batch)
        for begin in range(0, len(candidates), size):
            chunk = candidates[begin : begin + size]
            # The condition is checked again inside the UPDATE: of two workers racing for
            # a row, exactly one updates it; each then reads back the rows it holds.
            lease_until = from_ns(self._clock()) + self._options.lease
            try:
                won = (
                    rows.filter(pk__in=chunk)
                    .filter(due)
                    .filter(_lease_free(now))
                    .update(lease_owner=self.name, lease_until=lease_until)
                )
            except DatabaseError:
                # PostgreSQL may end one of two racing multi-row claims as a deadlock:
                # the other worker has those rows, or they are due again next tick.
                log.debug("claim of %s lost to another worker", chunk, exc_info=True)
                continue
            if not won:
                continue
            if won == len(chunk):
                yield chunk
                continue
            held = set(
                rows.model.objects.filter(pk__in=chunk, lease_owner=self.name).values_list(
                    "pk", flat=True
                )
            )
            yield [pk for pk in chunk if pk in held]

    # ---------------------------------------------------------------- rules

    def _finish_batch(self, batch: _Batch, now_ns: int, queries: TickQueries) -> None:
        self._guarded(batch.pks, now_ns, partial(self._complete, batch, now_ns, queries))

    def _guarded(self, pks: list[int], now_ns: int, work: Callable[[], _T]) -> _T | None:
        try:
            return work()
        except Exception as exc:
            # Not one rule's fault (those are caught rule by rule): the database, say.
            log.exception("alert rules %s: evaluation failed", pks)
            for pk in pks:
                self._crashed(pk, now_ns, exc)
            return None

    def _prepare(self, pks: list[int], queries: TickQueries) -> _Batch:
        """Load the rules ``pks`` (held by this worker) and start their queries."""
        batch = _Batch(pks)
        rows = models.AlertRule.objects.select_related("team").in_bulk(pks)
        for pk, *values in models.AlertInstance.objects.filter(rule_id__in=pks).values_list(
            "rule_id", "pk", *_INSTANCE_FIELDS
        ):
            stored = _StoredInstance(values[0], _instance_state(values[1:]))
            batch.instances.setdefault(pk, {})[evaluation.instance_key(stored.state.tags)] = stored
        for pk in pks:
            row = rows.get(pk)
            if row is None:
                continue  # deleted since it was claimed
            started = time.perf_counter()
            try:
                rule = self._rules.get(row)
            except ValueError as exc:  # a spec stored before a format change
                batch.done.append(_Evaluated(row, None, f"invalid rule: {exc}"))
                continue
            if rule.query is None:
                batch.done.append(_Evaluated(row, rule, "the rule has no query"))
                continue
            key = (rule.database or self._options.default_database, rule.query)
            batch.pending.append((row, rule, key, time.perf_counter() - started))
        queries.submit(key for _, _, key, _ in batch.pending)
        return batch

    def _complete(self, batch: _Batch, now_ns: int, queries: TickQueries) -> None:
        """Evaluate ``batch`` on its queries' answers and store it in one transaction.

        A rule whose query fails gets its error state like any other; a rule that
        breaks the worker is recorded and released, and the others go on.
        """
        for row, rule, key, spent in batch.pending:
            answer = queries.answer(key)
            started = time.perf_counter()
            if isinstance(answer.result, QueryCrashed):
                self._crashed(row.pk, now_ns, answer.result.cause)
                continue
            previous = batch.instances.get(row.pk, {})
            try:
                outcome = evaluation.evaluate(
                    rule, answer.result, {k: i.state for k, i in previous.items()}, now_ns
                )
            except Exception as exc:
                log.exception("alert rule %s: evaluation failed", row.pk)
                self._crashed(row.pk, now_ns, exc)
                continue
            failed = isinstance(answer.result, BaseException)
            error = str(answer.result) if failed else ""
            spent += answer.seconds + time.perf_counter() - started
            batch.done.append(_Evaluated(row, rule, error, spent, previous, outcome, failed))
        self._store_batch(batch.done, now_ns)

    def _store_batch(self, batch: list[_Evaluated], now_ns: int) -> None:
        try:
            with transaction.atomic():
                self._store(batch, now_ns)
        except Exception:
            if len(batch) == 1:
                raise
            # One rule's rows broke the batch: store them one by one, so only it fails.
            log.exception("alert rules: storing a batch of %d failed; one by one", len(batch))
            for item in batch:
                try:
                    with transaction.atomic():
                        self._store([item], now_ns)
                except Exception as exc:
                    log.exception("alert rule %s: storing failed", item.row.pk)
                    self._crashed(item.row.pk, now_ns, exc)
                else:
                    self._count([item])
            return
        self._count(batch)

    def _count(self, batch: list[_Evaluated]) -> None:
        for item in batch:
            if item.outcome is None:
                continue  # not evaluated (invalid or no query): as before, not counted
            self._metrics.rules_evaluated.labels(result="error" if item.failed else "ok").inc()
            self._metrics.evaluation_seconds.observe(item.seconds)

    def _crashed(self, pk: int, now_ns: int, exc: BaseException) -> None:
        # One broken rule must not stop the others: record it, run it next slot.
        self._metrics.rules_evaluated.labels(result="error").inc()
        self._release_rule(pk, now_ns, f"internal error: {type(exc).__name__}: {exc}")

    def _store(self, batch: list[_Evaluated], now_ns: int) -> None:
        """States, history and next slots of ``batch``, in the caller's transaction."""
        store_started = time.perf_counter()
        gone: list[int] = []
        created: list[models.AlertInstance] = []
        changed: list[tuple[Any, list[Any]]] = []
        teams = _TeamRouting()
        history: list[models.AlertTransition] = []
        for item in batch:
            if item.outcome is None or item.rule is None:
                continue
            states = item.outcome.states
            gone.extend(i.pk for k, i in item.previous.items() if k not in states)
            for key, state in states.items():
                values = _instance_values(state)
                stored = item.previous.get(key)
                if stored is None:
                    created.append(
                        models.AlertInstance(
                            rule=item.row,
                            key_hash=_key_hash(dict(key)),
                            **dict(zip(_INSTANCE_FIELDS, values, strict=True)),
                        )
                    )
                else:
                    changed.append((stored.pk, values))
            history.extend(
                self._store_transitions(
                    item.row, item.rule, item.outcome.transitions, item.previous, now_ns, teams
                )
            )
        if gone:
            models.AlertInstance.objects.filter(pk__in=gone).delete()
        if created:
            models.AlertInstance.objects.bulk_create(created)
        update_rows(models.AlertInstance, _INSTANCE_FIELDS, changed)
        if history:
            models.AlertTransition.objects.bulk_create(history)
        if history or gone or created:
            self._states_changed = True
        # Each rule's time: its query, its state machine and its share of storing.
        share = (time.perf_counter() - store_started) / max(1, len(batch))
        finished: list[tuple[Any, list[Any]]] = []
        for item in batch:
            item.seconds = item.own_seconds + share
            finished.append((item.row.pk, _finish_values(item, now_ns, self.name)))
        update_rows(models.AlertRule, _FINISH_FIELDS, finished, where=("lease_owner",))

    def _release_rule(self, pk: int, now_ns: int, error: str) -> None:
        row = models.AlertRule.objects.filter(pk=pk).first()
        if row is None:
            return
        try:
            rule: Rule | None = rule_value(row)
        except ValueError:
            rule = None
        item = _Evaluated(row, rule, error)
        update_rows(
            models.AlertRule,
            _FINISH_FIELDS,
            [(pk, _finish_values(item, now_ns, self.name))],
            where=("lease_owner",),
        )

    def _store_transitions(
        self,
        row: models.AlertRule,
        rule: Rule,
        transitions: list[evaluation.Transition],
        previous: Mapping[evaluation.InstanceKey, _StoredInstance],
        now_ns: int,
        teams: _TeamRouting,
    ) -> list[models.AlertTransition]:
        """The history rows of ``transitions``; those that notify join their groups."""
        if not transitions:
            return []
        silences, routes, channels = teams.of(row.team, now_ns)
        history: list[models.AlertTransition] = []
        for t in transitions:
            silenced = is_silenced(t.labels, silences, now_ns)
            history.append(
                models.AlertTransition(
                    rule=row,
                    tags=dict(t.key),
                    from_state=t.from_state.value,
                    to_state=t.to_state.value,
                    at=from_ns(t.at_ns),
                    value=t.value,
                    labels=dict(t.labels),
                    annotations=dict(t.annotations),
                    error=t.error or "",
                    silenced=silenced,
                )
            )
            status = grouping.notification_status(t)
            if status is None or silenced:
                continue
            prev = previous.get(t.key)
            # A resolved alert keeps the start of the firing it ends.
            starts = prev.state.since_ns if status == "resolved" and prev is not None else t.at_ns
            entry = grouping.entry_for(t, status, starts)
            for dest in destinations(t.labels, rule.notify, routes):
                channel = channels.get(dest.channel)
                if channel is None:
                    log.warning(
                        "rule %s: no channel %r in team %s", row.name, dest.channel, row.team
                    )
                    continue
                self._add_to_group(channel, dest, entry, now_ns)
        return history

    def _add_to_group(
        self, channel: models.Channel, dest: Destination, entry: grouping.AlertEntry, now_ns: int
    ) -> None:
        labels = dest.group_labels(entry.labels)
        key = grouping.group_key(channel.name, dest.route_index, labels)
        timing = dest.route.timing
        for _ in range(2):  # a second try when another worker created the row meanwhile
            try:
                with transaction.atomic():
                    group = (
                        models.NotificationGroup.objects.select_for_update()
                        .filter(channel=channel, key=key)
                        .first()
                    )
                    if group is None:
                        group = models.NotificationGroup(
                            channel=channel,
                            key=key,
                            route_index=dest.route_index,
                            group_labels=labels,
                            group_wait_ns=timing.group_wait_ns,
                            group_interval_ns=timing.group_interval_ns,
                            repeat_interval_ns=timing.repeat_interval_ns,
                        )
                        state = grouping.add_alert(None, entry, now_ns, timing)
                    else:
                        state = grouping.add_alert(group_state(group), entry, now_ns, timing)
                    store_group_state(group, state)
                    group.save()
                return
            except IntegrityError:
                continue

    # ---------------------------------------------------------------- groups

    def _flush(self, pk: int, now_ns: int) -> None:
        group = models.NotificationGroup.objects.select_related("channel").get(pk=pk)
        timing = group_timing(group)
        due = grouping.due_alerts(group_state(group), now_ns, timing)
        if due is not None and self._muted(group, now_ns):
            due = None  # looked at again one group_interval on, when the window may be over
        delivered = False
        if due is not None:
            notification = Notification(
                group.channel.name, group.key, group.group_labels, due, self._options.external_url
            )
            sent = do_send(
                group.channel,
                notification,
                client=self._client,
                worker=self.name,
                environ=self._environ,
            )
            delivered = sent.ok
            counter = (
                self._metrics.notifications_sent
                if delivered
                else self._metrics.notifications_failed
            )
            counter.labels(channel_type=group.channel.type).inc()
        with transaction.atomic():
            current = models.NotificationGroup.objects.select_for_update().filter(pk=pk).first()
            if current is None:
                return
            after = grouping.after_flush(group_state(current), due, delivered, now_ns, timing)
            if after is None:
                current.delete()
                return
            store_group_state(current, after)
            current.lease_owner, current.lease_until = "", None
            current.save()

    def _muted(self, group: models.NotificationGroup, now_ns: int) -> bool:
        if group.route_index < 0:
            return False
        stored = models.Route.objects.filter(
            team_id=group.channel.team_id, position=group.route_index
        ).first()
        return stored is not None and route_values([stored])[0].muted(now_ns)

    # ---------------------------------------------------------------- bookkeeping

    def _prune(self, now_ns: int) -> None:
        """Drop history past its retention, every few minutes (any worker may; idempotent)."""
        if self._pruned_at_ns is not None and now_ns - self._pruned_at_ns < _PRUNE_EVERY_NS:
            return
        self._pruned_at_ns = now_ns
        cutoff = from_ns(now_ns) - self._options.history_retention
        models.AlertTransition.objects.filter(at__lt=cutoff).delete()
        models.NotificationLog.objects.filter(created__lt=cutoff).delete()

    def _count_instances(self, now_ns: int) -> None:
        """The instances gauge: after a state changed here, else every few seconds.

        A count scans every instance; at thousands of rules the worker ticks every
        second with no state changing in most ticks.
        """
        recent = self._counted_at_ns is not None and now_ns - self._counted_at_ns < _COUNT_EVERY_NS
        if recent and not self._states_changed:
            return
        self._counted_at_ns, self._states_changed = now_ns, False
        counts = dict.fromkeys((state.value for state in evaluation.State), 0)
        for row in models.AlertInstance.objects.values("state").annotate(n=Count("id")):
            counts[row["state"]] = row["n"]
        for state, n in counts.items():
            self._metrics.instances.labels(state=state).set(n)

    def _sleep_seconds(self, now_ns: int) -> float:
        # Rows another worker holds are not ours to wait for: counting them would spin
        # this worker until that lease ends.
        now = from_ns(now_ns)
        free = _lease_free(now)
        rules = models.AlertRule.objects.filter(free, enabled=True)
        if rules.filter(next_eval_at__isnull=True).exists():
            return _MIN_SLEEP
        rule = (
            rules.filter(next_eval_at__isnull=False)
            .order_by("next_eval_at")
            .values_list("next_eval_at", flat=True)
            .first()
        )
        group = (
            models.NotificationGroup.objects.filter(free, next_flush_ns__isnull=False)
            .order_by("next_flush_ns")
            .values_list("next_flush_ns", flat=True)
            .first()
        )
        waits = [_MAX_SLEEP]
        if rule is not None:
            waits.append((rule - now).total_seconds())
        if group is not None:
            waits.append((group - now_ns) / 1e9)
        return max(_MIN_SLEEP, min(waits))
