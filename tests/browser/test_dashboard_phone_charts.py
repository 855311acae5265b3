"""The dashboard's trend and directorate charts as drawn, on a laptop and a
phone, and its period boxes (QA as a cabinet member).

QA: on a 390px phone a target four years off drew its projection across three
quarters of the trend, the months with spend squeezed into the rest; the
"Projected, not spend →" note crowded a month's name on the axis; the
directorate chart's amounts were turned on end. The trend's hover label read
"Nov 2025 / Share : 26.9% / Target : 70.0%": no measure, no pounds.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from councils.periods import FinancialYear, add_months

pytestmark = pytest.mark.browser
PHONE, LAPTOP = 390, 1280


@pytest.fixture
def far_target(demo):
    """The demo, with the Living Wage target four years off."""
    from socialvalue.models import Target

    now = FinancialYear.for_date(timezone.localdate())
    Target.objects.filter(council__slug="luton", metric="living_wage").update(
        target_year=now.start_year + 4
    )
    return now


def _open(page, base, log_in, width, query=""):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, base, "demo-cabinet")
    page.goto(f"{base}/c/luton/dashboard/{query}")
    trend = page.locator('[data-figure="trend-figure"]')
    expect(trend.locator("svg.main-svg").first).to_be_attached()
    return trend


def _axis_end(trend) -> date:
    end = trend.evaluate("e => e.layout.xaxis.range[1]")
    return date.fromisoformat(str(end)[:10])


def _last_with_spend(trend) -> date:
    return date.fromisoformat(
        trend.evaluate("e => e.data[0].x[e.data[0].x.length - 1]")
    )


def _boxes(locator) -> list[dict]:
    return locator.evaluate_all(
        "ts => ts.map(t => { const b = t.getBoundingClientRect();"
        " return {x: b.left, y: b.top, r: b.right, b: b.bottom, text: t.textContent}; })"
    )


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]


def test_on_a_phone_the_projection_is_cut_and_said_to_be(
    far_target, live_server, page, log_in
):
    base = live_server.url
    trend = _open(page, base, log_in, PHONE, "?metric=living_wage")
    last = _last_with_spend(trend)
    deadline = FinancialYear(far_target.start_year + 4).end
    # Drawn to 12 months after the last month with spend, not to the deadline.
    assert _axis_end(trend) < add_months(last, 14), _axis_end(trend)
    note = page.locator(".ls-chart__narrow-note")
    expect(note).to_be_visible()
    expect(note).to_have_text(
        f"On a narrow screen the chart shows the projection to "
        f"{add_months(last, 12):%B %Y} only: the table gives it to {deadline:%B %Y}."
    )
    # The note at the foot of the projection is clear of the months' names.
    ticks = _boxes(trend.locator(".xtick text"))
    marks = _boxes(trend.locator(".annotation-text"))
    projected = [m for m in marks if m["text"].startswith("Projected")]
    assert projected, marks
    note_box = projected[0]
    below = [t for t in ticks if t["x"] < note_box["r"] and note_box["x"] < t["r"]]
    assert below, (note_box, ticks)  # a month's name under the note, then
    for tick in below:  # with a clear line of space between them
        assert tick["y"] - note_box["b"] >= 8, (note_box, tick)
    # Turned round to a laptop's width, the whole projection is drawn again.
    page.set_viewport_size({"width": LAPTOP, "height": 900})
    expect(note).to_be_hidden()
    page.wait_for_function(
        "() => new Date(document.querySelector('[data-figure=\"trend-figure\"]')"
        f".layout.xaxis.range[1]) > new Date('{deadline:%Y-%m-01}')"
    )


def test_on_a_laptop_the_whole_projection_is_drawn(
    far_target, live_server, page, log_in
):
    trend = _open(page, live_server.url, log_in, LAPTOP, "?metric=living_wage")
    deadline = FinancialYear(far_target.start_year + 4).end
    assert _axis_end(trend) >= deadline
    expect(page.locator(".ls-chart__narrow-note")).to_be_hidden()


def test_on_a_phone_the_directorates_amounts_are_level(demo, live_server, page, log_in):
    _open(page, live_server.url, log_in, PHONE)
    chart = page.locator('[data-figure="directorates-figure"]')
    expect(chart.locator("svg.main-svg").first).to_be_attached()
    ticks = chart.locator(".xtick text")
    assert ticks.count() >= 2
    turned = ticks.evaluate_all(
        "ts => ts.map(t => t.getAttribute('transform') || '')"
        ".filter(t => t.includes('rotate'))"
    )
    assert turned == [], turned
    boxes = _boxes(ticks)
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert not _overlap(a, b), (a, b)


def test_the_trend_hover_names_the_measure_and_the_pounds(
    demo, live_server, page, log_in
):
    trend = _open(page, live_server.url, log_in, LAPTOP)
    point = trend.locator(".scatterlayer .trace").first.locator(".points path")
    last = point.nth(point.count() - 1)
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    page.mouse.move(box["x"] - 30, box["y"])
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    label = trend.locator(".hoverlayer")
    expect(label.locator("text").first).to_be_attached()
    lines = label.locator("text").evaluate_all("ts => ts.map(t => t.textContent)")
    share = [line for line in lines if line.startswith("Local share: ")]
    assert share and " of £" in share[0] and "(£" in share[0], lines
    assert not any(" :" in line for line in lines), lines
    # The last month with spend shows the projection too, told apart.
    assert any(line.startswith("Projection, not spend: ") for line in lines), lines
    assert any(line.startswith("Target: ") for line in lines), lines


def test_the_year_box_shows_only_where_it_counts(demo, live_server, page, log_in):
    """Months chosen and the last 12 months carry their own years."""
    _open(page, live_server.url, log_in, LAPTOP)
    year = page.locator('[data-field="year"]')
    months = page.locator('[data-field="month_from"], [data-field="month_to"]')
    expect(year).to_be_visible()
    page.select_option('[data-field="period"] select', "months")
    expect(year).to_be_hidden()
    expect(months.first).to_be_visible()
    page.select_option('[data-field="period"] select', "last12")
    expect(year).to_be_hidden()
    expect(months.first).to_be_hidden()
    page.select_option('[data-field="period"] select', "q1")
    expect(year).to_be_visible()
