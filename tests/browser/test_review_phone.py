"""The review queue's possible duplicates at a phone's width and a laptop's.

QA: on a 390px phone the "Possibly the same organisation" table was wider than
the screen, its "Same: merge" and "Different" buttons off to the right (the
table scrolled sideways inside its wrapper). Below 60em each suggestion is now a
card, its buttons under the names; wider, it is a table that fits.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [390, 1280])
def test_the_review_queues_buttons_are_on_the_screen(
    demo, live_server, page, log_in, width
):
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(base + "/c/luton/review/")
    table = page.get_by_role("table", name="Possible duplicates")
    expect(table).to_be_visible()
    # The page does not scroll sideways, nor does the table inside its wrapper.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wrapper = page.locator(".ls-table-wrapper").filter(has=table)
    scroll, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll <= client, f"the table scrolls sideways: {scroll} > {client}"
    merges = table.get_by_role("link", name="Same: merge")
    differents = table.get_by_role("button", name="Different")
    assert merges.count() >= 1 and differents.count() >= 1
    for button in [*merges.all(), *differents.all()]:
        box = button.bounding_box()
        name = button.inner_text()
        assert box["x"] >= 0, f"{name} is off the left of the screen"
        assert box["x"] + box["width"] <= width, (
            f"{name} ends at {box['x'] + box['width']:.0f}px, past the {width}px screen"
        )
    # Each suggestion still names both suppliers and what is known of them.
    first = table.get_by_role("row").nth(1)
    expect(first.get_by_role("link")).to_have_count(3)  # both names and the merge
    expect(first).to_contain_text("%")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_unknown_tags_table_fits_the_screen(demo, live_server, page, log_in, width):
    """QA: the "Unknown location, size or VCSE status" table scrolled sideways on
    a phone, its spend column off the screen. It is cards there too."""
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(base + "/c/luton/review/")
    table = page.get_by_role("table", name="Suppliers with unknown tags")
    expect(table).to_be_visible()
    wrapper = page.locator(".ls-table-wrapper").filter(has=table)
    scroll, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll <= client, f"the table scrolls sideways: {scroll} > {client}"
    first = table.get_by_role("row").nth(1)
    expect(first.get_by_role("link")).to_have_count(1)
    expect(first).to_contain_text("£")
    box = first.get_by_text("£").bounding_box()
    assert box["x"] + box["width"] <= width
