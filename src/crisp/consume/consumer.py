"""The consume loop: fetch from the durable pull consumer, write to storage, then ack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import APIError

from crisp.collector.backoff import Backoff, pause
from crisp.collector.deadletter import DeadLetters
from crisp.collector.lp_encode import encode_batch
from crisp.collector.nats_messages import (
    HEADER_DATABASE,
    HEADER_RP,
    BadMessage,
    IncomingBatch,
    decode_message,
)
from crisp.collector.nats_stream import CONNECTION_ERRORS, connect, ensure_stream
from crisp.collector.nats_target import NatsTarget
from crisp.collector.sinks import Sink, SinkRejected, SinkUnavailable
from crisp.consume.metrics import ConsumeMetrics
from crisp.runtime.lifecycle import finish_task

log = logging.getLogger(__name__)

# How often the consumer's lag (messages not yet delivered to it) is read.
LAG_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class ConsumeOptions:
    durable: str = "crisp-storage"
    default_db: str = "metrics"
    stream_max_bytes: int = 1_000_000_000
    timeout: float = 10.0  # one NATS request, and the sink's own timeout bound
    retry_initial: float = 0.2
    retry_max: float = 30.0
    fetch_batch: int = 16
    fetch_wait: float = 1.0

    @property
    def ack_wait(self) -> float:
        # Well above one sink write (bounded by the sink timeout), so a slow but
        # working storage does not get the same message twice.
        return max(30.0, 3 * self.timeout)


class Consumer:
    def __init__(
        self,
        target: NatsTarget,
        sink: Sink,
        dead_letters: DeadLetters,
        metrics: ConsumeMetrics,
        options: ConsumeOptions,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self._target = target
        self._sink = sink
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._options = options
        self._clock_ns = clock_ns
        self._backoff = Backoff(options.retry_initial, options.retry_max)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.pending: int | None = None  # the lag, as last read from JetStream
        self.connected = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Finish the message in hand (its ack included), then close the connection."""
        self._stop.set()
        if self._task is None:
            return
        # Bounded: a connect or a sink write in progress ends within its timeout.
        await finish_task(self._task, 3 * self._options.timeout)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._session()
            except (APIError, *CONNECTION_ERRORS) as error:
                delay = self._backoff.next_delay()
                log.warning(
                    "NATS at %s: %s: %s; reconnecting in %.2f s",
                    self._target.display, type(error).__name__, error, delay,
                )  # fmt: skip
                await pause(self._stop, delay)
            except ValueError as error:  # the stream exists with other subjects
                delay = self._backoff.next_delay()
                log.error("%s; retrying in %.2f s", error, delay)
                await pause(self._stop, delay)
            except Exception:
                # The consumer must not die quietly while the process looks alive: start
                # a new session; unacknowledged messages are redelivered (idempotent).
                delay = self._backoff.next_delay()
                log.exception("consume loop failed; restarting in %.2f s", delay)
                await pause(self._stop, delay)

    async def _session(self) -> None:
        client = await connect(self._target, name="crisp-consume", timeout=self._options.timeout)
        try:
            js = client.jetstream(timeout=self._options.timeout)
            await ensure_stream(js, self._target, self._options.stream_max_bytes)
            subscription = await self._subscribe(js)
            log.info(
                "consuming JetStream stream %s (subject %s) as durable %s",
                self._target.stream, self._target.subject, self._options.durable,
            )  # fmt: skip
            self.connected = True
            self._metrics.connected.set(1)
            next_lag_check = 0.0
            while not self._stop.is_set():
                if time.monotonic() >= next_lag_check:
                    next_lag_check = time.monotonic() + LAG_CHECK_SECONDS
                    await self._read_lag(subscription)
                try:
                    messages = await subscription.fetch(
                        self._options.fetch_batch, timeout=self._options.fetch_wait
                    )
                except nats.errors.TimeoutError:
                    continue  # nothing waiting
                await self._handle(messages)
        finally:
            self.connected = False
            self._metrics.connected.set(0)
            # Acks are plain publishes: flush them before closing so a clean stop does
            # not cause redeliveries.
            with contextlib.suppress(*CONNECTION_ERRORS):
                await client.flush(timeout=2)
            with contextlib.suppress(*CONNECTION_ERRORS):
                await client.close()

    async def _read_lag(self, subscription: JetStreamContext.PullSubscription) -> None:
        info = await subscription.consumer_info()
        self.pending = int(info.num_pending or 0)
        self._metrics.pending.set(self.pending)

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        config = ConsumerConfig(
            durable_name=self._options.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._options.ack_wait,
            max_ack_pending=self._options.fetch_batch * 4,
        )
        return await js.pull_subscribe(
            self._target.subject,
            durable=self._options.durable,
            stream=self._target.stream,
            config=config,
        )

    async def _handle(self, messages: list[Msg]) -> None:
        for index, message in enumerate(messages):
            try:
                incoming = decode_message(
                    message.headers,
                    message.data,
                    default_db=self._options.default_db,
                    now_ns=self._clock_ns(),
                )
            except BadMessage as error:
                await self._reject(message, 400, str(error), message.data)
                continue
            try:
                await self._write(incoming)
            except SinkUnavailable as error:
                delay = self._backoff.next_delay()
                log.warning(
                    "storage write failed (%s); %d messages back to the stream, retry in %.2f s",
                    error, len(messages) - index, delay,
                )  # fmt: skip
                for unwritten in messages[index:]:
                    await unwritten.nak(delay=delay)
                self._metrics.messages.labels("naked").inc(len(messages) - index)
                await pause(self._stop, delay)
                return
            except SinkRejected as error:
                body = error.body or encode_batch(incoming.record.batch).body
                await self._reject(message, error.status, error.reason, body, incoming)
                continue
            self._backoff.reset()
            if incoming.rejected is not None:
                # Good lines are written; the message, bad lines included, is kept.
                await self._reject(message, 400, incoming.rejected, message.data, incoming)
                continue
            await message.ack()
            self._metrics.messages.labels("acked").inc()

    async def _write(self, incoming: IncomingBatch) -> None:
        record = incoming.record
        if record.batch.num_points == 0:
            return
        started = time.monotonic()
        dropped = await self._sink.write(record.database, record.rp, record.batch)
        self._metrics.write_seconds.observe(time.monotonic() - started)
        self._metrics.points_written.inc(record.batch.num_points - dropped)

    async def _reject(
        self,
        message: Msg,
        status: int,
        reason: str,
        body: bytes,
        incoming: IncomingBatch | None = None,
    ) -> None:
        headers = message.headers or {}
        database = (
            incoming.record.database
            if incoming
            else headers.get(HEADER_DATABASE, self._options.default_db)
        )
        rp = incoming.record.rp if incoming else headers.get(HEADER_RP) or None
        path = await asyncio.to_thread(
            self._dead_letters.write, database, rp, status, reason, body
        )
        log.error(
            "storage refused a message for database %s (%d: %s); kept in %s, resend it with "
            "`crisp collector replay-dead-letters`", database, status, reason, path,
        )  # fmt: skip
        # Terminated, not nak'ed: the same bytes would be refused again, and holding the
        # message would block the stream.
        await message.term()
        self._metrics.messages.labels("dead_lettered").inc()
