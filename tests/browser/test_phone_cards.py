"""Lists on a phone: each row a card, every value in sight.

QA: at 390px the uploads list showed only the file and when it came (the status,
rows and amount off to the right of a table that scrolled sideways, with nothing
to say so), and the payments list, where the dashboard's numbers lead, hid the
amount.
"""

from __future__ import annotations

import re

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


def _fits(page, table) -> None:
    wrapper = table.locator("xpath=..")
    scroll, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll <= client, f"the table scrolls sideways: {scroll} > {client}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"


def test_dashboard_chart_tables_are_cards_on_a_phone(demo, live_server, page, log_in):
    """QA: the charts' "view as a table" (month by month, and by directorate)
    scrolled sideways on a phone, the target and projection out of sight."""
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-cabinet")
    page.goto(base + "/c/luton/dashboard/")
    figures = page.locator("figure.ls-chart")
    assert figures.count() >= 2
    for i in range(figures.count()):
        figure = figures.nth(i)
        figure.locator("summary").click()
        table = figure.locator("table.ls-table-cards")
        _fits(page, table)
        first = table.locator("tbody tr").first
        share = first.locator("td[data-label]").filter(has_text="%").first
        expect(share).to_be_visible()
        box = share.bounding_box()
        assert box["x"] + box["width"] <= 390
    # A projected month has no spend: its blank cells are not shown as labels
    # with nothing after them.
    trend = figures.first.locator("table tbody tr").last
    expect(trend.locator("th")).to_contain_text("projected")
    for cell in trend.locator("td[data-label]").all():
        if not cell.inner_text().replace(cell.get_attribute("data-label"), "").strip():
            expect(cell).to_be_hidden()


def test_members_are_cards_on_a_phone_and_a_table_on_a_desktop(
    demo, live_server, page, log_in
):
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-admin")
    page.goto(base + "/c/luton/settings/members/")
    table = page.locator("table.ls-table-cards")
    _fits(page, table)
    role = table.locator("tbody tr").first.locator("td[data-label='Role']")
    expect(role).to_be_visible()
    expect(table.locator("thead")).not_to_be_in_viewport()
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(table.locator("thead th").first).to_be_visible()
    head = table.locator("thead th").first.bounding_box()
    assert head["width"] > 1 and head["height"] > 1


def test_contract_payments_are_cards_on_a_phone(demo, live_server, page, log_in):
    from procure.models import Contract
    from spend.models import SpendLine

    contract = (
        Contract.objects.filter(council__slug="luton", spend_lines__isnull=False)
        .distinct()
        .first()
    )
    assert contract is not None and SpendLine.objects.filter(contract=contract).exists()
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(base + contract.get_absolute_url())
    table = page.locator("#linked-payments table.ls-table-cards")
    _fits(page, table)
    amount = table.locator("tbody tr").first.locator("td[data-label='Amount']")
    expect(amount).to_contain_text("£")
    box = amount.bounding_box()
    assert box["x"] + box["width"] <= 390


@pytest.mark.parametrize(
    "path",
    [
        "suppliers/",
        "contracts/",
        "contracts/pipeline/",
        "contracts/off-contract/",
        "social-value/",
    ],
)
def test_procurement_lists_have_no_table_wider_than_a_phone(
    demo, live_server, page, log_in, path
):
    """QA: on a 390px phone the contracts list hid Ends, Value and Spend to date,
    the suppliers list VCSE, Living Wage and Spend, the pipeline Ends and Spend,
    spend with no contract its Amount, and the social value totals their
    Delivered % and Proxy value, in tables that scrolled sideways unannounced."""
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(f"{base}/c/luton/{path}")
    tables = page.locator("main table")
    assert tables.count() >= 1, "nothing to look at: the demo has no rows here"
    for table in tables.all():
        expect(table).to_have_class(re.compile(r"\bls-table-cards\b"))
        _fits(page, table)
        last = table.locator("tbody tr").first.locator("td").last
        box = last.bounding_box()
        assert box["x"] + box["width"] <= 390


