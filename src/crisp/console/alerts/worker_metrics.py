"""The worker's self-metrics (``crisp_alerting_*``), registered on the registry it is given."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from crisp.alerting.evaluation import State


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rules_evaluated = Counter(
            "crisp_alerting_rules_evaluated_total",
            "Rule evaluations, by result (ok: the query answered; error: it failed).",
            ["result"],
            registry=registry,
        )
        self.evaluation_seconds = Histogram(
            "crisp_alerting_evaluation_seconds",
            "Time to evaluate one rule: query, state machine and storing the outcome.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.notifications_sent = Counter(
            "crisp_alerting_notifications_sent_total",
            "Notifications a receiver accepted, by channel type.",
            ["channel_type"],
            registry=registry,
        )
        self.notifications_failed = Counter(
            "crisp_alerting_notifications_failed_total",
            "Notifications that failed after their retries, by channel type.",
            ["channel_type"],
            registry=registry,
        )
        self.instances = Gauge(
            "crisp_alerting_instances",
            "Alert instances by state, as of the worker's last look.",
            ["state"],
            registry=registry,
        )
        for state in State:
            self.instances.labels(state=state.value)
