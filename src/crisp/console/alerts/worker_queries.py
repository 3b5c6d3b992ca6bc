"""A tick's rule queries: each distinct query once, a few at a time.

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
        self, backend: Callable[[], MetricsBackend], pool: ThreadPoolExecutor | None
    ) -> None:
        self._backend = backend
        self._pool = pool
        self._answers: dict[QueryKey, Future[QueryAnswer] | QueryAnswer] = {}
        self.asked = 0
        """Rule evaluations that wanted a query this tick (shared ones counted each time)."""

    def submit(self, keys: Iterable[QueryKey]) -> None:
        wanted = list(keys)
        self.asked += len(wanted)
        todo = list(dict.fromkeys(k for k in wanted if k not in self._answers))
        if not todo:
            return
        backend = self._backend()
        for key in todo:
            if self._pool is None:
                self._answers[key] = run_query(backend, key)
            else:
                self._answers[key] = self._pool.submit(run_query, backend, key)

    def answer(self, key: QueryKey) -> QueryAnswer:
        answer = self._answers[key]
        return answer.result() if isinstance(answer, Future) else answer

    @property
    def distinct(self) -> int:
        """Queries run this tick."""
        return len(self._answers)
