"""The rule editor in a real browser: write a rule as YAML, preview where it would have
fired over the shop's last half hour of latency (chart + firing table), save it, and
find it in the rules list. Storage, console and the user come from the console's
browser test (``console`` fixture)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_console_browser import Console, browser_page, console, log_in

pytestmark = pytest.mark.e2e
__all__ = ["console"]  # the fixture, shared with the console's browser test

RULE = """name: checkout_p95_high
severity: critical
threshold: 0
duration: 1m
interval: 1m
database: shop
query: SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 5m GROUP BY service
"""


def test_rule_editor_previews_then_saves(console: Console) -> None:
    from playwright.sync_api import expect

    with browser_page() as (page, errors):
        page.goto(f"{console.url}/alerts/")
        log_in(page)
        expect(page.get_by_role("heading", name="Alert rules")).to_be_visible()
        page.get_by_role("link", name="New rule").click()

        page.locator("select[name=team]").select_option(label="Payments")
        page.locator("textarea[name=spec]").fill(RULE)
        page.locator("#preview-range").fill("1h")
        page.get_by_role("button", name="Preview").click()
        # Threshold 0: both services fire after their `for` minute, once each.
        expect(page.locator("#status")).to_have_text(
            re.compile(r"^2 series; firing 2 time\(s\) in range\.$")
        )
        expect(page.locator("#chart canvas").first).to_be_visible()
        expect(page.locator("#firing tbody tr")).to_have_count(2)
        expect(page.locator("#influxql")).to_contain_text("GROUP BY time(1m), service")

        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/alerts/rules/\d+/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("checkout_p95_high not evaluated")
        page.get_by_role("link", name="Rules").click()
        expect(page.get_by_role("link", name="checkout_p95_high")).to_be_visible()
        assert errors == []
