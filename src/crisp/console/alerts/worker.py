"""The alerting worker: evaluates due rules, stores states and history, sends notifications.

One :meth:`AlertWorker.tick` does what is due now:

1. *rules*: each enabled rule whose ``next_eval_at`` has passed is claimed with a lease
   (one conditional UPDATE: only one worker wins), its query runs on the console's
   metrics backend, :func:`crisp.alerting.evaluation.evaluate` gives new states and
   transitions, and those are stored with the rule's next slot
   (:mod:`crisp.alerting.scheduler`, jittered per rule) in one transaction. Transitions
   that notify and are not silenced join their channels' notification groups;
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet

from crisp.alerting import evaluation, grouping, scheduler
from crisp.alerting.payloads import Notification
from crisp.alerting.routes import Destination, destinations
from crisp.alerting.rules import Rule
from crisp.alerting.silences import is_silenced
from crisp.console.alerts import models
from crisp.console.alerts.convert import (
    from_ns,
    group_state,
    group_timing,
    instance_state,
    route_values,
    rule_value,
    silence_value,
    store_group_state,
)
from crisp.console.alerts.sending import do_send
from crisp.console.alerts.worker_metrics import WorkerMetrics
from crisp.console.explore.backend import BackendError, MetricsBackend
from crisp.query.results import StatementResult

log = logging.getLogger(__name__)

_LEASE = timedelta(seconds=60)
_BATCH = 200
_MAX_SLEEP = 1.0
_MIN_SLEEP = 0.01
_PRUNE_EVERY_NS = 300 * 1_000_000_000
_INSTANCE_FIELDS = (
    "tags", "state", "since_ns", "value", "active_since_ns", "last_breach_ns", "last_eval_ns",
    "error",
)  # fmt: skip


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
    history_retention: timedelta = timedelta(days=30)


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

    def close(self) -> None:
        self._client.close()

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
        for pk in self._claim_each(rules, due_rules, now):
            try:
                self._evaluate(pk, now_ns)
            except Exception as exc:
                # One broken rule must not stop the others: record it, run it next slot.
                log.exception("alert rule %s: evaluation failed", pk)
                self._metrics.rules_evaluated.labels(result="error").inc()
                self._release_rule(pk, now_ns, f"internal error: {type(exc).__name__}: {exc}")
        groups = models.NotificationGroup.objects.order_by("next_flush_ns", "pk")
        for pk in self._claim_each(groups, Q(next_flush_ns__lte=now_ns), now):
            try:
                self._flush(pk, now_ns)
            except Exception:
                log.exception("notification group %s: flush failed", pk)
                groups.filter(pk=pk, lease_owner=self.name).update(lease_owner="", lease_until=None)
        self._count_instances()
        self._prune(now_ns)
        return self._sleep_seconds(self._clock())

    # ---------------------------------------------------------------- leases

    def _claim_each(self, rows: QuerySet[Any], due: Q, now: datetime) -> Iterator[int]:
        """Primary keys of due rows, each yielded once this worker holds its lease.

        Rows are claimed one at a time, just before their work, so a lease covers one
        evaluation or one send however long the whole tick takes.
        """
        candidates = list(
            rows.filter(due)
            .filter(_lease_free(now))
            .values_list("pk", flat=True)[: self._options.batch]
        )
        for pk in candidates:
            # The condition is checked again inside the UPDATE: of two workers racing for
            # a row, exactly one sees "1 row updated".
            lease_until = from_ns(self._clock()) + self._options.lease
            won = (
                rows.filter(pk=pk)
                .filter(due)
                .filter(_lease_free(now))
                .update(lease_owner=self.name, lease_until=lease_until)
            )
            if won:
                yield pk

    # ---------------------------------------------------------------- rules

    def _evaluate(self, pk: int, now_ns: int) -> None:
        row = models.AlertRule.objects.select_related("team").get(pk=pk)
        started = time.perf_counter()
        try:
            rule = rule_value(row)
        except ValueError as exc:  # a spec stored before a format change
            self._finish_rule(row, None, now_ns, f"invalid rule: {exc}", started)
            return
        if rule.query is None:
            self._finish_rule(row, rule, now_ns, "the rule has no query", started)
            return
        result = self._query(rule)
        failed = isinstance(result, BaseException)
        previous = {evaluation.instance_key(i.tags): i for i in row.instances.all()}
        outcome = evaluation.evaluate(
            rule, result, {k: instance_state(i) for k, i in previous.items()}, now_ns
        )
        with transaction.atomic():
            self._store_states(row, previous, outcome.states)
            self._store_transitions(row, rule, outcome.transitions, previous, now_ns)
            self._finish_rule(row, rule, now_ns, str(result) if failed else "", started)
        self._metrics.rules_evaluated.labels(result="error" if failed else "ok").inc()
        self._metrics.evaluation_seconds.observe(time.perf_counter() - started)

    def _query(self, rule: Rule) -> StatementResult | BaseException:
        assert rule.query is not None
        database = rule.database or self._options.default_database
        try:
            results = self._backend().query(rule.query, database)
        except BackendError as exc:
            return exc
        if not results:
            return evaluation.QueryFailed("the query returned no statement result")
        return results[0]

    def _finish_rule(
        self, row: models.AlertRule, rule: Rule | None, now_ns: int, error: str, started: float
    ) -> None:
        interval_rule = rule or Rule(row.name, None)
        models.AlertRule.objects.filter(pk=row.pk, lease_owner=self.name).update(
            last_eval_at=from_ns(now_ns),
            last_eval_seconds=time.perf_counter() - started,
            last_error=error[:2000],
            next_eval_at=from_ns(scheduler.next_run_ns(interval_rule, now_ns)),
            lease_owner="",
            lease_until=None,
        )

    def _release_rule(self, pk: int, now_ns: int, error: str) -> None:
        row = models.AlertRule.objects.filter(pk=pk).first()
        if row is None:
            return
        try:
            rule: Rule | None = rule_value(row)
        except ValueError:
            rule = None
        self._finish_rule(row, rule, now_ns, error, time.perf_counter())

    def _store_states(
        self,
        row: models.AlertRule,
        previous: dict[evaluation.InstanceKey, models.AlertInstance],
        states: dict[evaluation.InstanceKey, evaluation.InstanceState],
    ) -> None:
        # Bulk statements: a rule over many series costs a few queries, not one per series.
        gone = [i.pk for k, i in previous.items() if k not in states]
        if gone:
            models.AlertInstance.objects.filter(pk__in=gone).delete()
        changed: list[models.AlertInstance] = []
        created: list[models.AlertInstance] = []
        for key, state in states.items():
            stored = previous.get(key)
            if stored is None:
                stored = models.AlertInstance(rule=row, key_hash=_key_hash(dict(key)))
                created.append(stored)
            else:
                changed.append(stored)
            stored.tags = dict(state.tags)
            stored.state = state.state.value
            stored.since_ns = state.since_ns
            stored.value = state.value
            stored.active_since_ns = state.active_since_ns
            stored.last_breach_ns = state.last_breach_ns
            stored.last_eval_ns = state.last_eval_ns
            stored.error = state.error or ""
        if created:
            models.AlertInstance.objects.bulk_create(created)
        if changed:
            models.AlertInstance.objects.bulk_update(changed, _INSTANCE_FIELDS, batch_size=500)

    def _store_transitions(
        self,
        row: models.AlertRule,
        rule: Rule,
        transitions: list[evaluation.Transition],
        previous: dict[evaluation.InstanceKey, models.AlertInstance],
        now_ns: int,
    ) -> None:
        if not transitions:
            return
        silences = [
            silence_value(s)
            for s in models.Silence.objects.filter(
                team=row.team, starts_at__lte=from_ns(now_ns), ends_at__gt=from_ns(now_ns)
            ).select_related("created_by")
        ]
        routes = route_values(models.Route.objects.filter(team=row.team).order_by("position"))
        channels = {c.name: c for c in models.Channel.objects.filter(team=row.team)}
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
            starts = prev.since_ns if status == "resolved" and prev is not None else t.at_ns
            entry = grouping.entry_for(t, status, starts)
            for dest in destinations(t.labels, rule.notify, routes):
                channel = channels.get(dest.channel)
                if channel is None:
                    log.warning(
                        "rule %s: no channel %r in team %s", row.name, dest.channel, row.team
                    )
                    continue
                self._add_to_group(channel, dest, entry, now_ns)
        models.AlertTransition.objects.bulk_create(history)

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

    def _count_instances(self) -> None:
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
