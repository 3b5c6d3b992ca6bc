"""The metrics backend: the console's only way to storage.

``MetricsBackend.query`` runs InfluxQL text (always rendered from a typed AST by
:mod:`crisp.console.explore.querymodel`, never built from user strings) against one
database and returns InfluxDB 1.x statement results with times in epoch nanoseconds.
Metadata helpers go through the same path, so both implementations behave alike:

* :class:`InProcessBackend` calls :func:`crisp.query.executor.execute` on a
  :class:`~crisp.storage.api.Storage` (``crisp serve``);
* :class:`HTTPBackend` speaks the InfluxDB 1.x ``/query`` API (``crisp storage``, a
  router, or a real InfluxDB 1.x).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import httpx

from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.query.influxql import ast
from crisp.query.influxql.render import render_statement
from crisp.query.results import StatementResult
from crisp.storage.api import Storage


class BackendError(Exception):
    """A query could not be answered; ``str()`` is safe to show, ``status`` is HTTP's."""

    status = 502

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QueryRefused(BackendError):
    """Storage refused the query: unknown database, a guard, a type error (the user's)."""

    status = 400


class BackendTimeout(BackendError):
    status = 504


class BackendUnavailable(BackendError):
    status = 503


# Words storage uses when a statement ran out of time (query.deadline) rather than
# being wrong; those are 504s, not the user's mistake.
_TIMEOUT_MARKERS = ("timeout", "timed out", "deadline")


def raise_for_errors(results: list[StatementResult]) -> list[StatementResult]:
    for result in results:
        error = result.get("error")
        if error:
            if any(marker in error.lower() for marker in _TIMEOUT_MARKERS):
                raise BackendTimeout(f"query timed out: {error}")
            raise QueryRefused(error)
    return results


class MetricsBackend(ABC):
    """Runs InfluxQL for the console; every method raises :class:`BackendError`."""

    @abstractmethod
    def query(
        self, influxql: str, database: str | None, params: Mapping[str, Any] | None = None
    ) -> list[StatementResult]:
        """Results per statement, times as epoch ns; errors raised, not returned."""

    def run(self, statement: ast.Statement, database: str | None) -> list[StatementResult]:
        return self.query(render_statement(statement), database)

    def _column(self, statement: ast.Statement, database: str | None) -> list[str]:
        """First column of every row of every series (SHOW statements)."""
        values: list[str] = []
        for result in self.run(statement, database):
            for series in result.get("series", []):
                values.extend(str(row[0]) for row in series["values"])
        return values

    def databases(self) -> list[str]:
        return sorted(self._column(ast.ShowDatabasesStatement(), None))

    def measurements(self, database: str) -> list[str]:
        return sorted(self._column(ast.ShowMeasurementsStatement(database=database), database))

    def tag_keys(self, database: str, measurement: str) -> list[str]:
        statement = ast.ShowTagKeysStatement(
            database=database, sources=(ast.Measurement(name=measurement),)
        )
        return sorted(set(self._column(statement, database)))

    def tag_values(self, database: str, measurement: str, key: str) -> list[str]:
        statement = ast.ShowTagValuesStatement(
            key_op="=",
            keys=(key,),
            database=database,
            sources=(ast.Measurement(name=measurement),),
        )
        values: set[str] = set()
        for result in self.run(statement, database):
            for series in result.get("series", []):
                # Rows are [key, value].
                values.update(str(row[1]) for row in series["values"])
        return sorted(values)

    def field_keys(self, database: str, measurement: str) -> dict[str, str]:
        """Field name → type (float, integer, unsigned, boolean, string)."""
        statement = ast.ShowFieldKeysStatement(
            database=database, sources=(ast.Measurement(name=measurement),)
        )
        fields: dict[str, str] = {}
        for result in self.run(statement, database):
            for series in result.get("series", []):
                fields.update({str(row[0]): str(row[1]) for row in series["values"]})
        return dict(sorted(fields.items()))

    def close(self) -> None:  # noqa: B027  # optional hook, not abstract
        """Release connections; the default has none."""


class InProcessBackend(MetricsBackend):
    """Queries a Storage in this process (``crisp serve``), with the query layer's guards."""

    def __init__(self, storage: Storage, *, timeout: float = 30.0) -> None:
        self._storage = storage
        self._guards = QueryGuards(timeout_seconds=timeout)

    def query(
        self, influxql: str, database: str | None, params: Mapping[str, Any] | None = None
    ) -> list[StatementResult]:
        results = execute(
            influxql,
            storage=self._storage,
            database=database,
            rp=None,
            now_ns=time.time_ns(),
            guards=self._guards,
            params=params,
        )
        return raise_for_errors(results)


class HTTPBackend(MetricsBackend):
    """InfluxQL over HTTP: a crisp storage node, a router or InfluxDB 1.x."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        self._url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self._url, headers=headers, timeout=timeout, transport=transport
        )

    def query(
        self, influxql: str, database: str | None, params: Mapping[str, Any] | None = None
    ) -> list[StatementResult]:
        form: dict[str, str] = {"q": influxql, "epoch": "ns"}
        if database:
            form["db"] = database
        if params:
            form["params"] = json.dumps(dict(params))
        try:
            response = self._client.post("/query", data=form)
        except httpx.TimeoutException:
            raise BackendTimeout(f"metrics backend {self._url} did not answer in time") from None
        except httpx.HTTPError as error:
            raise BackendUnavailable(f"metrics backend {self._url} unreachable: {error}") from None
        body = _json_body(response)
        if response.status_code >= 500:
            raise BackendError(f"metrics backend error {response.status_code}: {body_error(body)}")
        if response.status_code in (401, 403):
            raise BackendError(
                f"metrics backend refused the console's credentials: {body_error(body)}"
            )
        if response.status_code >= 400:
            raise QueryRefused(body_error(body) or f"HTTP {response.status_code}")
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise BackendError("metrics backend answered without results")
        return raise_for_errors(results)

    def close(self) -> None:
        self._client.close()


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": response.text[:200]}


def body_error(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or "")
    return ""
