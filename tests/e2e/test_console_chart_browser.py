"""Explore's chart with 100 series × 1,000 points in a real browser: every series is
drawn and in the legend, and hovering, hiding a series and zooming still work.

The same set-up as ``python -m crisp.bench.console_chart`` (which measures how smooth
it is; no timings are asserted here). Headless Debian Chromium through Playwright,
skipped without them as the other browser tests are.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisp.bench import console_chart
from crisp.bench.servers import running_server
from tests.conftest import require_binary
from tests.e2e.test_console_browser import require_playwright

pytestmark = pytest.mark.e2e

SERIES, POINTS = 100, 1000


@pytest.fixture
def chart_page(tmp_path: Path) -> Iterator[Any]:
    """A logged-in page on Explore showing SERIES hosts × POINTS points."""
    require_binary("chromium", "apt-get install chromium; CI installs .ci/debian-packages")
    require_playwright()
    chromium = shutil.which("chromium")
    assert chromium is not None
    with running_server("crisp", tmp_path / "storage") as storage:
        start_s = console_chart.aligned_start(POINTS)
        console_chart.write_points(storage.url, SERIES, POINTS, start_s)
        with (
            console_chart.running_console(tmp_path, storage.url) as console,
            console_chart.browser_page(chromium) as page,
        ):
            console_chart.log_in(page, console)
            page.goto(console_chart.explore_url(console, POINTS, start_s))
            page.wait_for_function(
                f"document.querySelector('#chart')?.dataset.series === '{SERIES}'"
            )
            yield page


def test_chart_draws_every_series_and_stays_usable(chart_page: Any) -> None:
    from playwright.sync_api import expect

    page = chart_page
    drawn = page.evaluate(
        """() => ({
            lengths: window.crispChart.data.map((column) => column.length),
            legend: [...document.querySelectorAll('#chart .u-legend .u-series')]
                .slice(1).map((row) => row.textContent),
            points: Number(document.querySelector('#chart').dataset.points),
        })"""
    )
    assert drawn["lengths"] == [POINTS] * (SERIES + 1)  # times, then one column a host
    assert drawn["points"] == SERIES * POINTS  # no gaps: every point reached the chart
    assert len(drawn["legend"]) == SERIES
    assert any("host=h000" in entry for entry in drawn["legend"])
    assert any("host=h099" in entry for entry in drawn["legend"])
    assert page.locator("#status").text_content().startswith(f"{SERIES} series, interval 10s")

    # Hover: the cursor follows the mouse and the legend shows the values under it.
    plot = page.locator("#chart .u-over").bounding_box()
    for fraction in (0.2, 0.5, 0.8):
        page.mouse.move(plot["x"] + plot["width"] * fraction, plot["y"] + plot["height"] / 2)
        index = page.evaluate("window.crispChart.uplot.cursor.idx")
        assert index == pytest.approx(POINTS * fraction, abs=POINTS * 0.02)
    value = page.locator("#chart .u-legend .u-series").nth(1).locator(".u-value")
    assert float(value.text_content()) > 0

    # A click on a series' legend swatch hides it, a second shows it again.
    row = page.locator("#chart .u-legend .u-series").nth(5)
    row.locator(".u-marker").click()
    expect(row).to_have_class(re.compile(r"\bu-off\b"))
    assert page.evaluate("window.crispChart.uplot.series[5].show") is False
    row.locator(".u-marker").click()
    assert page.evaluate("window.crispChart.uplot.series[5].show") is True

    # Drag to zoom into the middle of the range.
    y = plot["y"] + plot["height"] / 2
    page.mouse.move(plot["x"] + plot["width"] * 0.4, y)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] * 0.5, y, steps=5)
    page.mouse.up()
    zoomed = page.evaluate(
        "(() => { const u = window.crispChart.uplot; return [u.scales.x.min, u.scales.x.max,"
        " u.data[0][0], u.data[0][u.data[0].length - 1]]; })()"
    )
    low, high, first, last = zoomed
    assert first < low < high < last
    assert (high - low) < (last - first) / 5