def test_a_table_that_still_scrolls_is_a_labelled_region_in_the_tab_order(
    demo, live_server, page, log_in
):
    """A table kept as a table (the proxy values) that is wider than the phone
    scrolls in its wrapper, which says so and takes keyboard focus
    (static/localspend/init.js); at desktop width it fits and does not."""
    base = live_server.url
    log_in(page, base, "demo-admin")
    url = f"{base}/c/luton/social-value/proxy-values/"
    found = {}
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_timeout(200)  # the resize observer's turn
        found[width] = page.evaluate(
            """() => [...document.querySelectorAll('main .ls-table-wrapper')]
              .map(w => ({scrolls: w.scrollWidth > w.clientWidth + 1,
                          tabindex: w.getAttribute('tabindex'),
                          role: w.getAttribute('role'),
                          label: w.getAttribute('aria-label') || ''}))"""
        )
    assert any(w["scrolls"] for w in found[390]), found[390]
    for width, wrappers in found.items():
        for wrapper in wrappers:
            if wrapper["scrolls"]:
                assert (wrapper["tabindex"], wrapper["role"]) == ("0", "region")
                assert wrapper["label"].endswith("(scrolls sideways)"), wrapper
            else:
                assert wrapper["tabindex"] is None, (width, wrapper)
    assert not any(w["scrolls"] for w in found[1280]), found[1280]


def test_rejected_rows_are_cards_on_a_phone(
    demo, live_server, page, log_in, tmp_path, settings
):
    """QA: the rejected rows' "Problem" column was cut off on a phone."""
    from django.core.management import call_command

    from spend.models import SpendUpload

    settings.UPLOAD_ROOT = tmp_path
    file = tmp_path / "october.csv"
    file.write_text(
        "Payment Date,Supplier Name,Amount,Transaction Number\n"
        "01/10/2026,Wardown Plumbing Ltd,100.00,T1\n"
        "31/02/2026,Luton Bakery,20.00,T2\n"
    )
    call_command("import_spend", str(file), council="luton", verbosity=0)
    upload = SpendUpload.objects.get(file_name="october.csv")
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-finance")
    page.goto(f"{base}/c/luton/uploads/{upload.pk}/")
    table = page.locator("table.ls-table-cards").filter(
        has=page.locator("td[data-label='Problem']")
    )
    _fits(page, table)
    problem = table.locator("td[data-label='Problem']").first
    expect(problem).to_contain_text("31 February does not exist")
    box = problem.bounding_box()
    assert box["x"] + box["width"] <= 390


def test_cards_can_be_sorted_on_a_phone(demo, live_server, page, log_in):
    """QA: on a phone the column headings (which sort) are hidden with the table's
    head, so a list shown as cards could not be sorted there."""
    from decimal import Decimal

    base = live_server.url
    log_in(page, base, "demo-cabinet")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + "/c/luton/spend/")
    sort = page.locator(".ls-card-sort")
    expect(sort).to_be_hidden()  # the headings sort on a wide screen
    page.set_viewport_size({"width": 390, "height": 900})
    expect(sort).to_be_visible()
    page.emulate_media(media="print")
    expect(sort).to_be_hidden()  # not on paper
    page.emulate_media(media="screen")
    sort.get_by_role("link", name="Amount").click()
    expect(sort).to_contain_text("Amount (ascending)")
    sort.get_by_role("link", name="Amount").click()
    expect(sort).to_contain_text("Amount (descending)")
    amounts = page.locator("table.ls-table-cards td[data-label='Amount']")
    first, second = (
        Decimal(re.sub(r"[£,]", "", amounts.nth(i).inner_text())) for i in (0, 1)
    )
    assert first >= second


def test_a_registers_columns_fit_a_phone(demo, live_server, page, log_in, tmp_path):
    """QA: the contract register's "Check the columns" page was 587px wide on a
    390px phone, its choices and first values cut off."""
    register = tmp_path / "register.csv"
    register.write_text(
        "Contract Reference,Contract Title,Supplier Name,Contract Value,Start Date\n"
        "LBC-P-1,Window cleaning for the civic centre and libraries,"
        "Larkspur Landscapes Limited,45000,01/04/2026\n"
    )
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(base + "/c/luton/contracts/import/")
    page.get_by_label("Contract register file").set_input_files(str(register))
    page.get_by_role("button", name="Upload and check the columns").click()
    table = page.locator("table.ls-table-cards")
    expect(table).to_be_visible()
    _fits(page, table)
    choice = page.get_by_label("Title (needed)")
    box = choice.bounding_box()
    assert box["x"] + box["width"] <= 390
