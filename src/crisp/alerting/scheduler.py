"""When each rule runs: every ``interval``, at a fixed per-rule offset (jitter).

As in Snuba's subscription scheduler, rules sharing an interval do not all run at the
same instant: rule ``r`` runs at the times ``t`` with ``t ≡ offset(r) (mod interval)``,
where ``offset`` is a stable hash of the rule's name modulo its interval. The offset
does not depend on the process (no ``hash()`` randomisation), so every worker and every
restart agree on the schedule, and 5,000 rules at 30 s spread evenly over the 30 s.

The hash is of the rule's *query* (database and text) when it has one, else of its
name: rules that run the same query (a team's warning and critical thresholds on one
p95, say) share a slot, so the worker runs that query once for all of them in one tick
(as Prometheus evaluates a rule group at one instant), while distinct queries, the load,
still spread over the interval. Queries of one family (``crisp.alerting.query_family``:
equal but for their aggregate, e.g. p50/p95/p99 of one metric and filter) hash alike
too, so the worker can answer them with one statement.

``due`` is pure: the worker passes the last run times (stored with the instance states)
and its clock. A rule missing from ``last_run`` has never run and is due at once; a
worker starting cold with many new rules can call ``initial_last_run`` instead so
their first runs spread over one interval.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from crisp.alerting.query_family import family_of
from crisp.alerting.rules import Rule


def offset_ns(name: str, interval_ns: int) -> int:
    """The rule's phase within its interval: stable hash of the name, mod interval."""
    if interval_ns <= 0:
        raise ValueError("interval must be positive")
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % interval_ns


def schedule_key(rule: Rule) -> str:
    """What the rule's offset hashes: its database and query family (or query), or its
    name without one."""
    if rule.query is None:
        return rule.name
    return f"{rule.database or ''}\n{family_of(rule.query)}"


def slot_at_or_before(rule: Rule, now_ns: int) -> int:
    """The latest scheduled run time of ``rule`` that is ≤ ``now_ns``."""
    offset = offset_ns(schedule_key(rule), rule.interval_ns)
    return now_ns - (now_ns - offset) % rule.interval_ns


def next_run_ns(rule: Rule, after_ns: int) -> int:
    """The first scheduled run time of ``rule`` strictly after ``after_ns``."""
    return slot_at_or_before(rule, after_ns) + rule.interval_ns


def due(rules: Iterable[Rule], last_run: Mapping[str, int], now_ns: int) -> list[Rule]:
    """Rules whose latest slot ≤ now has not run yet (missed slots collapse into one run)."""
    out: list[Rule] = []
    for rule in rules:
        last = last_run.get(rule.name)
        if last is None or last < slot_at_or_before(rule, now_ns):
            out.append(rule)
    return out


def next_wakeup_ns(rules: Iterable[Rule], last_run: Mapping[str, int], now_ns: int) -> int | None:
    """When the worker should look again: the earliest next slot over all rules."""
    times = [
        now_ns if rule.name not in last_run else next_run_ns(rule, max(last_run[rule.name], 0))
        for rule in rules
    ]
    return min(times, default=None)


def initial_last_run(rules: Iterable[Rule], now_ns: int) -> dict[str, int]:
    """Last-run times that make each rule's first run its next slot after ``now_ns``."""
    return {rule.name: now_ns for rule in rules}
