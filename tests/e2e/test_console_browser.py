"""The console in a real browser: storage and console as the processes a user runs,
a user and team grant made with ``crisp manage``, then log in, explore p95 latency by
service, drill down by clicking the legend (service → endpoint → host) and back up by
the breadcrumbs, download the CSV, open a service's page, and open a dashboard whose
panel follows a ``$service`` variable.

Headless Debian Chromium driven by Playwright (never ``playwright install``: CI installs
the ``chromium`` package, see .ci/debian-packages). Skipped locally without them,
required in CI.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

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


@contextmanager
def browser_page() -> Iterator[tuple[Page, list[str]]]:
    """A page of a headless Chromium waiting at most UI_TIMEOUT, and the list of the
    JavaScript errors it raised."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.set_default_timeout(UI_TIMEOUT)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, errors
        finally:
            browser.close()


def log_in(page: Page) -> None:
    """Fill in and send the login form the page shows."""
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


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


def click_series(page: Page, label: str) -> None:
    """Click the chart's line of ``label`` where it is farthest from every other line."""
    at: dict[str, float] = page.evaluate(
        """(label) => {
            const c = window.crispChart, u = c.uplot, mine = c.labels.indexOf(label) + 1;
            let best = null;
            c.data[0].forEach((t, k) => {
                const v = c.data[mine][k];
                if (v === null) return;
                const y = u.valToPos(v, "y");
                const gap = Math.min(...c.data.slice(1).filter((_, i) => i + 1 !== mine)
                    .map((s) => s[k] === null ? Infinity : Math.abs(u.valToPos(s[k], "y") - y)));
                if (!best || gap > best.gap) best = { gap, x: u.valToPos(t, "x"), y };
            });
            const r = u.over.getBoundingClientRect();
            return { x: r.left + best.x, y: r.top + best.y };
        }""",
        label,
    )
    page.mouse.move(at["x"] - 3, at["y"])
    page.mouse.move(at["x"], at["y"])
    page.mouse.down()
    page.mouse.up()


