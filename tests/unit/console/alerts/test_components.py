from prometheus_client import CollectorRegistry, Counter
from starlette.testclient import TestClient

from crisp.console.alerts.components import metrics_app


def test_worker_http_serves_metrics_and_health() -> None:
    registry = CollectorRegistry()
    Counter("crisp_alerting_demo_total", "demo", registry=registry).inc()
    healthy = [False]
    client = TestClient(metrics_app(registry, lambda: healthy[0]))
    assert "crisp_alerting_demo_total 1.0" in client.get("/metrics").text
    stale = client.get("/health")
    assert stale.status_code == 503
    assert stale.json()["status"] == "fail"
    healthy[0] = True
    assert client.get("/health").json() == {"status": "pass"}
