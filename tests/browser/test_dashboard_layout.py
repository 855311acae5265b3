"""The dashboard's layout in a real browser, at a desktop's and a phone's width.

A QA pass found the page scrolling sideways (the monthly table ~1,220px wide in
a 955px column; "how complete the picture is" 436px wide on a 390px phone) and
the status key's grey tag broken over two lines. Measured with the browser
tests' chromium (conftest.py) against `live_server`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from councils.periods import add_months
from socialvalue.models import Target
from spend import rollup

pytestmark = pytest.mark.browser
D = Decimal
WIDTHS = (1280, 390)


@pytest.fixture
def two_years(live_server, council, make_supplier, make_line, make_tag, monkeypatch):
    """April 2024 to December 2025, seen on 15 January 2026: millions a month
    (long figures) in six directorates with long names, a local supplier, one
    elsewhere in the UK and one whose location is unknown."""
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 1, 15))
    here = make_supplier(name="Here Ltd", verified=True)
    there = make_supplier(name="There Group plc", verified=True)
    nobody = make_supplier(name="Nobody Ltd")
    make_tag(here, "locality", "local", council)
    make_tag(there, "locality", "uk", council)
    directorates = [
        "Adult Social Care and Health Partnerships",
        "Children's Services and Education",
        "Place, Infrastructure and Regeneration",
        "Corporate Services and Resources",
        "Housing and Communities",
        "Public Health and Wellbeing",
    ]
    for i in range(21):
        month = add_months(date(2024, 4, 1), i)
        for n, department in enumerate(directorates):
            for supplier, amount in (
                (here, 1_234_567 + 1_000 * i + n),
                (there, 3_456_789 + 700 * i),
                (nobody, 98_765),
            ):
                make_line(
                    council,
                    supplier=supplier,
                    amount=D(amount) + D("0.45"),
                    payment_date=month.replace(day=10),
                    department=department,
                )
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("25"),
        target_year=2027,
        target_share=D("70"),
    )
    rollup.rebuild(council.pk)


def test_the_dashboard_does_not_scroll_sideways_and_its_key_sits_on_its_lines(
    live_server, client, viewer, two_years, page
):
    client.force_login(viewer)
    session = client.cookies["sessionid"].value
    url = live_server.url + reverse("spend:dashboard", args=["luton"])
    page.context.add_cookies(
        [{"name": "sessionid", "value": session, "url": live_server.url}]
    )
    measured = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{url}?year=2025")
        # Every "view as a table" open: the widest the page gets.
        page.evaluate(
            "document.querySelectorAll('details').forEach(d => d.open = true)"
        )
        page.wait_for_timeout(200)  # the resize observer's turn
        measured[width] = page.evaluate(
            """() => {
              const wrapper = t => t.closest('.ls-table-wrapper');
              const trend = document.querySelector('#trend-figure')
                .closest('figure').querySelector('table');
              const key = [...document.querySelectorAll(
                '.ls-status-legend .govuk-tag')];
              return {
                page: document.documentElement.scrollWidth,
                view: window.innerWidth,
                tables: [...document.querySelectorAll('main table')].map(
                  t => [t.caption.innerText.slice(0, 40), !!wrapper(t)]),
                trend: [trend.scrollWidth, wrapper(trend).clientWidth],
                key: key.map(k => [k.innerText,
                                   k.getBoundingClientRect().height]),
                wrappers: [...document.querySelectorAll('main .ls-table-wrapper')]
                  .filter(w => w.offsetParent !== null).map(w => ({
                    scrolls: w.scrollWidth > w.clientWidth + 1,
                    tabindex: w.getAttribute('tabindex'),
                    role: w.getAttribute('role'),
                    label: w.getAttribute('aria-label') || '',
                  })),
              };
            }"""
        )
    for width, found in measured.items():
        # The page itself never scrolls sideways: a wide table scrolls in its own
        # wrapper.
        assert found["page"] <= found["view"], (width, found["page"])
        # The trend's, every measure month by month, directorates, the two
        # supplier lists, data quality.
        assert len(found["tables"]) == 6
        assert all(wrapped for _, wrapped in found["tables"]), found["tables"]
        # Each status of the key on one line: no taller than the shortest.
        heights = dict(found["key"])
        assert set(heights) == {
            "On target",
            "Close to target",
            "Below target",
            "Too little known to judge",
        }
        one_line = min(heights.values())
        assert all(h < one_line * 1.5 for h in heights.values()), (width, heights)
    # A wrapper that scrolls is a labelled region in the tab order, so it can be
    # scrolled from the keyboard; one that fits is not (static/localspend/init.js).
    for width, found in measured.items():
        for wrapper in found["wrappers"]:
            if wrapper["scrolls"]:
                assert (wrapper["tabindex"], wrapper["role"]) == ("0", "region")
                assert wrapper["label"].endswith("(scrolls sideways)"), wrapper
            else:
                assert wrapper["tabindex"] is None, (width, wrapper)
    # On a phone the charts' tables are cards (test_phone_cards.py): none scrolls.
    assert not any(w["scrolls"] for w in measured[390]["wrappers"])
    # On a desktop the monthly table fits its column, its last column
    # ("Projection (not spend)") in sight without scrolling.
    table, column = measured[1280]["trend"]
    assert table <= column, measured[1280]["trend"]


def test_the_months_boxes_show_only_for_months_chosen(
    live_server, client, viewer, two_years, page
):
    """QA: the From and To month boxes stayed in sight (April, March) with a
    quarter chosen, where they count for nothing."""
    client.force_login(viewer)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(
        live_server.url + reverse("spend:dashboard", args=["luton"]) + "?year=2025"
    )
    months = page.locator('[data-field="month_from"], [data-field="month_to"]')
    assert [months.nth(i).is_visible() for i in range(2)] == [False, False]
    page.select_option('[data-field="period"] select', "months")
    assert [months.nth(i).is_visible() for i in range(2)] == [True, True]
    page.select_option('[data-field="period"] select', "q2")
    assert [months.nth(i).is_visible() for i in range(2)] == [False, False]


def test_the_supplier_list_fits_a_laptop_screen_and_marks_its_sorted_column(
    live_server, client, viewer, two_years, make_tag, page
):
    """QA: at 1280 pixels the supplier list's spend column was cut off (it
    scrolled out of sight), and the sorted column had no mark but aria-sort."""
    from procure.models import Supplier

    for supplier in Supplier.objects.all():
        make_tag(supplier, "living_wage", "unknown")
    client.force_login(viewer)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(
        live_server.url + reverse("procure:suppliers", args=["luton"]) + "?year=2025"
    )
    found = page.evaluate(
        """() => {
          const wrapper = document.querySelector('main .ls-table-wrapper');
          const sorted = document.querySelector('th[aria-sort="descending"] a');
          return {
            scrolls: wrapper.scrollWidth > wrapper.clientWidth + 1,
            mark: sorted ? getComputedStyle(sorted, '::after').content : null,
          };
        }"""
    )
    assert not found["scrolls"]
    assert found["mark"] == '" ▼"'
