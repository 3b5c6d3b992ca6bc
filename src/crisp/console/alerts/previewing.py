"""Run a rule's preview on the console's metrics backend (see crisp.alerting.preview)."""

from __future__ import annotations

from typing import Any

from crisp.alerting.preview import preview_query, preview_step, replay
from crisp.alerting.rules import Rule
from crisp.console.explore.services import metrics_backend


def rule_preview(rule: Rule, database: str, range_ns: int) -> dict[str, Any]:
    """The preview answer; BackendError propagates (the API turns it into its status)."""
    step = preview_step(rule, range_ns)
    query = preview_query(rule, range_ns, step)
    results = metrics_backend().query(query, database)
    replayed = replay(rule, results[0] if results else {"statement_id": 0}, step)
    return {
        "query": query,
        "database": database,
        "step_ns": step,
        "condition": rule.condition.op,
        "threshold": rule.condition.threshold,
        "series": [
            {
                "tags": dict(s.tags),
                "points": s.points,
                "states": s.states,
                "firing": s.firing,
            }
            for s in replayed
        ],
    }
