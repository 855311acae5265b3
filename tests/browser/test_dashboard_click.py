"""A click on the dashboard's charts opens the payments behind what was clicked.

A cabinet member's QA found that clicking a month on the trend, or a bar of the
directorate chart, did nothing: the payments were reached only through "View as
a table". Now a point or a part of a bar opens the same spend line list its cell
in the table links to (keyboard users keep the table's links: the chart is
hidden from screen readers and takes no focus).
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from councils.periods import month_end
from tests.browser.helpers import Screens, money

pytestmark = pytest.mark.browser
HINT = "Select a point to see the payments behind it, or view as a table."


def figure(page, chart_id: str) -> dict:
    return json.loads(page.locator(f"#{chart_id}-figure").text_content())


def table_row(page, chart_id: str, heading: str):
    chart = page.locator("figure.ls-chart").filter(
        has=page.locator(f"#{chart_id}-title")
    )
    if not chart.locator(".ls-chart__table table").is_visible():
        chart.get_by_text("View as a table", exact=True).click()
    return chart.locator(".ls-chart__table tbody tr").filter(
        has=page.get_by_role("rowheader", name=heading, exact=True)
    )


def click_centre(page, locator) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_click_on_a_month_or_a_bar_opens_its_payments(
    demo, live_server, page, watch, log_in, output_path
):
    base = live_server.url
    screens = Screens(output_path)
    log_in(page, base, "demo-cabinet")
    dashboard = f"{base}/c/luton/dashboard/"
    page.goto(dashboard)
    plots = page.locator(".ls-chart__plot")
    expect(plots.first.locator("svg.main-svg").first).to_be_attached()
    hints = page.locator(".ls-chart__hint")
    expect(hints).to_have_count(2)
    for hint in hints.all():
        expect(hint).to_be_visible()
        expect(hint).to_have_text(HINT)

    # The trend: the fourth month's point of the local share.
    trend = figure(page, "trend")
    share = trend["data"][0]
    assert share["name"] == "Local share"
    assert None not in share["y"], "every month of the demo has a share"
    index = 3
    month = date.fromisoformat(share["x"][index])
    row = table_row(page, "trend", f"{month:%B %Y}")
    cells = row.locator("td")
    table_link = cells.nth(2).get_by_role("link").get_attribute("href")
    local_spend = money(cells.nth(0).inner_text())
    # The server gave the point its table cell's link.
    assert share["customdata"][index] == table_link
    marker = plots.first.locator(".scatterlayer .trace").first.locator(".points path")
    click_centre(page, marker.nth(index))
    page.wait_for_url(re.compile(r"/c/luton/spend/\?"))
    assert page.url == base + table_link
    expect(page.get_by_role("heading", name="Spend lines")).to_be_visible()
    # The month's local payments, adding up to the table's local spend.
    sentence = page.locator(".ls-filters-in-force").inner_text()
    assert f"from {month:%-d %B %Y} to {month_end(month):%-d %B %Y}" in sentence, (
        sentence
    )
    assert "location local" in sentence, sentence
    found = re.search(
        r"([\d,]+) payments? totalling (−?£[\d,]+\.\d\d)",
        page.locator("main").inner_text(),
    )
    assert found and money(found[2]) == local_spend, (found and found[0], local_spend)
    screens.take(page, "month-clicked")

    # The directorates: the Local part of the largest directorate's bar.
    page.goto(dashboard)
    expect(plots.nth(1).locator("svg.main-svg").first).to_be_attached()
    bars = figure(page, "directorates")
    local = bars["data"][0]
    assert local["name"] == "Local"
    largest = local["y"][0]
    row = table_row(page, "directorates", largest)
    # Directorate, then Spend, Local, Wider area, …: Local is the second cell.
    table_link = row.locator("td").nth(1).get_by_role("link").get_attribute("href")
    assert local["customdata"][0] == table_link
    part = plots.nth(1).locator(".barlayer .trace").first.locator("path").first
    click_centre(page, part)
    page.wait_for_url(re.compile(r"/c/luton/spend/\?"))
    assert page.url == base + table_link
    sentence = page.locator(".ls-filters-in-force").inner_text()
    assert largest in sentence and "location local" in sentence, sentence
    screens.take(page, "bar-clicked")
    assert watch.errors == [], watch.errors
