"""Send pre-built bodies over C connections, optionally paced, and measure the server.

Design after influx-stress and TSBS's loaders: bodies are built before the clock
starts; each connection takes the next body as soon as its previous request is
answered, so throughput is the server's. With ``rate``, body *i* is due at
``values before i / rate`` seconds, and its acknowledgement latency is measured
from when it was due, not when it was sent: a slow server then shows up as latency
instead of silently lowering the offered load (coordinated omission).

One process can run out of CPU before a fast server does; ``processes`` forks
workers that each take every P-th body and a share of the connections and rate.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import resource
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crisp.bench.bodies import Body
from crisp.bench.http_client import CONNECTION_ERROR, LINE_PROTOCOL_HEADERS, connect
from crisp.bench.stats import LatencySummary, json_number, summarise

ProgressCallback = Callable[[int], None]
PROGRESS_TICK_S = 0.2


@dataclass(frozen=True)
class LoadPlan:
    url: str
    write_path: str
    connections: int = 4
    processes: int = 1
    client: str = "raw"
    rate: float | None = None  # field values per second over all processes
    headers: tuple[tuple[str, str], ...] = tuple(LINE_PROTOCOL_HEADERS)  # the format's

    def __post_init__(self) -> None:
        if self.connections < 1 or self.processes < 1:
            raise ValueError("connections and processes must be at least 1")
        if self.processes > self.connections:
            raise ValueError("each process needs at least one connection")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be positive")


@dataclass
class WorkerOutcome:
    latencies_s: list[float] = field(default_factory=list)
    ack_latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lines: int = 0  # acknowledged with a 2xx only
    values: int = 0
    started: float = 0.0  # time.time(), comparable across processes
    finished: float = 0.0


@dataclass(frozen=True)
class LoadResult:
    lines_sent: int
    lines: int
    values: int
    requests: int
    elapsed_s: float
    latency: LatencySummary
    ack_latency: LatencySummary | None
    errors_by_status: dict[str, int]
    client_cpu_s: float

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    @property
    def values_per_s(self) -> float:
        return self.values / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines_sent": self.lines_sent,
            "lines_acknowledged": self.lines,
            "values_acknowledged": self.values,
            "requests": self.requests,
            "elapsed_s": self.elapsed_s,
            "lines_per_s": json_number(self.lines_per_s),
            "values_per_s": json_number(self.values_per_s),
            "latency_ms": self.latency.as_dict(),
            "ack_latency_ms": self.ack_latency.as_dict() if self.ack_latency else None,
            "errors_by_status": self.errors_by_status,
            "client_cpu_s": self.client_cpu_s,
        }


def due_times(bodies: Sequence[Body], rate: float) -> list[float]:
    """Seconds after start at which each body is due to keep ``rate`` values/s."""
    before = np.cumsum([0] + [body.values for body in bodies[:-1]], dtype=np.float64)
    return [float(v) for v in before / rate]


async def send_bodies(
    plan: LoadPlan,
    bodies: Sequence[Body],
    connections: int,
    rate: float | None,
    on_sent: ProgressCallback,
) -> WorkerOutcome:
    outcome = WorkerOutcome()
    due = due_times(bodies, rate) if rate else None
    pending = iter(range(len(bodies)))  # shared: every body is taken by one connection
    start = time.perf_counter()
    outcome.started = time.time()

    async def connection() -> None:
        client = connect(plan.client, plan.url, plan.headers)
        try:
            for index in pending:
                body = bodies[index]
                due_at = start + due[index] if due is not None else None
                if due_at is not None and (delay := due_at - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                sent = time.perf_counter()
                status, _ = await client.post(plan.write_path, body.data)
                answered = time.perf_counter()
                outcome.latencies_s.append(answered - sent)
                if due_at is not None:
                    outcome.ack_latencies_s.append(answered - due_at)
                outcome.statuses[status] += 1
                if 200 <= status < 300:
                    outcome.lines += body.lines
                    outcome.values += body.values
                on_sent(body.lines)
        finally:
            await client.aclose()

    await asyncio.gather(*(connection() for _ in range(connections)))
    outcome.finished = time.time()
    return outcome


def run_load(
    plan: LoadPlan, bodies: Sequence[Body], progress: ProgressCallback | None = None
) -> LoadResult:
    """Blocks until every body is answered; ``progress`` gets lines sent, now and then."""
    report = progress or (lambda _lines: None)
    cpu_before = _cpu_seconds()
    if plan.processes == 1:
        outcomes = [asyncio.run(_in_process(plan, bodies, report))]
    else:
        outcomes = _in_processes(plan, bodies, report)
    return _combine(outcomes, sum(b.lines for b in bodies), _cpu_seconds() - cpu_before, plan)


async def _in_process(
    plan: LoadPlan, bodies: Sequence[Body], report: ProgressCallback
) -> WorkerOutcome:
    sent = 0

    def count(lines: int) -> None:
        nonlocal sent
        sent += lines

    async def tick() -> None:
        # Progress is pushed a few times a second, not per request, to stay cheap.
        while True:
            await asyncio.sleep(PROGRESS_TICK_S)
            report(sent)

    ticker = asyncio.create_task(tick())
    try:
        return await send_bodies(plan, bodies, plan.connections, plan.rate, count)
    finally:
        ticker.cancel()
        report(sent)


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _worker(
    plan: LoadPlan,
    bodies: Sequence[Body],
    index: int,
    go: Any,
    sent: Any,
    results: Any,
) -> None:
    mine = bodies[index :: plan.processes]
    rate = plan.rate / plan.processes if plan.rate else None

    def count(lines: int) -> None:
        with sent.get_lock():
            sent.value += lines

    go.wait()
    outcome = asyncio.run(
        send_bodies(plan, mine, _share(plan.connections, plan.processes, index), rate, count)
    )
    results.put(outcome)


def _in_processes(
    plan: LoadPlan, bodies: Sequence[Body], report: ProgressCallback
) -> list[WorkerOutcome]:
    # fork: the children inherit the bodies instead of receiving them pickled.
    context = multiprocessing.get_context("fork")
    go, sent, results = context.Event(), context.Value("q", 0), context.Queue()
    workers = [
        context.Process(target=_worker, args=(plan, bodies, i, go, sent, results), daemon=True)
        for i in range(plan.processes)
    ]
    for worker in workers:
        worker.start()
    go.set()
    outcomes: list[WorkerOutcome] = []
    try:
        while len(outcomes) < len(workers):
            try:
                outcomes.append(results.get(timeout=PROGRESS_TICK_S))
            except queue.Empty:
                report(sent.value)
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"load worker failed with exit code {dead[0].exitcode}")
        report(sent.value)
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
                worker.join()
    return outcomes


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its finished (joined) children.

    getrusage, not os.times: its microseconds resolve the small client costs that
    os.times' 10 ms ticks round to zero.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _combine(
    outcomes: Sequence[WorkerOutcome], lines_sent: int, cpu_s: float, plan: LoadPlan
) -> LoadResult:
    statuses: Counter[int] = Counter()
    for outcome in outcomes:
        statuses.update(outcome.statuses)
    errors = {
        ("connection" if status == CONNECTION_ERROR else str(status)): count
        for status, count in sorted(statuses.items())
        if not 200 <= status < 300
    }
    latencies = [x for outcome in outcomes for x in outcome.latencies_s]
    acks = [x for outcome in outcomes for x in outcome.ack_latencies_s]
    return LoadResult(
        lines_sent=lines_sent,
        lines=sum(o.lines for o in outcomes),
        values=sum(o.values for o in outcomes),
        requests=sum(statuses.values()),
        elapsed_s=max(o.finished for o in outcomes) - min(o.started for o in outcomes),
        latency=summarise(latencies),
        ack_latency=summarise(acks) if plan.rate else None,
        errors_by_status=errors,
        client_cpu_s=cpu_s,
    )
