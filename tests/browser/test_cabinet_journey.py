"""The cabinet member's journey, in a real browser, as a new user would make it.

Signs in as demo-cabinet, finds the dashboard from the menu, reads the headline
tiles and the charts, narrows the period, reads a chart as a table, follows the
Local share to the payments behind it, exports them, and prints the dashboard.
Every figure followed is checked against the figure it came from, to the penny.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.helpers import Screens

pytestmark = pytest.mark.browser

STATED_TOTAL = re.compile(r"([\d,]+) payments? totalling (−?£[\d,]+\.\d\d)")


def money(text: str) -> Decimal:
    """£1,234.56 or −£12.00 (a real minus sign, as the pages write it) as a Decimal."""
    text = text.strip().replace("\u2212", "-").replace("£", "").replace(",", "")
    return Decimal(text)


def read_csv(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def stated_total(page) -> tuple[int, Decimal]:
    """The line list's "N payments totalling £X"."""
    found = STATED_TOTAL.search(page.locator("main").inner_text())
    assert found, "the spend line list states no count and total"
    return int(found[1].replace(",", "")), money(found[2])


def test_cabinet_member_reads_drills_down_exports_and_prints(
    demo, live_server, page, watch, log_in, output_path
):
    base = live_server.url
    screens = Screens(output_path)

    # Sign in, then reach the dashboard from the council's menu.
    log_in(page, base, "demo-cabinet")
    page.get_by_role("link", name="Luton Borough Council").click()
    menu = page.get_by_role("navigation", name="Menu")
    menu.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page).to_have_url(f"{base}/c/luton/dashboard/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Where the money went:")
    year_heading = heading.inner_text()

    # The headline tiles: a share for each measure, its status, and the unknown.
    tiles = page.locator(".ls-tile:not(.ls-tile--total)")
    expect(tiles).to_have_count(5)
    local = tiles.filter(has=page.get_by_role("heading", name="Local", exact=True))
    expect(local.locator(".ls-tile__figure")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(local.locator(".govuk-tag")).to_have_text(
        re.compile("On target|Close to target|Below target")
    )
    expect(local).to_contain_text("Target for")
    for tile in tiles.all():
        expect(tile.locator(".ls-unknown")).to_contain_text("Unknown:")
    # The filters are stated in words (what a printed page keeps).
    stated = page.locator(".ls-stated-filters")
    expect(stated).to_contain_text("Showing: Period:")
    expect(stated).to_contain_text("Payments to public sector bodies: left out")
    expect(stated).to_contain_text("is counted below")

    # Both plotly charts draw, from the vendored plotly.js.
    plots = page.locator(".ls-chart__plot")
    expect(plots).to_have_count(2)
    for plot in plots.all():
        expect(plot.locator("svg.main-svg").first).to_be_attached()
    assert watch.errors == [], watch.errors
    screens.take(page, "dashboard")

    # Look at the year before, then come back to this one.
    year = page.get_by_label("Financial year", exact=True)
    this_year = year.input_value()
    other = [
        value
        for value in year.locator("option").evaluate_all("os => os.map(o => o.value)")
        if value != this_year
    ]
    assert other, "the demo has more than one financial year"
    year.select_option(other[0])
    page.get_by_role("button", name="Show").click()
    earlier = f"{int(other[0])}/{(int(other[0]) + 1) % 100:02d}"
    expect(heading).to_contain_text(earlier)
    expect(page.locator(".ls-chart__plot svg.main-svg").first).to_be_attached()
    screens.take(page, "another-year")
    page.get_by_label("Financial year", exact=True).select_option(this_year)

    # Narrow the period to the first quarter; the heading says so.
    page.get_by_label("Period", exact=True).select_option("q1")
    page.get_by_role("button", name="Show").click()
    expect(heading).to_contain_text(re.compile(r"Where the money went: Q1 \d{4}/\d\d"))
    expect(heading).to_contain_text("(April to June")
    assert heading.inner_text() != year_heading
    expect(stated).to_contain_text("Period: Q1")
    expect(page.locator(".ls-chart__plot svg.main-svg").first).to_be_attached()
    screens.take(page, "first-quarter")

    # Read the trend as a table instead of a chart.
    trend = page.locator("figure.ls-chart").filter(has=page.locator("#trend-title"))
    table = trend.locator(".ls-chart__table table")
    expect(table).to_be_hidden()
    # Exactly: the hint under the chart ends "or view as a table" too.
    trend.get_by_text("View as a table", exact=True).click()
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() >= 3

    # The exact figures behind the tiles, as the dashboard exports them.
    page.get_by_text("How these figures are worked out").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    tiles_csv = read_csv(download.value.path())
    assert tiles_csv[0][0] == "Luton Borough Council: Headline figures"
    assert any("Period: Q1" in row[0] for row in tiles_csv[1:4] if row), tiles_csv[:5]
    header = next(row for row in tiles_csv if row and row[0] == "Measure")
    local_row = next(row for row in tiles_csv if row and row[0] == "Local")
    local_amount = money(local_row[header.index("Spend counted in the share (£)")])
    assert local_amount > 0

    # Everything counted: the stated total is the line list's total.
    dashboard_url = page.url
    counted = re.search(
        r"(−?£[\d,]+\.\d\d) in ([\d,]+) payments? is counted", stated.inner_text()
    )
    assert counted, stated.inner_text()
    stated.get_by_role("link", name="See the payments counted").click()
    expect(page.get_by_role("heading", name="Spend lines")).to_be_visible()
    assert stated_total(page) == (
        int(counted[2].replace(",", "")),
        money(counted[1]),
    )

    # Follow the Local share to the payments behind it: the same money.
    page.goto(dashboard_url)
    local.locator(".ls-tile__figure a").click()
    expect(page.get_by_role("heading", name="Spend lines")).to_be_visible()
    count, total = stated_total(page)
    assert total == local_amount, (
        f"the Local tile counts £{local_amount}, its payments total £{total}"
    )
    sentence = page.locator(".ls-filters-in-force").inner_text()
    assert sentence.startswith("Showing payments from 1 April"), sentence
    assert "to 30 June" in sentence, sentence
    screens.take(page, "local-payments")

    # Export those payments: the CSV states the filters, and its rows add up.
    with page.expect_download() as download:
        page.get_by_role("link", name="as CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    rows = read_csv(download.value.path())
    preamble = {row[0]: row[1] for row in rows[:5]}
    assert preamble["Council"] == "Luton Borough Council"
    assert sentence == f"Showing payments {preamble['Filters'].replace('; ', ', ')}."
    assert int(preamble["Payments"]) == count
    assert money(preamble["Total (£)"]) == total
    header = rows[6]
    amounts = [money(row[header.index("Amount (£)")]) for row in rows[7:]]
    assert len(amounts) == count
    assert sum(amounts) == total

    # … and as Excel: the same lines, the same total, in real number cells.
    with page.expect_download() as download:
        page.get_by_role("link", name="as Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as f:  # a temporary name, no .xlsx
        cells = list(
            load_workbook(f, read_only=True).active.iter_rows(values_only=True)
        )
    assert cells[0][:2] == ("Council", "Luton Borough Council")
    assert cells[1][1] == preamble["Filters"]
    assert cells[2][1] == count
    amount_column = list(cells[6]).index("Amount (£)")
    excel_amounts = [Decimal(str(row[amount_column])) for row in cells[7:]]
    assert len(excel_amounts) == count
    assert sum(excel_amounts) == total

    # Print the dashboard for a cabinet paper: the form goes, the filters stay.
    page.goto(dashboard_url)
    expect(page.locator(".ls-chart__plot svg.main-svg").first).to_be_attached()
    page.emulate_media(media="print")
    expect(page.locator("form.ls-dashboard-filters")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Menu")).to_be_hidden()
    expect(stated).to_be_visible()
    expect(stated).to_contain_text("Period: Q1")
    screens.take(page, "printed")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= 1, f"the PDF has no pages ({len(pdf)} bytes)"

    # Nothing went wrong in the page, and nothing was fetched from elsewhere.
    assert watch.errors == [], watch.errors
    assert watch.offsite(base) == [], watch.offsite(base)
    assert base.startswith("http://127.0.0.1:")

    # A cabinet member reads: no page that writes is offered, or opens.
    page.emulate_media(media="screen")
    menu_links = page.get_by_role("navigation", name="Menu").get_by_role("link")
    hrefs = menu_links.evaluate_all("links => links.map(a => a.pathname)")
    assert not [h for h in hrefs if h.endswith(("/new/", "/edit/", "/import/"))]
    for path in ("uploads/new/", "contracts/new/", "targets/new/", "contracts/import/"):
        response = page.goto(f"{base}/c/luton/{path}")
        assert response.status == 403, (path, response.status)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screens.take(page, "refused")
