"""Where delivered batches go, behind one small interface.

* :class:`EmbeddedSink`: an ``Engine`` in this process (``crisp serve``, or
  ``crisp collector --sink embedded``); a write is durable in its WAL on return.
* :class:`HTTPSink`: any InfluxDB-compatible ``/write`` endpoint (InfluxDB 1.x,
  VictoriaMetrics, an older Crisp), the batch re-encoded as line protocol; a
  ``crisp storage`` node gets Arrow instead (``storage_sink.StorageHTTPSink``).

A sink raises :class:`SinkUnavailable` for what may pass (5xx, 429, timeouts, network
errors: the delivery loop retries with backoff) and :class:`SinkRejected` for what
will not (4xx: the batch goes to the dead-letter directory). A missing database is
created once, as Telegraf does, since the collector writes wherever clients say.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import httpx

from crisp.collector.lp_encode import encode_batch
from crisp.core.batch import PointBatch
from crisp.storage.api import DatabaseNotFound, Storage, StorageError

log = logging.getLogger(__name__)

# The statuses after which the same request may succeed later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
REASON_LIMIT = 500
LINE_PROTOCOL_HEADERS = {"Content-Type": "text/plain; charset=utf-8"}


class SinkError(Exception):
    pass


class SinkUnavailable(SinkError):
    """Try again later: nothing says the batch is wrong."""


class SinkRejected(SinkError):
    """The sink refused the batch itself (4xx); retrying it unchanged cannot help."""

    def __init__(self, status: int, reason: str, body: bytes | None = None) -> None:
        super().__init__(f"sink refused the batch ({status}): {reason}")
        self.status = status
        self.reason = reason
        self.body = body


class Sink(Protocol):
    name: str

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        """Deliver ``batch``; return how many points could not be encoded (dropped)."""
        ...

    async def close(self) -> None: ...


class EmbeddedSink:
    name = "embedded"

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        await asyncio.to_thread(self._write, database, rp, batch)
        return 0

    def _write(self, database: str, rp: str | None, batch: PointBatch) -> None:
        try:
            try:
                stored = self._storage.write(database, rp, batch)
            except DatabaseNotFound:
                self._storage.create_database(database)
                stored = self._storage.write(database, rp, batch)
        except StorageError as error:
            # Storage refused the data itself (type conflict, limit, unknown RP).
            raise SinkRejected(400, str(error)) from None
        except OSError as error:
            raise SinkUnavailable(f"storage I/O error: {error}") from None
        if stored.dropped_points:
            # The rest is stored; the whole batch goes to dead letters, where resending
            # it only overwrites what is already there.
            raise SinkRejected(400, stored.partial_write_message())

    async def close(self) -> None:
        return None


class HTTPSink:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,  # tests inject a fake server
    ) -> None:
        self.url = url.rstrip("/")
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Token {token}"
        self._client = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )
        self._created: set[str] = set()
        # httpx logs every request at INFO: one line per batch would drown the log.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        encoded = await asyncio.to_thread(encode_batch, batch)
        if encoded.points:
            await self.write_lines(database, rp, encoded.body)
        return encoded.dropped_points

    async def write_lines(self, database: str, rp: str | None, body: bytes) -> None:
        response = await self._post(database, rp, body)
        if response.status_code == 404 and "database not found" in response.text:
            await self._create_database(database)
            response = await self._post(database, rp, body)
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = _reason(response)
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise SinkUnavailable(f"{self.url} answered {status}: {reason}")
        raise SinkRejected(status, reason, body)

    async def _post(self, database: str, rp: str | None, body: bytes) -> httpx.Response:
        params = {"db": database, "precision": "ns"}
        if rp:
            params["rp"] = rp
        try:
            return await self._client.post(
                "/write", params=params, content=body, headers=LINE_PROTOCOL_HEADERS
            )
        except httpx.HTTPError as error:
            raise SinkUnavailable(f"{self.url}: {type(error).__name__}: {error}") from None

    async def _create_database(self, database: str) -> None:
        if database in self._created:
            return
        quoted = database.replace("\\", "\\\\").replace('"', '\\"')
        try:
            response = await self._client.post(
                "/query", params={"q": f'CREATE DATABASE "{quoted}"'}
            )
        except httpx.HTTPError as error:
            raise SinkUnavailable(f"{self.url}: {type(error).__name__}: {error}") from None
        if response.status_code >= 500:
            raise SinkUnavailable(f"CREATE DATABASE answered {response.status_code}")
        if response.status_code >= 400:
            # Not allowed to create it (a read-only token, say): the write's own 404
            # will be dead-lettered with its reason.
            log.warning("sink refused CREATE DATABASE %s: %s", database, _reason(response))
            return
        log.info("created database %s on the sink %s", database, self.url)
        self._created.add(database)

    async def close(self) -> None:
        await self._client.aclose()


def _reason(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:REASON_LIMIT] or response.reason_phrase
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return str(payload["error"])[:REASON_LIMIT]
    return response.text[:REASON_LIMIT]
