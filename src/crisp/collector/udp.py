"""Line protocol over UDP (``CRISP_COLLECTOR_UDP_LISTEN``), with InfluxDB 1.x's semantics.

A datagram holds whole lines; nothing is answered, there is no authentication, and
every point goes to one database (``CRISP_COLLECTOR_UDP_DB``, ``udp`` by default as
in InfluxDB) at one precision (``CRISP_COLLECTOR_UDP_PRECISION``).

Datagrams go into the same spool as HTTP writes. They are gathered while the previous
spool append is being fsynced, so a busy listener writes few large records and an
idle one writes each datagram at once (group commit without a timer). Points without
a timestamp get their datagram's arrival time.

What UDP cannot promise, and what is counted instead
(``crisp_collector_udp_dropped_datagrams_total``, by reason): datagrams arriving while
``UDP_PENDING_LIMIT`` bytes already wait for the spool, or while the spool is full or
failing, are dropped — a sender gets no 429 to slow down on. Bad lines are counted in
``crisp_collector_points_rejected_total{protocol="udp"}`` and logged at most every
few seconds. A crash loses the datagrams not yet spooled (milliseconds' worth).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from crisp.collector.batcher import merged_batch
from crisp.collector.cardinality import SeriesGuard
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import encode_record
from crisp.collector.spool import Spool, SpoolError, SpoolFull
from crisp.core.batch import PointBatch
from crisp.core.settings import Address
from crisp.protocols.line_protocol import parse_line_protocol

log = logging.getLogger(__name__)

PROTOCOL = "udp"
# Bytes of datagrams waiting for the spool before new ones are dropped.
UDP_PENDING_LIMIT = 32 * 1024 * 1024
# Ask the kernel for this much receive buffer: bursts wait there while we parse.
RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
WARN_EVERY_SECONDS = 10.0


@dataclass(frozen=True)
class UDPOptions:
    database: str = "udp"
    precision: str = "ns"
    series_guard: SeriesGuard | None = None


@dataclass(frozen=True)
class Datagram:
    payload: bytes
    received_ns: int


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, listener: UDPListener) -> None:
        self._listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._listener.received(data)

    def error_received(self, exc: Exception) -> None:
        log.warning("UDP listener: %s", exc)


class UDPListener:
    def __init__(
        self,
        spool: Spool,
        metrics: CollectorMetrics,
        options: UDPOptions,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self._spool = spool
        self._metrics = metrics
        self._options = options
        self._clock_ns = clock_ns
        self._pending: list[Datagram] = []
        self._pending_bytes = 0
        self._data = asyncio.Event()
        self._stopping = False
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_warning: dict[str, float] = {}

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when 0 was asked)."""
        if self._transport is None:
            raise RuntimeError("UDP listener not started")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self, address: Address) -> None:
        family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(OSError):  # the kernel may cap it; not fatal
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            sock.bind((address.host, address.port))
        except OSError as error:
            sock.close()
            raise OSError(f"cannot listen on udp {address}: {error.strerror}") from None
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self), sock=sock
        )
        self._task = asyncio.create_task(self._spool_loop())

    async def stop(self) -> None:
        """Stop receiving, spool what was received, then return."""
        if self._transport is not None:
            self._transport.close()
        self._stopping = True
        self._data.set()
        if self._task is not None:
            await self._task

    def received(self, payload: bytes) -> None:
        self._metrics.bytes_received.labels(PROTOCOL).inc(len(payload))
        if self._pending_bytes + len(payload) > UDP_PENDING_LIMIT:
            self._drop("backlog", "UDP datagrams arrive faster than they can be spooled")
            return
        self._pending.append(Datagram(payload, self._clock_ns()))
        self._pending_bytes += len(payload)
        self._data.set()

    async def _spool_loop(self) -> None:
        while True:
            await self._data.wait()
            self._data.clear()
            datagrams, self._pending, self._pending_bytes = self._pending, [], 0
            if datagrams:
                try:
                    await self._spool_datagrams(datagrams)
                except Exception:  # the listener must outlive one odd batch
                    log.exception("UDP: %d datagrams could not be spooled", len(datagrams))
                    self._metrics.udp_dropped.labels("error").inc(len(datagrams))
            if self._stopping and not self._pending:
                return

    async def _spool_datagrams(self, datagrams: list[Datagram]) -> None:
        batches, rejected, first_error = await asyncio.to_thread(self._parse, datagrams)
        if rejected:
            self._metrics.points_rejected.labels(PROTOCOL).inc(rejected)
            self._warn("parse", f"{rejected} bad UDP lines dropped; first: {first_error}")
        for batch in batches:
            payload = encode_record(self._options.database, None, batch)
            try:
                await self._spool.append(payload)
            except SpoolFull:
                self._metrics.spool_full.inc()
                self._drop("spool_full", "the spool is full", len(datagrams))
                return
            except SpoolError as error:
                self._drop("spool_error", f"the spool failed: {error}", len(datagrams))
                return
            self._metrics.points_accepted.labels(PROTOCOL).inc(batch.num_points)
        self._metrics.spool_bytes.set(self._spool.size_bytes)

    def _parse(self, datagrams: list[Datagram]) -> tuple[list[PointBatch], int, str]:
        """Merged batches (a new one where a field's type clashes), bad lines, first error."""
        batches: list[PointBatch] = []
        rejected = 0
        first_error = ""
        for datagram in datagrams:
            try:
                result = parse_line_protocol(
                    datagram.payload,
                    precision=self._options.precision,
                    default_time_ns=datagram.received_ns,
                )
            except ValueError as error:
                rejected += 1
                first_error = first_error or str(error)
                continue
            if result.errors:
                rejected += len(result.errors)
                first_error = first_error or str(result.errors[0])
            batch = result.batch
            guard = self._options.series_guard
            if guard is not None and batch.num_points:
                admission = guard.admit(self._options.database, batch)
                for refusal in admission.refusals:
                    self._metrics.series_refused.labels(refusal.scope).inc(refusal.points)
                    self._warn("series", f"UDP: {refusal}")
                batch = admission.batch
            if batch.num_points == 0:
                continue
            merged = merged_batch(batches[-1], batch) if batches else None
            if merged is None:
                batches.append(batch)
            else:
                batches[-1] = merged
        return batches, rejected, first_error

    def _drop(self, reason: str, why: str, datagrams: int = 1) -> None:
        self._metrics.udp_dropped.labels(reason).inc(datagrams)
        self._warn(reason, f"dropping UDP datagrams: {why}")

    def _warn(self, key: str, message: str) -> None:
        # A flood of bad datagrams must not become a flood of log lines.
        now = time.monotonic()
        if now - self._last_warning.get(key, -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS:
            self._last_warning[key] = now
            log.warning("%s", message)


class UDPComponent:
    """The listener as a ``crisp.runtime`` component; needs the spool started first."""

    name = "collector UDP listener"

    def __init__(
        self,
        address: Address,
        spool: Callable[[], Spool],
        metrics: CollectorMetrics,
        options: UDPOptions,
    ) -> None:
        self._address = address
        self._spool = spool
        self._metrics = metrics
        self._options = options
        self._listener: UDPListener | None = None

    async def start(self) -> None:
        self._listener = UDPListener(self._spool(), self._metrics, self._options)
        await self._listener.start(self._address)

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()

    def urls(self) -> dict[str, str]:
        return {f"line protocol over UDP (db {self._options.database})": f"udp://{self._address}"}