def test_console_explore_drill_down_in_a_browser(console: Console) -> None:
    from playwright.sync_api import expect

    # The API token works like the session: a dashboard for the team, made by script,
    # with a $service variable its panel filters on.
    panel_query = {
        "database": "shop",
        "measurement": "api_latency",
        "field": "duration_ms",
        "aggregate": "p95",
        "start": "-1h",
        "interval": "1m",
        "group_by": ["endpoint"],
        "filters": [{"tag": "service", "op": "=", "value": "$service"}],
    }
    created = httpx.post(
        f"{console.url}/api/dashboards/",
        headers={"Authorization": f"Token {console.token}"},
        json={
            "team": console.team_id,
            "title": "Shop latency",
            "variables": [
                {
                    "name": "service",
                    "database": "shop",
                    "measurement": "api_latency",
                    "tag": "service",
                    "default_value": "checkout",
                }
            ],
            "panels": [
                {"title": "p95 of $service by endpoint", "query": panel_query, "grid": {"w": 24}}
            ],
        },
    )
    assert created.status_code == 201, created.text
    dashboard_id = created.json()["id"]

    with browser_page() as (page, errors):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            # Log in: the console sends an anonymous visitor to the login page first.
            page.goto(f"{console.url}/explore/")
            expect(page).to_have_url(re.compile(r"/login/\?next=/explore/"))
            log_in(page)
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
            expect(page.locator("#breadcrumbs")).to_be_empty()

            # Drill down by clicking the legend entry: checkout, by endpoint.
            page.locator(".u-legend a.drill", has_text="service=checkout").click()
            by_endpoint = chart(page, 3)
            assert sorted(by_endpoint["labels"]) == [
                "endpoint=/cart",
                "endpoint=/confirm",
                "endpoint=/pay",
            ]
            for label in by_endpoint["labels"]:
                assert len(points(by_endpoint, label)) >= 10, (label, by_endpoint["data"])
            # The endpoints' latencies differ (20, 40, 60 ms base): the series are theirs.
            means = {
                label: statistics.mean(points(by_endpoint, label))
                for label in by_endpoint["labels"]
            }
            assert means["endpoint=/cart"] < means["endpoint=/pay"] < means["endpoint=/confirm"]
            expect(page.locator("#breadcrumbs")).to_have_text("All › service=checkout")
            expect(page.locator("#influxql")).to_contain_text("service::tag = 'checkout'")
            state = json.loads(parse_qs(urlsplit(page.url).query)["q"][0])
            assert state["group_by"] == ["endpoint"]
            assert state["drill"] == [{"tags": {"service": "checkout"}, "group_by": ["service"]}]
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-explore.png"))

            # The same view as CSV, through the page's download link (session auth).
            csv_url = page.locator("#csv").get_attribute("href")
            assert csv_url is not None
            download = page.request.get(f"{console.url}{csv_url}")
            assert download.ok, download.text()
            rows = list(csv.DictReader(io.StringIO(download.text())))
            assert {row["endpoint"] for row in rows} == {"/cart", "/confirm", "/pay"}
            assert list(rows[0]) == ["time", "endpoint", "p95"]

            # Save this view as a panel of the team's dashboard.
            save = page.locator("#save-panel")
            save.locator("select[name=dashboard]").select_option(label="Shop latency")
            save.locator("input[name=title]").fill("checkout by endpoint")
            save.get_by_role("button", name="Add panel").click()
            expect(page.locator("#status")).to_have_text('Added to "Shop latency".')

            # One level further by clicking the /pay line itself (where it is farthest
            # from the others, so it is the one highlighted): by host.
            click_series(page, "endpoint=/pay")
            by_host = chart(page, 2)
            assert sorted(by_host["labels"]) == ["host=checkout-1", "host=checkout-2"]
            expect(page.locator("#breadcrumbs")).to_have_text(
                "All › service=checkout › endpoint=/pay"
            )
            page.locator("#breadcrumbs a", has_text="service=checkout").click()
            assert sorted(chart(page, 3)["labels"]) == [
                "endpoint=/cart",
                "endpoint=/confirm",
                "endpoint=/pay",
            ]
            page.locator("#breadcrumbs a", has_text="All").click()
            assert sorted(chart(page, 2)["labels"]) == ["service=checkout", "service=search"]

            # The services overview: one row per service, sortable, linking to its page.
            page.get_by_role("link", name="Services", exact=True).click()
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

            # The service page: by endpoint and by host; a row opens Explore drilled in.
            expect(page).to_have_url(re.compile(r"/services/search/\?"))
            endpoints = page.locator("#by-endpoint tbody tr")
            expect(endpoints).to_have_count(3)
            expect(page.locator("#by-host tbody tr td:first-child")).to_have_text(
                ["search-1", "search-2"]
            )
            page.screenshot(path=str(ARTIFACTS / "console-service.png"))
            endpoints.get_by_role("link", name="/query").click()
            expect(page).to_have_url(re.compile(r"/explore/\?q="))
            drilled = chart(page, 2)
            assert sorted(drilled["labels"]) == ["host=search-1", "host=search-2"]
            expect(page.locator("#breadcrumbs")).to_have_text(
                "All › service=search › endpoint=/query"
            )

            # The dashboard: listed for the team, its panel drawn from the variable.
            page.get_by_role("link", name="Dashboards").click()
            expect(page).to_have_url(re.compile(r"/dashboards/$"))
            row = page.locator("table.results tbody tr")
            expect(row).to_have_count(1)
            updated = re.compile(r"^\d{4}-\d\d-\d\dT")
            cells: list[str | re.Pattern[str]] = ["Shop latency", "Payments", "2", updated]
            expect(row.locator("td")).to_have_text(cells)
            row.get_by_role("link", name="Shop latency").click()
            expect(page).to_have_url(re.compile(rf"/dashboards/{dashboard_id}/"))
            panel = page.locator(".panel").first
            expect(panel.locator("h3")).to_have_text("p95 of checkout by endpoint")
            expect(panel).to_have_attribute("data-series", "3")
            drawn = page.evaluate("window.crispPanels[0]")
            assert sorted(drawn["labels"]) == [
                "endpoint=/cart",
                "endpoint=/confirm",
                "endpoint=/pay",
            ]
            assert all(
                len([v for v in values if v is not None]) >= 10 for values in drawn["data"][1:]
            )
            assert panel.locator("canvas").count() >= 1
            # The panel saved from Explore: checkout by endpoint, whatever $service says.
            saved = page.locator(".panel").nth(1)
            expect(saved.locator("h3")).to_have_text("checkout by endpoint")
            expect(saved).to_have_attribute("data-series", "3")
            page.locator("select[name=service]").select_option("search")
            expect(panel.locator("h3")).to_have_text("p95 of search by endpoint")
            expect(page).to_have_url(re.compile(r"var-service=search"))
            page.wait_for_function("() => window.crispPanels[0].labels.includes('endpoint=/query')")
            page.locator("select[name=refresh]").select_option("30s")
            expect(page).to_have_url(re.compile(r"refresh=30s"))
            # Payments editors get the JSON editor; the export downloads the same document.
            expect(page.get_by_role("button", name="Edit JSON")).to_be_visible()
            exported = page.request.get(f"{console.url}/api/dashboards/{dashboard_id}/export/")
            assert exported.json()["variables"][0]["name"] == "service"
            page.screenshot(path=str(ARTIFACTS / "console-dashboard.png"))
            # A panel's title opens its query in Explore, the variable put in.
            panel.locator("h3 a").click()
            expect(page).to_have_url(re.compile(r"/explore/\?q="))
            in_explore = chart(page, 3)
            assert sorted(in_explore["labels"]) == sorted(
                f"endpoint={e}" for e in SERVICES["search"]
            )
            assert errors == [], errors
        except Exception:
            # What the browser showed when it went wrong, next to the success screenshot.
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-explore-failure.png"), full_page=True)
            raise
