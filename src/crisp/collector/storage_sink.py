"""The http sink that sends Arrow to a Crisp storage node and line protocol elsewhere.

Line protocol to ``crisp storage`` meant every value was parsed twice: the collector
re-encoded its columnar batch as text and storage parsed it back. Storage nodes
announce a columnar write endpoint in their ``/ping`` answer
(``X-Crisp-Columnar-Write``); when the sink's first write finds it, batches go there
as the Arrow body of ``crisp.influxapi.columnar_body``, the shape the spool already
keeps. InfluxDB, VictoriaMetrics or an older Crisp have no such header and keep
getting line protocol (``HTTPSink``).

Differences a user may notice: line protocol cannot carry NaN/±Inf, so the line
protocol path leaves such values out (counted as unencodable), while the columnar
path stores them as the embedded sink does (Prometheus stale markers are NaN). A
batch storage refuses goes to the dead-letter directory as line protocol either
way, so ``replay-dead-letters`` can resend it anywhere.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from crisp.collector.sinks import (
    RETRYABLE_STATUSES,
    HTTPSink,
    SinkRejected,
    SinkUnavailable,
    _reason,
)
from crisp.core.batch import PointBatch
from crisp.influxapi.columnar_body import CONTENT_TYPE, encode_points
from crisp.influxapi.write_columnar import COLUMNAR_WRITE_HEADER

log = logging.getLogger(__name__)

COLUMNAR_HEADERS = {"Content-Type": CONTENT_TYPE}
# Answers meaning "no such endpoint here" (a proxy, an older Crisp), not "bad batch".
NO_ENDPOINT_STATUSES = frozenset({404, 405, 415})


class StorageHTTPSink(HTTPSink):
    """An ``HTTPSink`` that asks ``/ping`` on its first write which format to send."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(url, token=token, timeout=timeout, transport=transport)
        self._columnar_path: str | None = None
        self._probed = False

    @property
    def columnar(self) -> bool:
        """Whether batches go as Arrow (known after the first write)."""
        return self._columnar_path is not None

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        if not self._probed:
            await self._probe()
        if self._columnar_path is None:
            return await super().write(database, rp, batch)
        body = await asyncio.to_thread(encode_points, batch)
        response = await self._post_columnar(self._columnar_path, database, rp, body)
        if response.status_code == 404 and "database not found" in response.text:
            await self._create_database(database)
            response = await self._post_columnar(self._columnar_path, database, rp, body)
        status = response.status_code
        if 200 <= status < 300:
            return 0
        reason = _reason(response)
        if status in NO_ENDPOINT_STATUSES and "database not found" not in reason:
            # Storage was replaced by something without the endpoint: line protocol
            # from now on (the next start of the sink asks again).
            log.warning(
                "%s answered %d to a columnar write (%s); sending line protocol instead",
                self.url, status, reason,
            )
            self._columnar_path = None
            return await super().write(database, rp, batch)
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise SinkUnavailable(f"{self.url} answered {status}: {reason}")
        # No body: the delivery loop dead-letters the batch as line protocol.
        raise SinkRejected(status, reason)

    async def _probe(self) -> None:
        try:
            response = await self._client.get("/ping")
        except httpx.HTTPError as error:
            raise SinkUnavailable(f"{self.url}: {type(error).__name__}: {error}") from None
        if response.status_code >= 500:
            raise SinkUnavailable(f"{self.url}/ping answered {response.status_code}")
        path = response.headers.get(COLUMNAR_WRITE_HEADER, "")
        # Only a path on this server: a header must not send batches elsewhere.
        self._columnar_path = path if path.startswith("/") and "//" not in path else None
        self._probed = True
        log.info(
            "sink %s takes %s", self.url,
            f"Arrow batches at {path}" if self.columnar else "line protocol",
        )

    async def _post_columnar(
        self, path: str, database: str, rp: str | None, body: bytes
    ) -> httpx.Response:
        params = {"db": database}
        if rp:
            params["rp"] = rp
        try:
            return await self._client.post(
                path, params=params, content=body, headers=COLUMNAR_HEADERS
            )
        except httpx.HTTPError as error:
            raise SinkUnavailable(f"{self.url}: {type(error).__name__}: {error}") from None
