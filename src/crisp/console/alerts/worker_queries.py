"""A tick's rule queries: each distinct query once, a few at a time.

Queries of one family (``crisp.alerting.query_family``: equal but for their aggregate)
due in the same tick are answered by one merged statement, each rule getting its column.
Rules that run the same query (same database, same InfluxQL text) within one tick share
its answer: the scheduler gives them one slot (:func:`crisp.alerting.scheduler.
schedule_key`), so they come due together, and running the query once per tick gives
each the data it would have got alone, to within the tick's duration. Distinct queries
run on a small thread pool: the embedded engine's DuckDB releases the GIL while it
scans, so a second core answers queries while this one stores states.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from crisp.alerting import evaluation
from crisp.alerting.query_family import Member, member_of, merged_query, split_result
from crisp.console.explore.backend import BackendError, MetricsBackend
from crisp.query.results import StatementResult

QueryKey = tuple[str, str]
"""(database, InfluxQL text)."""


class QueryCrashed(Exception):
    """The backend failed unexpectedly (not a BackendError): a bug, not the rule's state."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


@dataclass(frozen=True)
class QueryAnswer:
    result: StatementResult | BackendError | evaluation.QueryFailed | QueryCrashed
    seconds: float


FamilyAnswers = dict[QueryKey, QueryAnswer]


def run_family(backend: MetricsBackend, members: list[tuple[QueryKey, Member]]) -> FamilyAnswers:
    """The members' answers from one merged statement (``query_family``); each query on
    its own when that statement fails or is not shaped as expected, so one member's
    mistake (say, an aggregate its field's type refuses) stays its own."""
    database = members[0][0][0]
    merged = run_query(backend, (database, merged_query([m for _, m in members])))
    parts = None
    if isinstance(merged.result, dict):
        parts = split_result(merged.result, len(members))
    if parts is None:
        return {key: run_query(backend, key) for key, _ in members}
    share = merged.seconds / len(members)
    return {key: QueryAnswer(part, share) for (key, _), part in zip(members, parts, strict=True)}


def run_query(backend: MetricsBackend, key: QueryKey) -> QueryAnswer:
    database, text = key
    started = time.perf_counter()
    result: StatementResult | BackendError | evaluation.QueryFailed | QueryCrashed
    try:
        results = backend.query(text, database)
    except BackendError as exc:
        result = exc
    except Exception as exc:
        result = QueryCrashed(exc)
    else:
        if results:
            result = results[0]
        else:
            result = evaluation.QueryFailed("the query returned no statement result")
    return QueryAnswer(result, time.perf_counter() - started)


class TickQueries:
    """Answers of one tick, by query.

    ``submit`` starts the queries not asked yet (on the pool, so the worker can store
    the previous batch meanwhile); ``answer`` waits for one.
    """

    def __init__(
        self,
        backend: Callable[[], MetricsBackend],
        pool: ThreadPoolExecutor | None,
        *,
        families: bool = True,
    ) -> None:
        self._backend = backend
        self._pool = pool
        self._families = families
        self._answers: dict[
            QueryKey, Future[QueryAnswer] | QueryAnswer | Future[FamilyAnswers] | FamilyAnswers
        ] = {}
        self.asked = 0
        """Rule evaluations that wanted a query this tick (shared ones counted each time)."""
        self.statements = 0
        """Statements started: one per family (a family whose merged statement fails
        then runs its queries alone, uncounted here) and one per other query."""

    def submit(self, keys: Iterable[QueryKey]) -> None:
        wanted = list(keys)
        self.asked += len(wanted)
        todo = list(dict.fromkeys(k for k in wanted if k not in self._answers))
        if not todo:
            return
        backend = self._backend()
        families: dict[tuple[str, str], list[tuple[QueryKey, Member]]] = {}
        singles: list[QueryKey] = []
        for key in todo:
            member = member_of(key[1]) if self._families else None
            if member is None:
                singles.append(key)
            else:
                families.setdefault((key[0], member.family), []).append((key, member))
        for members in families.values():
            if len(members) == 1:
                singles.append(members[0][0])
                continue
            self.statements += 1
            answers: Future[FamilyAnswers] | FamilyAnswers = (
                run_family(backend, members)
                if self._pool is None
                else self._pool.submit(run_family, backend, members)
            )
            for key, _ in members:
                self._answers[key] = answers
        for key in singles:
            self.statements += 1
            if self._pool is None:
                self._answers[key] = run_query(backend, key)
            else:
                self._answers[key] = self._pool.submit(run_query, backend, key)

    def answer(self, key: QueryKey) -> QueryAnswer:
        answer = self._answers[key]
        done = answer.result() if isinstance(answer, Future) else answer
        return done[key] if isinstance(done, dict) else done

    @property
    def distinct(self) -> int:
        """Queries run this tick."""
        return len(self._answers)
