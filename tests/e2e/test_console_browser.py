"""The console in a real browser: storage and console as the processes a user runs,
a user and team grant made with ``crisp manage``, then log in, explore p95 latency by
service, drill down to one service's endpoints, and open the dashboards list.

Headless Debian Chromium driven by Playwright (never ``playwright install``: CI installs
the ``chromium`` package, see .ci/debian-packages). Skipped locally without them,
required in CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import free_port, require_binary
from tests.e2e.crisp_process import crisp

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVICES = {
    "checkout": ("/cart", "/pay", "/confirm"),
    "search": ("/query", "/suggest", "/facets"),
}
USER, PASSWORD = "sre-ana", "correct horse battery staple"
# Browser actions and assertions wait at most this long (ms).
UI_TIMEOUT = 20_000


def require_playwright() -> None:
    if importlib.util.find_spec("playwright") is not None:
        return
    message = "playwright is not installed (pip install -e '.[test]')"
    if os.environ.get("CRISP_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)


@dataclass
class Console:
    url: str
    storage_url: str
    team_id: int
    token: str


def manage(data_dir: Path, *args: str) -> str:
    """``crisp manage ARGS`` on the console's data dir, as an admin types it; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "crisp", "manage", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def latency_lines(now_s: int) -> str:
    """api_latency for 2 services x 3 endpoints, 4 points a minute over the last 30 min."""
    rng = random.Random(42)
    lines = []
    for service, endpoints in SERVICES.items():
        base = 20.0 if service == "checkout" else 60.0
        for e, endpoint in enumerate(endpoints):
            method = "POST" if endpoint in ("/pay", "/confirm") else "GET"
            for second in range(0, 30 * 60, 15):
                host = f"{service}-{second % 2 + 1}"
                status = 500 if rng.random() < 0.02 else 200
                value = base * (e + 1) + rng.expovariate(1 / 10)
                tags = (
                    f"endpoint={endpoint},host={host},method={method},"
                    f"service={service},status={status}"
                )
                lines.append(f"api_latency,{tags} duration_ms={value:.3f} {now_s - second}")
    return "\n".join(lines) + "\n"


def influxql(storage_url: str, q: str, db: str = "") -> dict[str, Any]:
    response = httpx.post(f"{storage_url}/query", params={"db": db}, data={"q": q})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """Storage and console running, shop's latency loaded, USER an editor of Payments."""
    # Checked first, so a machine without a browser does not start servers for nothing.
    require_binary("chromium", "apt-get install chromium; CI installs .ci/debian-packages")
    require_playwright()
    storage_port, console_port = free_port(), free_port()
    storage_url = f"http://127.0.0.1:{storage_port}"
    console_dir = tmp_path / "console"
    storage_args = (
        *("--data-dir", str(tmp_path / "storage")),
        *("--listen", f"127.0.0.1:{storage_port}"),
    )
    console_args = (
        *("--data-dir", str(console_dir), "--listen", f"127.0.0.1:{console_port}"),
        *("--metrics-url", storage_url),
    )
    with crisp("storage", *storage_args) as storage, crisp("console", *console_args) as web:
        storage.wait_ready()
        influxql(storage_url, "CREATE DATABASE shop")
        influxql(storage_url, "CREATE DATABASE secret")
        written = httpx.post(
            f"{storage_url}/write",
            params={"db": "shop", "precision": "s"},
            content=latency_lines(int(time.time())),
        )
        assert written.status_code == 204, written.text
        secret = httpx.post(
            f"{storage_url}/write", params={"db": "secret"}, content="cpu,host=h1 usage=1\n"
        )
        assert secret.status_code == 204, secret.text
        web.wait_ready()

        script = f"""
from django.contrib.auth.models import User
from crisp.console.accounts.actions import do_add_member, do_grant_database
from crisp.console.accounts.models import Role, Team
user = User.objects.create_user({USER!r}, password={PASSWORD!r})
team = Team.objects.create(name="Payments", slug="payments")
do_grant_database(team, "shop")
do_add_member(team, user, Role.EDITOR)
print("team_id", team.pk)
"""
        out = manage(console_dir, "shell", "--no-imports", "-c", script)
        match = re.search(r"^team_id (\d+)$", out, re.MULTILINE)
        assert match, out
        token = manage(console_dir, "create_api_token", USER, "--name", "e2e").strip()
        assert token, "create_api_token printed no token"
        yield Console(f"http://127.0.0.1:{console_port}", storage_url, int(match[1]), token)
        assert web.stop() == 0, "".join(web.output)
        assert storage.stop() == 0, "".join(storage.output)


def chart(page: Page, series: int) -> dict[str, Any]:
    """What the uPlot chart was drawn from, once the run shows ``series`` series."""
    from playwright.sync_api import expect

    status = page.locator("#status")
    expect(status).to_have_text(re.compile(rf"^{series} series, interval "), timeout=UI_TIMEOUT)
    expect(page.locator("#chart")).to_have_attribute("data-series", str(series))
    drawn: dict[str, Any] = page.evaluate(
        """() => ({
            labels: window.crispChart.labels,
            data: window.crispChart.data,
            canvases: document.querySelectorAll('#chart canvas').length,
        })"""
    )
    assert drawn["canvases"] >= 1, "uPlot drew no canvas"
    return drawn


