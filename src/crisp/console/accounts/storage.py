"""Databases and retention policies on storage, changed through the metrics backend.

Every change is a typed InfluxQL statement rendered by the query model's checked
renderer and run by the backend, so it works the same on the embedded engine, a
``crisp storage`` node or InfluxDB 1.x; names are quoted there, never pasted. The
local rows (``StorageDatabase``, ``StorageRetentionPolicy``) mirror storage: storage
changes first, and ``do_sync_from_storage`` reads back what storage has.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from crisp.console.accounts.models import StorageDatabase, StorageRetentionPolicy
from crisp.console.explore.querymodel import checked_render
from crisp.console.explore.services import metrics_backend
from crisp.query.influxql import ast
from crisp.query.influxql.durations import format_duration, parse_duration

INFINITE = "INF"


def parse_policy_duration(text: str, *, allow_infinite: bool = True) -> int:
    """Nanoseconds of ``30d``, ``12h``, ``1h30m`` …; ``INF`` (keep forever) is 0."""
    value = text.strip()
    if allow_infinite and value.upper() == INFINITE:
        return 0
    try:
        ns = parse_duration(value)
    except ValueError:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30d, 12h, 4w or INF") from None
    if ns <= 0:
        raise ValueError("a duration must be positive (INF keeps points forever)")
    return ns


def format_policy_duration(ns: int) -> str:
    return INFINITE if ns == 0 else format_duration(ns)


def _run(statement: ast.Statement, database: str | None = None) -> None:
    metrics_backend().query(checked_render(statement), database)


def do_create_database(name: str) -> None:
    _run(ast.CreateDatabaseStatement(name=name))


def do_drop_database(name: str) -> None:
    _run(ast.DropDatabaseStatement(name=name))


@dataclass(frozen=True)
class PolicySpec:
    database: str
    name: str
    duration_ns: int
    replication: int = 1
    shard_duration_ns: int | None = None
    default: bool = False

    @classmethod
    def of(cls, policy: StorageRetentionPolicy, database: str) -> PolicySpec:
        shard = policy.shard_duration.strip()
        return cls(
            database=database,
            name=policy.name,
            duration_ns=parse_policy_duration(policy.duration),
            replication=policy.replication,
            shard_duration_ns=parse_policy_duration(shard, allow_infinite=False) if shard else None,
            default=policy.default,
        )


def do_create_retention_policy(spec: PolicySpec) -> None:
    _run_policy(ast.CreateRetentionPolicyStatement, spec)


def do_alter_retention_policy(spec: PolicySpec) -> None:
    _run_policy(ast.AlterRetentionPolicyStatement, spec)


def _run_policy(
    kind: type[ast.CreateRetentionPolicyStatement] | type[ast.AlterRetentionPolicyStatement],
    spec: PolicySpec,
) -> None:
    statement = kind(
        name=spec.name,
        database=spec.database,
        duration_ns=spec.duration_ns,
        replication=spec.replication,
        shard_duration_ns=spec.shard_duration_ns,
        default=spec.default,
    )
    _run(statement, spec.database)


def do_drop_retention_policy(database: str, name: str) -> None:
    _run(ast.DropRetentionPolicyStatement(name=name, database=database), database)


def storage_policies(database: str) -> list[dict[str, object]]:
    """``SHOW RETENTION POLICIES`` of one database, one dict per policy."""
    statement = ast.ShowRetentionPoliciesStatement(database=database)
    policies: list[dict[str, object]] = []
    for result in metrics_backend().run(statement, database):
        for series in result.get("series", []):
            policies += [
                dict(zip(series["columns"], row, strict=False)) for row in series["values"]
            ]
    return policies


@transaction.atomic
def do_sync_from_storage() -> tuple[int, int]:
    """Make the local rows what storage has; (rows added or changed, rows removed)."""
    changed = removed = 0
    names = metrics_backend().databases()
    removed += (
        StorageDatabase.objects.exclude(name__in=names)
        .delete()[1]
        .get(StorageDatabase._meta.label, 0)
    )
    for name in names:
        database, created = StorageDatabase.objects.get_or_create(name=name)
        changed += created
        seen = []
        for row in storage_policies(name):
            seen.append(str(row["name"]))
            shard = parse_duration(str(row["shardGroupDuration"]))
            values = {
                "duration": format_policy_duration(parse_duration(str(row["duration"]))),
                "shard_duration": format_duration(shard) if shard else "",
                "replication": int(str(row["replicaN"])),
                "default": bool(row["default"]),
            }
            policy, created = StorageRetentionPolicy.objects.get_or_create(
                database=database, name=str(row["name"]), defaults=values
            )
            if not created and any(getattr(policy, k) != v for k, v in values.items()):
                StorageRetentionPolicy.objects.filter(pk=policy.pk).update(**values)
                created = True
            changed += created
        removed += database.retention_policies.exclude(name__in=seen).delete()[0]
    return changed, removed
