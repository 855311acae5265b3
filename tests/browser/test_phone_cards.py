"""Lists on a phone: each row a card, every value in sight.

QA: at 390px the uploads list showed only the file and when it came (the status,
rows and amount off to the right of a table that scrolled sideways, with nothing
to say so), and the payments list, where the dashboard's numbers lead, hid the
amount.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_each_upload_is_a_card_on_a_phone(demo, live_server, page, log_in):
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-finance")
    page.goto(base + "/c/luton/uploads/")
    table = page.locator("table.ls-table-cards")
    wrapper = page.locator(".ls-table-wrapper").filter(has=table)
    scroll, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll <= client, f"the table scrolls sideways: {scroll} > {client}"
    first = table.locator("tbody tr").first
    status = first.locator("td[data-label='Status']")
    expect(status).to_contain_text("Imported")
    amount = first.locator("td[data-label='Amount imported']")
    expect(amount).to_contain_text("£")
    box = amount.bounding_box()
    assert box["x"] + box["width"] <= 390


def test_each_payment_is_a_card_on_a_phone(demo, live_server, page, log_in):
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-cabinet")
    page.goto(base + "/c/luton/spend/")
    table = page.locator("table.ls-table-cards")
    wrapper = page.locator(".ls-table-wrapper").filter(has=table)
    scroll, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll <= client, f"the table scrolls sideways: {scroll} > {client}"
    amount = table.locator("tbody tr").first.locator("td[data-label='Amount']")
    expect(amount).to_contain_text("£")
    box = amount.bounding_box()
    assert box["x"] + box["width"] <= 390
