"""The delivery loop: spool → batches per (database, rp) → sink → spool acknowledged.

It reads the spool in order from the last acknowledged position, batches records by
size and age (``Batcher``), writes every batch to the sink and only then advances the
spool's acknowledged position, which deletes fully delivered segments. So a point
leaves the spool only once the sink has it, or once it sits in a dead-letter file.

Head-of-line on purpose: while the sink fails, the loop retries the same batch with
backoff and reads nothing further; the spool absorbs the incoming load meanwhile (and
past its cap the HTTP side answers 429). A crash between a sink write and the
acknowledgement resends those records after restart; storage treats a point with the
same series and time as an overwrite, so the resend adds nothing.

With pre-aggregation rules, the points they cover go into windows instead of the
batcher; the spool is then acknowledged only at a checkpoint that holds the windows'
state and the output being delivered (``aggregation_checkpoint``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from crisp.collector.aggregation_checkpoint import Checkpoint, PreAggregation
from crisp.collector.backoff import Backoff, pause
from crisp.collector.batcher import Batcher, PendingBatch
from crisp.collector.deadletter import DeadLetters
from crisp.collector.lp_encode import encode_batch
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import SpoolRecord, decode_record
from crisp.collector.sinks import Sink, SinkRejected, SinkUnavailable
from crisp.collector.spool import Position, Spool
from crisp.core.batch import PointBatch
from crisp.runtime.lifecycle import finish_task

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int = 5000
    flush_interval: float = 1.0
    retry_initial: float = 0.2
    retry_max: float = 30.0
    # On shutdown, how long to keep trying to empty the spool before leaving the rest
    # for the next start (it is durable either way).
    drain_seconds: float = 5.0


class _Stopping(Exception):
    """Shutdown interrupted a retry: leave the rest in the spool."""


class Delivery:
    def __init__(
        self,
        spool: Spool,
        sink: Sink,
        dead_letters: DeadLetters,
        metrics: CollectorMetrics,
        options: DeliveryOptions,
        clock: Callable[[], float] = time.monotonic,
        aggregation: PreAggregation | None = None,
    ) -> None:
        self._spool = spool
        self._sink = sink
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._options = options
        self._clock = clock
        self._aggregation = aggregation
        self._last_hand_out = -float("inf")
        self._backoff = Backoff(options.retry_initial, options.retry_max)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failures = 0  # unexpected errors of the loop, each followed by a restart

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Deliver what the spool holds for up to ``drain_seconds``, then return."""
        self._stop.set()
        self._spool.wake()
        if self._task is None:
            return
        await finish_task(self._task, self._options.drain_seconds + 1)

    async def _run(self) -> None:
        while True:
            try:
                await self._loop()
                return
            except _Stopping:
                log.info("delivery stopped; %d spooled bytes wait for the next start",
                         self._spool.size_bytes)
                return
            except Exception:
                # Delivery must not die quietly while requests keep being accepted: log
                # it, and start over from the last acknowledged position (a resend only
                # overwrites) after a backoff delay.
                self.failures += 1
                delay = self._backoff.next_delay()
                log.exception("delivery loop failed; restarting in %.2f s", delay)
                if self._stop.is_set():
                    return
                await pause(self._stop, delay)

    async def _loop(self) -> None:
        batcher = Batcher(self._options.batch_size, self._options.flush_interval)
        position = self._spool.acknowledged
        if self._aggregation is not None:
            position = await self._resume_aggregation(position)
        drain_deadline: float | None = None
        while True:
            if self._stop.is_set() and drain_deadline is None:
                drain_deadline = self._clock() + self._options.drain_seconds
            if drain_deadline is not None and self._clock() > drain_deadline:
                raise _Stopping
            if not batcher.full():
                await self._spool.wait_for_data(position, self._wait_time(batcher))
                records, position = await asyncio.to_thread(self._read, position)
                now = self._clock()
                for record in records:
                    batch = self._aggregate(record) if self._aggregation else record.batch
                    batcher.add(record.database, record.rp, batch, now)
            caught_up = position >= self._spool.end
            draining = drain_deadline is not None and caught_up
            if batcher.full() or batcher.due(self._clock()) or draining:
                await self._deliver(batcher.take_all())
            if batcher.points == 0 and self._aggregation is not None:
                if self._hand_out_due(position, draining):
                    await self._hand_out(position)
            elif batcher.points == 0 and position > self._spool.acknowledged:
                self._spool.acknowledge(position)
                self._metrics.spool_bytes.set(self._spool.size_bytes)
            if drain_deadline is not None and caught_up and batcher.points == 0:
                return

    def _wait_time(self, batcher: Batcher) -> float:
        if self._stop.is_set():
            return 0.0
        if batcher.points == 0:
            # Nothing pending: sleep until data arrives (or a stop wakes us), or until
            # pre-aggregation has something to hand out.
            return min(1.0, self._seconds_until_hand_out())
        return batcher.seconds_until_due(self._clock())

    # ------------------------------------------------------------ pre-aggregation

    async def _resume_aggregation(self, position: Position) -> Position:
        """Windows and position from the last checkpoint; its outbox delivered again.

        Run at every (re)start of the loop: the loop re-reads from the acknowledged
        position, so the windows must be those of that position, not of what was read
        before the restart.
        """
        assert self._aggregation is not None
        checkpoint = await asyncio.to_thread(self._aggregation.checkpoints.load)
        self._aggregation.aggregator.restore(checkpoint.state if checkpoint else {})
        if checkpoint is None:
            return position
        await self._deliver(self._pending(checkpoint))
        return max(position, checkpoint.position)

    def _aggregate(self, record: SpoolRecord) -> PointBatch:
        assert self._aggregation is not None
        aggregator = self._aggregation.aggregator
        raw_before = aggregator.raw_points
        now_ns = self._aggregation.clock_ns()
        rest = aggregator.add(record.database, record.rp, record.batch, now_ns)
        covered = record.batch.num_points - rest.num_points
        raw = aggregator.raw_points - raw_before
        if covered:
            self._metrics.aggregation_points.labels("aggregated").inc(covered - raw)
            self._metrics.aggregation_points.labels("unaggregated").inc(raw)
        return rest

    def _seconds_until_hand_out(self) -> float:
        if self._aggregation is None:
            return float("inf")
        due_ns = self._aggregation.aggregator.next_due_ns()
        if due_ns is None:
            return float("inf")
        until_due = (due_ns - self._aggregation.clock_ns()) / 1e9
        until_allowed = self._last_hand_out + self._options.flush_interval - self._clock()
        return max(0.0, until_due, until_allowed)

    def _hand_out_due(self, position: Position, draining: bool) -> bool:
        assert self._aggregation is not None
        due_ns = self._aggregation.aggregator.next_due_ns()
        output_due = due_ns is not None and due_ns <= self._aggregation.clock_ns()
        if not output_due and position <= self._spool.acknowledged:
            return False
        # One checkpoint (an fsync) per flush interval at most, except on shutdown.
        return draining or self._clock() - self._last_hand_out >= self._options.flush_interval

    async def _hand_out(self, position: Position) -> None:
        """Checkpoint (windows + output), deliver the output, acknowledge the spool."""
        assert self._aggregation is not None
        aggregator = self._aggregation.aggregator
        outbox = aggregator.take_output(self._aggregation.clock_ns())
        checkpoint = Checkpoint(position, aggregator.snapshot(), outbox)
        await asyncio.to_thread(self._aggregation.checkpoints.save, checkpoint)
        self._last_hand_out = self._clock()
        await self._deliver(self._pending(checkpoint))
        if position > self._spool.acknowledged:
            self._spool.acknowledge(position)
            self._metrics.spool_bytes.set(self._spool.size_bytes)
        if not aggregator.active:
            # No rules (turned off) and the windows a previous run left are delivered:
            # back to plain acknowledgement, no checkpoint to keep.
            await asyncio.to_thread(self._aggregation.checkpoints.remove)
            self._aggregation = None

    def _pending(self, checkpoint: Checkpoint) -> list[PendingBatch]:
        now = self._clock()
        return [PendingBatch(o.database, o.rp, o.batch, now) for o in checkpoint.outbox]

    def _read(self, position: Position) -> tuple[list[SpoolRecord], Position]:
        payloads, end = self._spool.read(position, READ_CHUNK_BYTES)
        return [decode_record(p) for p in payloads], end

    async def _deliver(self, batches: list[PendingBatch]) -> None:
        for pending in batches:
            await self._deliver_one(pending)

    async def _deliver_one(self, pending: PendingBatch) -> None:
        points = pending.batch.num_points
        while True:
            started = self._clock()
            try:
                dropped = await self._sink.write(pending.database, pending.rp, pending.batch)
            except SinkUnavailable as error:
                if self._stop.is_set():
                    raise _Stopping from None  # shutting down: the spool keeps the batch
                delay = self._backoff.next_delay()
                self._metrics.sink_retries.inc()
                log.warning("sink write of %d points failed (%s); retry in %.2f s",
                            points, error, delay)
                await pause(self._stop, delay)
                continue
            except SinkRejected as error:
                self._dead_letter(pending, error)
                break
            self._backoff.reset()
            self._metrics.flush_seconds.observe(self._clock() - started)
            self._metrics.batch_points.observe(points)
            self._metrics.points_delivered.inc(points - dropped)
            if dropped:
                self._metrics.points_unencodable.inc(dropped)
            break

    def _dead_letter(self, pending: PendingBatch, error: SinkRejected) -> None:
        body = error.body if error.body is not None else encode_batch(pending.batch).body
        path = self._dead_letters.write(
            pending.database, pending.rp, error.status, error.reason, body
        )
        self._metrics.dead_letter_batches.inc()
        self._metrics.dead_letter_points.inc(pending.batch.num_points)
        log.error(
            "sink refused %d points for database %s (%d: %s); kept in %s — fix the cause, "
            "then resend with `crisp collector replay-dead-letters`",
            pending.batch.num_points, pending.database, error.status, error.reason, path,
        )
