from starlette.testclient import TestClient


def test_parse_error_is_400_with_influx_wording(client: TestClient) -> None:
    response = client.get("/query", params={"q": "SELEC 1"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("error parsing query:")


def test_missing_q_and_bad_epoch_are_400(client: TestClient) -> None:
    assert client.get("/query").status_code == 400
    bad = client.get("/query", params={"q": "SHOW DATABASES", "epoch": "days"})
    assert bad.status_code == 400
    assert "epoch" in bad.json()["error"]


def test_q_in_a_form_body_and_statement_errors_per_statement(client: TestClient) -> None:
    response = client.post(
        "/query", data={"q": "CREATE DATABASE a; SHOW MEASUREMENTS ON nope; SHOW DATABASES"}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["statement_id"] for r in results] == [0, 1, 2]
    assert "error" in results[1]
    assert results[2]["series"][0]["values"] == [["a"]]


def test_rfc3339_times_by_default(client: TestClient, db: str) -> None:
    client.post("/write", params={"db": db, "precision": "s"}, content=b"cpu load=1 1767225600")
    response = client.get(
        "/query", params={"db": db, "q": "SELECT load FROM cpu WHERE time >= 0", "pretty": "true"}
    )
    assert response.json()["results"][0]["series"][0]["values"] == [["2026-01-01T00:00:00Z", 1.0]]
    assert "\n    " in response.text


def test_ping_health_and_self_metrics(client: TestClient, db: str) -> None:
    assert client.head("/ping").status_code == 204
    assert client.get("/health").json()["status"] == "pass"
    client.post("/write", params={"db": db}, content=b"cpu load=1 1\nbad\n")
    metrics = client.get("/metrics").text
    assert 'crisp_http_requests_total{endpoint="write",status="400"} 1.0' in metrics
    assert "crisp_http_lines_rejected_total 1.0" in metrics
    assert "crisp_http_request_seconds_bucket" in metrics


def test_bound_params_fill_placeholders_and_bad_json_is_400(client: TestClient, db: str) -> None:
    client.post("/write", params={"db": db}, content=b"cpu,host=a load=1 1\ncpu,host=b load=2 2")
    response = client.get(
        "/query",
        params={
            "db": db,
            "q": "SELECT load FROM cpu WHERE host = $h AND time >= 0",
            "params": '{"h": "b"}',
            "epoch": "ns",
        },
    )
    assert response.json()["results"][0]["series"][0]["values"] == [[2, 2.0]]
    bad = client.get("/query", params={"db": db, "q": "SHOW DATABASES", "params": "{nope"})
    assert bad.status_code == 400
    assert "parameters" in bad.json()["error"]
