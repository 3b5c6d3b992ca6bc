"""``crisp manage``, ``crisp console`` and the console inside ``crisp serve``, as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import CrispProcess, crisp

pytestmark = pytest.mark.e2e


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisp", "manage", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CRISP_DATA_DIR": str(tmp_path / "data"), "CRISP_DATABASE_URL": ""}


@pytest.fixture
def token(env: dict[str, str]) -> str:
    assert manage(env, "migrate").returncode == 0
    created = manage(
        {
            **env,
            "DJANGO_SUPERUSER_USERNAME": "admin",
            "DJANGO_SUPERUSER_PASSWORD": "pw",
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
        },
        "createsuperuser",
        "--noinput",
    )
    assert created.returncode == 0, created.stderr
    result = manage(env, "create_api_token", "admin")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_manage_reports_errors_with_a_status(env: dict[str, str], token: str) -> None:
    result = manage(env, "create_api_token", "ghost")
    assert result.returncode != 0
    assert "no user named 'ghost'" in result.stderr


def _wait(process: CrispProcess) -> None:
    process.wait_ready(timeout=90)


def test_serve_wiring_and_console_command(env: dict[str, str], token: str, tmp_path: Path) -> None:
    storage_port, console_port, second_port = free_port(), free_port(), free_port()
    run_env = {
        **env,
        "CRISP_LISTEN": f"127.0.0.1:{storage_port}",
        "CRISP_CONSOLE_LISTEN": f"127.0.0.1:{console_port}",
        "CRISP_COLLECTOR_LISTEN": f"127.0.0.1:{free_port()}",
        "CRISP_SPOOL_DIR": str(tmp_path / "spool"),
    }
    auth = {"Authorization": f"Token {token}"}
    # `crisp serve` as shipped: the console's in-process backend on serve's engine.
    with crisp("serve", env=run_env) as running:
        _wait(running)
        storage = f"http://127.0.0.1:{storage_port}"
        console = f"http://127.0.0.1:{console_port}"
        httpx.post(f"{storage}/query", data={"q": "CREATE DATABASE metrics"}).raise_for_status()
        now = time.time_ns()
        lines = "\n".join(
            f"api_latency,service=checkout duration_ms={v} {now - i * 10**9}"
            for i, v in enumerate([10, 20, 30])
        )
        httpx.post(f"{storage}/write?db=metrics", content=lines).raise_for_status()

        latency = httpx.get(
            f"{console}/api/metrics/latency/?service=checkout&percentile=0.5", headers=auth
        )
        assert latency.status_code == 200, latency.text
        assert latency.json()["value_ms"] == 20.0
        assert (
            httpx.get(f"{console}/api/metrics/latency/?service=x", headers=auth).status_code == 404
        )
        assert httpx.get(f"{console}/static/console/explore.js").status_code == 200
        assert httpx.get(f"{console}/static/admin/css/base.css").status_code == 200
        assert httpx.get(f"{console}/health").json() == {"status": "pass"}
        assert httpx.get(f"{console}/login/").status_code == 200
        # Request bodies reach Django through granian and the WSGI bridge.
        explored = httpx.post(
            f"{console}/api/query/",
            json={"database": "metrics", "measurement": "api_latency", "field": "duration_ms"},
            headers=auth,
        )
        assert explored.status_code == 200, explored.text
        assert explored.json()["series"][0]["columns"] == ["time", "mean"]
        with httpx.Client(base_url=console) as browser:
            csrf = browser.get("/login/").cookies["csrftoken"]
            login = browser.post(
                "/login/",
                data={"username": "admin", "password": "pw", "csrfmiddlewaretoken": csrf},
            )
            assert login.status_code == 302, login.text
            assert browser.get("/explore/").status_code == 200

        # `crisp console` alone reads the same storage over HTTP.
        args = ("console", "--listen", f"127.0.0.1:{second_port}")
        with crisp(*args, env={**env, "CRISP_METRICS_URL": storage}) as alone:
            _wait(alone)
            databases = httpx.get(
                f"http://127.0.0.1:{second_port}/api/meta/databases/", headers=auth
            )
            assert databases.json() == ["metrics"]
            assert alone.stop() == 0
        assert running.stop() == 0, "".join(running.output)


def test_console_reports_an_unreachable_backend(env: dict[str, str], token: str) -> None:
    port = free_port()
    args = ("console", "--listen", f"127.0.0.1:{port}")
    with crisp(*args, env={**env, "CRISP_METRICS_URL": f"http://127.0.0.1:{free_port()}"}) as c:
        _wait(c)
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/meta/databases/",
            headers={"Authorization": f"Token {token}"},
        )
        assert response.status_code == 503
        assert "unreachable" in response.json()["error"]
        assert c.stop() == 0
