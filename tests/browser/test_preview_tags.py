"""The preview of a spend file, in a real browser: the sample table's tags and the
VAT note follow the column chosen for each item (static/localspend/preview.js), with no script
error (the Content Security Policy allows only LocalSpend's own files); the upload
form and the preview fit a desktop and a phone (screenshots at 1280 and 390 px)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Screens, serious_axe_violations

pytestmark = pytest.mark.browser

FILE = (
    b"Payment Date,Supplier Name,Net Amount,Gross Amount,Department\n"
    b"01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
    b"02/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
)
WIDTHS = {"desktop": 1280, "phone": 390}


def _both_widths(page, screens: Screens, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        screens.take(page, f"{name}-{label}")
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def test_the_sample_tags_follow_the_columns_chosen(
    transactional_db,
    live_server,
    page,
    watch,
    finance_officer,
    council,
    output_path,
):
    from spend.models import SpendUpload

    base = live_server.url
    screens = Screens(output_path)
    page.goto(base + "/")
    page.get_by_label("Username").fill(finance_officer.username)
    page.get_by_label("Password").fill("a-long-password-1")  # tests/conftest.py
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")

    page.goto(f"{base}/c/{council.slug}/uploads/new/")
    expect(page.get_by_role("button", name="Upload the file")).to_be_visible()
    _both_widths(page, screens, "upload-form")
    page.get_by_label("Spend file").set_input_files(
        files=[{"name": "april.csv", "mimeType": "text/csv", "buffer": FILE}]
    )
    page.get_by_role("button", name="Upload the file").click()
    page.wait_for_url("**/preview/")
    _both_widths(page, screens, "preview")

    # "Scroll the table sideways" shows only while the sample table does not fit.
    hint = page.get_by_text("scroll the table sideways")
    expect(hint).to_be_hidden()
    page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
    expect(hint).to_be_visible()
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
    expect(hint).to_be_hidden()

    def heading(name: str):
        return page.get_by_role("columnheader", name=re.compile(f"^{name}"))

    net, gross, department = (
        heading(name) for name in ("Net Amount", "Gross Amount", "Department")
    )
    expect(net.locator(".govuk-tag")).to_have_text(["Amount"])
    expect(gross).to_contain_text("not read")
    expect(gross.locator(".govuk-tag")).to_have_count(0)

    vat_note = page.locator("[data-ls-vat-note]")
    expect(vat_note).not_to_contain_text("Gross Amount")

    # The amount moves to the gross column: its tag moves with it, and the VAT
    # note speaks of that column's heading.
    page.get_by_label("Amount", exact=True).select_option(label='D "Gross Amount"')
    expect(vat_note).to_contain_text("'Gross Amount'")
    expect(gross.locator(".govuk-tag")).to_have_text(["Amount"])
    expect(gross).not_to_contain_text("not read")
    expect(net.locator(".govuk-tag")).to_have_count(0)
    expect(net).to_contain_text("not read")

    # Two items from one column: both tags, in the order the items are asked.
    page.get_by_label("Department (optional)").select_option(label='D "Gross Amount"')
    expect(gross.locator(".govuk-tag")).to_have_text(["Amount", "Department"])
    expect(department).to_contain_text("not read")
    page.get_by_label("Department (optional)").select_option(label="Not in this file")
    expect(gross.locator(".govuk-tag")).to_have_text(["Amount"])
    screens.take(page, "preview-gross-chosen")
    assert serious_axe_violations(page) == []

    # The form sends what was chosen, as without the script.
    page.get_by_role("button", name="Start the import").click()
    upload = SpendUpload.objects.get()
    page.wait_for_url(f"{base}/c/{council.slug}/uploads/{upload.pk}/")
    upload.refresh_from_db()
    assert upload.status == "imported"
    assert str(upload.amount_imported) == "1500.00"  # the gross amounts
    assert upload.lines.filter(department="").count() == 2

    assert watch.errors == [], watch.errors
    assert watch.offsite(base) == [], watch.offsite(base)
