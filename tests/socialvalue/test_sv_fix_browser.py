"""Social value in a real browser (as tests/browser): the council's totals fit a
laptop's page however far a contract delivers past its commitment, and a
contract's delivery returns are cards on a phone.

QA: at 1280px the totals table was 973px in a 960px page, its proxy value
column cut off ("£5,200.0"), after a share of "25000025.0%"; at 390px the
returns' "Entered" and their Change and Remove links were off the screen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401 (the browser tests' fixtures)
    browser_type_launch_args,
    demo,
    log_in,
    page,
)

pytestmark = pytest.mark.browser


def _far_past_the_commitment():
    """A commitment of 4 apprenticeships with 1,000,001 delivered, on the demo's
    first contract (its reference has hyphens, as council references do)."""
    from procure.models import Contract
    from socialvalue.models import Commitment, DeliveryReturn, Measure

    contract = Contract.objects.filter(council__slug="luton").order_by("pk").first()
    commitment = Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-04"),
        quantity=Decimal("4"),
        period_start=max(contract.start_date, date(2025, 4, 1)),
        period_end=max(contract.start_date, date(2025, 4, 1)).replace(month=12, day=31),
    )
    DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal("1000001"),
        period_start=commitment.period_start,
        period_end=commitment.period_start.replace(day=28),
        evidence_note="Register of apprentices",
        confirmed=True,
    )
    return contract


def _scrolls(locator) -> list[str]:
    return locator.evaluate_all(
        "ws => ws.filter(w => w.scrollWidth > w.clientWidth)"
        ".map(w => `${w.scrollWidth} > ${w.clientWidth}`)"
    )


def test_the_totals_fit_a_laptop_page(demo, live_server, page, log_in):  # noqa: F811
    _far_past_the_commitment()
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(base + "/c/luton/social-value/")
    expect(page.get_by_text("over 1,000%")).to_be_visible()
    assert _scrolls(page.locator(".ls-table-wrapper")) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"the page scrolls sideways: {width}px"
    # Every proxy value in sight, inside the page's 960px column.
    main = page.locator("main").bounding_box()
    cells = page.locator("td[data-label^='Proxy value']")
    assert cells.count() >= 1
    for i in range(cells.count()):
        box = cells.nth(i).bounding_box()
        assert box["x"] + box["width"] <= main["x"] + main["width"] + 1


def test_the_delivery_returns_are_cards_on_a_phone(
    demo,  # noqa: F811
    live_server,
    page,  # noqa: F811
    log_in,  # noqa: F811
):
    contract = _far_past_the_commitment()
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(f"{base}/c/luton/contracts/{contract.pk}/social-value/")
    tables = page.locator("table.ls-table-cards").filter(
        has=page.locator("caption", has_text="Delivery returns")
    )
    assert tables.count() >= 1
    assert _scrolls(page.locator(".ls-table-wrapper")) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    first = tables.first.locator("tbody tr").first
    for seen in (
        first.locator("td[data-label='Entered']"),
        first.get_by_role("link", name="Change"),
        first.get_by_role("link", name="Remove"),
    ):
        expect(seen).to_be_visible()
        box = seen.bounding_box()
        assert box["x"] + box["width"] <= 390
