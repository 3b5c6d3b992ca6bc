"""``crisp collector`` → ``crisp storage`` over the columnar (Arrow) write path.

Real processes: four clients send line protocol, JSON, remote-write and OTLP bodies
to the collector at once while storage is stopped and restarted; every acknowledged
point must be in storage exactly once, and storage must have received it through
``/api/crisp/write_arrow`` (no line protocol between the two).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from crisp.bench.encoders import FORMATS, encode_json, encode_otlp, encode_remote_write
from crisp.bench.points import Point
from tests.e2e.crisp_process import QUIET, ProcessStack, crisp, query_rows

pytestmark = pytest.mark.integration

BODIES = 24
POINTS_PER_BODY = 50
HOSTS = 5
BASE_NS = 1_700_000_000_000_000_000


def points(measurement: str, body: int) -> list[Point]:
    start = body * POINTS_PER_BODY
    return [
        Point(
            measurement,
            (("host", f"h{i % HOSTS}"), ("region", "eu west")),
            (("seq", i),),
            # Milliseconds apart: remote-write carries ms timestamps.
            BASE_NS + i * 1_000_000,
        )
        for i in range(start, start + POINTS_PER_BODY)
    ]


def lp_body(body: int) -> bytes:
    return "".join(
        f"lp_load,host={p.tags[0][1]},region=eu\\ west seq={p.fields[0][1]}i {p.time_ns}\n"
        for p in points("lp_load", body)
    ).encode()


# What each client sends: path, headers, body maker; and where its points land.
CLIENTS = {
    "lp": ("/write", {}, lp_body, "lp_load", "seq"),
    "json": (
        "/api/v1/metrics", dict(FORMATS["json"].headers),
        lambda b: encode_json(points("js_load", b)).data, "js_load", "seq",
    ),
    "remote-write": (
        "/api/v1/write", dict(FORMATS["remote-write"].headers),
        lambda b: encode_remote_write(points("rw", b)).data, "rw_seq", "value",
    ),
    "otlp": (
        "/v1/metrics", dict(FORMATS["otlp"].headers),
        lambda b: encode_otlp(points("ot", b)).data, "ot_seq", "value",
    ),
}  # fmt: skip


class Stack(ProcessStack):
    def count(self, measurement: str, field: str) -> int:
        q = f"SELECT count({field}) FROM {measurement} WHERE time >= 0"
        found = query_rows(self.storage_url, "cols", q)
        return int(found[0][1]) if found else 0

    def wait_count(self, measurement: str, field: str, expected: int) -> int:
        deadline = time.monotonic() + 90
        count = self.count(measurement, field)
        while count < expected and time.monotonic() < deadline:
            time.sleep(0.3)
            count = self.count(measurement, field)
        return count


def send_all(
    collector_url: str, name: str, acknowledged: dict[str, int], sent: threading.Event
) -> None:
    path, headers, make, _, _ = CLIENTS[name]
    with httpx.Client(base_url=collector_url, timeout=30) as client:
        for body in range(BODIES):
            response = client.post(path, params={"db": "cols"}, content=make(body), headers=headers)
            if response.is_success:
                acknowledged[name] += POINTS_PER_BODY
            time.sleep(0.1)  # spread over the storage outage
    sent.set()


def test_every_acknowledged_point_arrives_once_through_the_arrow_path(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    acknowledged = dict.fromkeys(CLIENTS, 0)
    done = {name: threading.Event() for name in CLIENTS}
    with crisp(*stack.collector_args, env=QUIET) as collector:
        collector.wait_ready()
        with stack.storage():
            senders = [
                threading.Thread(
                    target=send_all, args=(stack.collector_url, name, acknowledged, done[name])
                )
                for name in CLIENTS
            ]
            for sender in senders:
                sender.start()
            time.sleep(0.4)
        # Storage is down for a while mid-load; the collector keeps acknowledging.
        time.sleep(1.0)
        with stack.storage():
            for sender in senders:
                sender.join(timeout=120)
            assert all(event.is_set() for event in done.values())
            for name, (_, _, _, measurement, field) in CLIENTS.items():
                assert acknowledged[name] == BODIES * POINTS_PER_BODY, name
                assert stack.wait_count(measurement, field, acknowledged[name]) == acknowledged[
                    name
                ], name
            time.sleep(0.5)  # nothing more arrives: exactly once
            for name, (_, _, _, measurement, field) in CLIENTS.items():
                assert stack.count(measurement, field) == acknowledged[name], name
            tags = query_rows(
                stack.storage_url, "cols", 'SHOW TAG VALUES FROM "lp_load" WITH KEY = "region"'
            )
            assert tags == [["region", "eu west"]]
            metrics = httpx.get(f"{stack.storage_url}/metrics").text
            assert 'crisp_http_requests_total{endpoint="write_arrow",status="204"}' in metrics
            assert 'endpoint="write"' not in metrics  # no line protocol from the collector
        retries = httpx.get(f"{stack.collector_url}/metrics").text
        assert "crisp_collector_sink_retries_total 0.0" not in retries  # the outage was felt
        collector.stop()
