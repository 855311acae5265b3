"""The dashboard's charts for a period with little or no spend, as drawn.

QA: Q1 of a year whose spend starts in the autumn drew the directorate chart
on an axis from £-1 to £6, and the trend with each month named twice on its
axis ("Apr 2024, Apr 2024, May 2024 …") and no target line, where the year
view draws one. A short quarter with spend named its months twice too.
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def from_october_2024(live_server, load_demo_data):
    """The 14-month demo as loaded on 15 November 2025: spend from October
    2024, so April to June 2024 (Q1 2024/25) have none."""
    return load_demo_data(date(2025, 11, 15))


def _ticks(page, chart: str, axis: str) -> list[str]:
    return page.locator(
        f'[data-figure="{chart}-figure"] .{axis}tick text'
    ).evaluate_all("ts => ts.map(t => t.textContent)")


@pytest.mark.parametrize("width", [390, 1280])
def test_an_empty_quarter_draws_no_axes_of_nothing(
    from_october_2024, live_server, page, log_in, width
):
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, base, "demo-cabinet")
    page.goto(base + "/c/luton/dashboard/?year=2024&period=q1")
    trend = page.locator('[data-figure="trend-figure"]')
    expect(trend.locator("svg.main-svg").first).to_be_attached()
    # No directorate chart: a sentence instead.
    expect(page.locator('[data-figure="directorates-figure"]')).to_have_count(0)
    expect(page.locator("#directorates-summary")).to_have_text(
        "No spend in this period: there is nothing to chart."
    )
    # The trend: each month named once, no negative share, the target drawn.
    months = _ticks(page, "trend", "x")
    assert months == ["Apr 2024", "May 2024", "Jun 2024"], months
    shares = _ticks(page, "trend", "y")
    assert shares[0] == "0%" and not any("−" in s or "-" in s for s in shares)
    expect(trend.locator(".legendtext")).to_have_text(["Target trajectory"])
    expect(trend.locator(".scatterlayer .trace path.js-line")).to_have_count(1)


def test_a_short_quarter_names_each_month_once(
    from_october_2024, live_server, page, log_in
):
    """At a laptop's width (a phone's is too narrow for plotly to tick each
    fortnight)."""
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, "demo-cabinet")
    page.goto(base + "/c/luton/dashboard/?year=2024&period=q3")
    trend = page.locator('[data-figure="trend-figure"]')
    expect(trend.locator("svg.main-svg").first).to_be_attached()
    months = _ticks(page, "trend", "x")
    assert len(months) == len(set(months)), months
    assert "Dec 2024" in months
    expect(trend.locator(".legendtext")).to_contain_text(["Target trajectory"])
