"""The targets and a supplier's latest payments on a 390px phone, as a cabinet
member (and an administrator, whose targets have Change and Remove links).

QA: the targets table scrolled about 590px sideways inside its wrapper, and on
a supplier's page the amounts of the latest payments were cut off at the
screen's edge. Below 60em each row is now a card (as the payments list's and
the dashboard's tables are), each value beside its label and on the screen.
"""

from __future__ import annotations

import pytest
from django.db.models import Sum
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = 390


def _fits_the_phone(page, table) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE, f"the page scrolls sideways: {width}px"
    wrapper = page.locator(".ls-table-wrapper").filter(has=table)
    scroll, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll <= client, f"the table scrolls sideways: {scroll} > {client}"


def _wholly_in_sight(cell) -> None:
    """The cell ends on the screen, and its text is not cut short inside it."""
    box = cell.bounding_box()
    text = cell.inner_text()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (
        f"{text!r} runs from {box['x']:.0f}px to {box['x'] + box['width']:.0f}px"
    )
    scroll, client = cell.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert scroll <= client, f"{text!r} is cut short: {scroll} > {client}"


@pytest.mark.parametrize("user", ["demo-cabinet", "demo-admin"])
def test_the_targets_fit_a_phone(demo, live_server, page, log_in, user):
    base = live_server.url
    page.set_viewport_size({"width": PHONE, "height": 900})
    log_in(page, base, user)
    page.goto(base + "/c/luton/targets/")
    table = page.get_by_role("table", name="Targets")
    expect(table).to_be_visible()
    _fits_the_phone(page, table)
    rows = table.locator("tbody tr")
    assert rows.count() >= 4  # the demo's four targets
    for row in rows.all():
        for label in ("Baseline", "Target"):
            cell = row.locator(f"td[data-label='{label}']")
            expect(cell).to_contain_text("% in ")
            _wholly_in_sight(cell)
        trajectory = row.locator("td[data-label^='Trajectory for']")
        expect(trajectory).to_contain_text("%")
        _wholly_in_sight(trajectory)
    if user == "demo-admin":
        for link in table.get_by_role("link").all():
            _wholly_in_sight(link)


def test_a_suppliers_latest_payments_fit_a_phone(demo, live_server, page, log_in):
    from spend.models import SupplierMonth

    busiest = (
        SupplierMonth.objects.filter(council__slug="luton", supplier__isnull=False)
        .values("supplier_id")
        .annotate(lines=Sum("lines"))
        .order_by("-lines")
        .first()
    )
    base = live_server.url
    page.set_viewport_size({"width": PHONE, "height": 900})
    log_in(page, base, "demo-cabinet")
    page.goto(f"{base}/c/luton/suppliers/{busiest['supplier_id']}/")
    table = page.get_by_role("table", name="Latest payments", exact=False)
    expect(table).to_be_visible()
    _fits_the_phone(page, table)
    amounts = table.locator("td[data-label='Amount']")
    assert amounts.count() >= 5
    for amount in amounts.all():
        expect(amount).to_contain_text("£")
        _wholly_in_sight(amount)