def points(drawn: dict[str, Any], label: str) -> list[float]:
    values = drawn["data"][1 + drawn["labels"].index(label)]
    return [v for v in values if v is not None]


def test_console_explore_drill_down_in_a_browser(console: Console) -> None:
    from playwright.sync_api import expect, sync_playwright

    # The API token works like the session: a dashboard for the team, made by script.
    panel_query = {
        "database": "shop",
        "measurement": "api_latency",
        "field": "duration_ms",
        "aggregate": "p95",
        "start": "-1h",
        "group_by": ["service"],
    }
    created = httpx.post(
        f"{console.url}/api/dashboards/",
        headers={"Authorization": f"Token {console.token}"},
        json={
            "team": console.team_id,
            "title": "Shop latency",
            "panels": [{"title": "p95 by service", "query": panel_query}],
        },
    )
    assert created.status_code == 201, created.text

    chromium = shutil.which("chromium")
    assert chromium is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.set_default_timeout(UI_TIMEOUT)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            # Log in: the console sends an anonymous visitor to the login page first.
            page.goto(f"{console.url}/explore/")
            expect(page).to_have_url(re.compile(r"/login/\?next=/explore/"))
            page.get_by_label("User name").fill(USER)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(re.compile(r"/explore/$"))
            expect(page.get_by_role("heading", name="Explore")).to_be_visible()

            # Pickers: the team's one database (not "secret"), its measurement, the field.
            field = page.locator("select[name=field]")
            expect(field.locator("option")).to_have_text(["duration_ms"])
            database = page.locator("select[name=database]")
            expect(database.locator("option")).to_have_text(["shop"])
            assert database.input_value() == "shop"
            expect(page.locator("input[name=measurement]")).to_have_value("api_latency")
            expect(page.locator("select[name=group_by] option")).to_have_count(5)
            field.select_option("duration_ms")
            page.locator("select[name=aggregate]").select_option("p95")
            page.locator("input[name=start]").fill("-30m")
            page.locator("input[name=interval]").fill("1m")
            page.locator("select[name=group_by]").select_option(["service"])
            page.get_by_role("button", name="Run").click()

            by_service = chart(page, 2)
            assert sorted(by_service["labels"]) == ["service=checkout", "service=search"]
            times = by_service["data"][0]
            assert len(times) >= 10, times
            assert times == sorted(times)
            for label in by_service["labels"]:
                values = points(by_service, label)
                assert len(values) >= 10, (label, by_service["data"])
                assert all(v > 0 for v in values), (label, values)
            # search's endpoints are the slower ones, so its p95 is higher.
            assert min(points(by_service, "service=search")) > max(
                points(by_service, "service=checkout")
            )
            expect(page.locator("#influxql")).to_contain_text("percentile(duration_ms, 95)")

            # Drill down through the link the page keeps: one service, by endpoint.
            state = json.loads(parse_qs(urlsplit(page.url).query)["q"][0])
            assert state["group_by"] == ["service"]
            assert (state["aggregate"], state["interval"]) == ("p95", "1m")
            state["group_by"] = ["endpoint"]
            state["filters"] = [{"tag": "service", "op": "=", "value": "checkout"}]
            page.goto(f"{console.url}/explore/?{urlencode({'q': json.dumps(state)})}")
            by_endpoint = chart(page, 3)
            assert sorted(by_endpoint["labels"]) == [
                "endpoint=/cart",
                "endpoint=/confirm",
                "endpoint=/pay",
            ]
            for label in by_endpoint["labels"]:
                assert len(points(by_endpoint, label)) >= 10, (label, by_endpoint["data"])
            expect(page.locator(".filter [name=value]")).to_have_value("checkout")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-explore.png"))

            # The dashboards list shows the team's dashboard made through the API.
            page.get_by_role("link", name="Dashboards").click()
            expect(page).to_have_url(re.compile(r"/dashboards/$"))
            row = page.locator("table.results tbody tr")
            expect(row).to_have_count(1)
            updated = re.compile(r"^\d{4}-\d\d-\d\dT")
            cells: list[str | re.Pattern[str]] = ["Shop latency", "Payments", "1", updated]
            expect(row.locator("td")).to_have_text(cells)

            # The services overview: one row per service, sortable, linking to Explore.
            page.get_by_role("link", name="Services").click()
            page.locator("select[name=db]").select_option("shop")
            services = page.locator("#services-table tbody tr")
            expect(services).to_have_count(2)
            expect(services.first.locator("td").first).to_have_text("checkout")
            assert services.first.locator("svg.sparkline polyline").count() == 1
            p95_header = page.locator("#services-table th[data-key=p95_ms]")
            # A numeric column sorts slowest first; a second click reverses it.
            p95_header.click()
            expect(services.first.locator("td").first).to_have_text("search")
            p95_header.click()
            expect(services.first.locator("td").first).to_have_text("checkout")
            p95_header.click()
            services.first.get_by_role("link", name="search").click()
            expect(page).to_have_url(re.compile(r"/explore/\?q="))
            drilled = chart(page, 3)["labels"]
            assert sorted(drilled) == sorted(f"endpoint={e}" for e in SERVICES["search"])
            assert errors == [], errors
        except Exception:
            # What the browser showed when it went wrong, next to the success screenshot.
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-explore-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
