import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import cramjam
import pytest
from opentelemetry.proto.metrics.v1.metrics_pb2 import Gauge, Metric, NumberDataPoint

from tests.unit.collector.helpers import NOW_NS, Harness
from tests.unit.protocols.otlp.test_otlp import request as otlp_request
from tests.unit.protocols.remote_write.messages import write_request


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    with harness.client:
        yield harness
    harness.close()


def test_v1_write_is_spooled_before_204(h: Harness) -> None:
    response = h.client.post("/write", params={"db": "app", "rp": "w"}, content=b"cpu v=1 5\n")
    assert response.status_code == 204
    assert response.headers["X-Influxdb-Version"].startswith("1.")
    assert h.rows() == [("app", "w", "cpu", {"time": 5, "v": 1.0})]


def test_v2_write_takes_bucket_and_precision(h: Harness) -> None:
    response = h.client.post(
        "/api/v2/write",
        params={"bucket": "app/rp1", "precision": "s"},
        content=gzip.compress(b"cpu v=1 5"),
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 204
    assert h.rows() == [("app", "rp1", "cpu", {"time": 5 * 10**9, "v": 1.0})]


def test_partly_bad_body_keeps_good_lines_and_names_the_bad_one(h: Harness) -> None:
    response = h.client.post("/write", params={"db": "app"}, content=b"cpu v=1 1\nnope\ncpu v=2")
    assert response.status_code == 400
    assert "line 2" in response.json()["error"]
    assert [row[3]["v"] for row in h.rows()] == [1.0, 2.0]
    assert h.rows()[1][3]["time"] == NOW_NS


def test_all_bad_body_spools_nothing(h: Harness) -> None:
    assert h.client.post("/write", params={"db": "app"}, content=b"nope").status_code == 400
    assert h.spooled() == []
    assert h.client.post("/write", content=b"cpu v=1").status_code == 400  # no db


def test_seed_json_answers_202_like_the_seed(h: Harness) -> None:
    point = {
        "measurement": "http_requests_total",
        "tags": {"service": "user-api"},
        "fields": {"count": 1},
        "timestamp": 1672531200000000000,
    }
    response = h.client.post("/api/v1/metrics", json=point)
    assert (response.status_code, response.json()) == (
        202,
        {"message": "Metric accepted for batching"},
    )
    response = h.client.post("/api/v1/metrics", params={"db": "other"}, json=[point, point])
    assert response.status_code == 202
    assert [(db, m) for db, _, m, _ in h.rows()] == [
        ("metrics", "http_requests_total"),
        ("other", "http_requests_total"),
        ("other", "http_requests_total"),
    ]


def test_seed_json_bad_item_is_named(h: Harness) -> None:
    good = {"measurement": "m", "tags": {}, "fields": {"v": 1}}
    response = h.client.post("/api/v1/metrics", content=json.dumps([good, {"tags": {}}]))
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith("unable to parse item 2: ")
    assert message.endswith("; 1 good points accepted")
    assert len(h.rows()) == 1


def test_undecodable_remote_write_names_the_body(h: Harness) -> None:
    response = h.client.post("/api/v1/write", content=b"not snappy")
    assert response.status_code == 400
    assert response.json()["error"].startswith("unable to parse the body: ")


def test_remote_write(h: Harness) -> None:
    body = cramjam.snappy.compress_raw(
        write_request([([("__name__", "up"), ("job", "node")], [(1.0, 1000)])])
    )
    # What Prometheus sends: snappy named as the content encoding.
    response = h.client.post(
        "/api/v1/write",
        content=bytes(body),
        headers={
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
        },
    )
    assert response.status_code == 204, response.text
    assert h.rows() == [("metrics", None, "up", {"time": 10**9, "job": "node", "value": 1.0})]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/import/prometheus/job/j1/instance/i1", {}),
        ("/api/v1/import/prometheus", {"job": "j1", "instance": "i1"}),
    ],
)
def test_prometheus_text_push_labels(h: Harness, path: str, params: dict[str, str]) -> None:
    response = h.client.post(path, params=params, content=b"# TYPE up gauge\nup 1\n")
    assert response.status_code == 204, response.text
    [(_, _, name, row)] = h.rows()
    assert (name, row["job"], row["instance"], row["time"]) == ("up", "j1", "i1", NOW_NS)


def test_otlp_protobuf_json_and_unknown_type(h: Harness) -> None:
    metric = Metric(
        name="queue_depth",
        gauge=Gauge(data_points=[NumberDataPoint(time_unix_nano=7, as_double=3.0)]),
    )
    body = otlp_request(metric)
    response = h.client.post(
        "/v1/metrics", content=body, headers={"Content-Type": "application/x-protobuf"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-protobuf"
    response = h.client.post("/v1/metrics", content=body, headers={"Content-Type": "text/xml"})
    assert response.status_code == 415
    assert "application/x-protobuf" in response.json()["error"]
    assert len(h.rows()) == 1


def test_oversize_body_is_413(tmp_path: Path) -> None:
    harness = Harness(tmp_path, max_body_size=100)
    with harness.client:
        response = harness.client.post("/write", params={"db": "a"}, content=b"m v=1 1\n" * 50)
    assert response.status_code == 413
    assert harness.spooled() == []
    harness.close()


def test_full_spool_answers_429_with_retry_after_and_keeps_nothing(tmp_path: Path) -> None:
    harness = Harness(tmp_path, max_bytes=1500)
    with harness.client:
        statuses = [
            harness.client.post("/write", params={"db": "a"}, content=b"m v=1 1\n").status_code
            for _ in range(40)
        ]
        full = harness.client.post("/write", params={"db": "a"}, content=b"m v=1 1\n")
        metrics = harness.client.get("/metrics").text
    assert 204 in statuses
    assert full.status_code == 429
    assert int(full.headers["Retry-After"]) > 0
    assert len(harness.spooled()) == statuses.count(204)
    assert "crisp_collector_spool_full_total" in metrics
    harness.close()


def test_token_is_required_when_configured(tmp_path: Path) -> None:
    harness = Harness(tmp_path, admin_token="s3cret")
    with harness.client:
        refused = harness.client.post("/write", params={"db": "a"}, content=b"m v=1")
        assert refused.status_code == 401
        ok = harness.client.post(
            "/write",
            params={"db": "a"},
            content=b"m v=1",
            headers={"Authorization": "Token s3cret"},
        )
        assert ok.status_code == 204
    harness.close()


def test_ping_health_and_self_metrics(h: Harness) -> None:
    assert h.client.get("/ping").status_code == 204
    health = h.client.get("/health").json()
    assert health["status"] == "pass"
    assert health["sink"] == "embedded"
    h.client.post("/write", params={"db": "a"}, content=b"m v=1\nbad")
    text = h.client.get("/metrics").text
    assert 'crisp_collector_points_accepted_total{protocol="line_protocol"} 1.0' in text
    assert 'crisp_collector_points_rejected_total{protocol="line_protocol"} 1.0' in text
    assert "crisp_collector_spool_bytes" in text
