"""The procurement officer's journey (and issue 6's "done when"), in a real browser.

demo-officer, as a new user would, from the menu: finds a name from last month's
spend file in the review queue and merges it into the supplier it is; overrides a
tag with a reason; finds a supplier on the off-contract list and logs the missing
contract (which takes that supplier off the list); adds a social value commitment
(measure, quantity, period) and a delivery return with its evidence file and the
confirmation; sees committed against delivered; downloads the Transparency Code
contracts and spend files and the OCDS package. Then demo-cabinet reads the social
value totals, finds no control that writes, and is refused (403) at the write URLs.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import Screens, money, read_csv

pytestmark = pytest.mark.browser

REFERENCE = "LBC-C-H5-0042"
TITLE = "School meals: local produce"
MEASURE = "LS-COMM-01"  # Hours of school and college engagement
EVIDENCE = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def fy_of(day: date) -> tuple[date, date]:
    start = date(day.year if day.month >= 4 else day.year - 1, 4, 1)
    return start, date(start.year + 1, 3, 31)


@pytest.fixture
def spend_file_with_a_near_name(demo, tmp_path):
    """Last month's file, already imported, pays "<a demo supplier> Services Ltd":
    a new supplier, suggested as the same as the one in the register."""
    from procure.models import MatchSuggestion, Supplier

    council = demo["council"]
    known = (
        Supplier.objects.dealt_with_by(council)
        .filter(name__regex=r"^[A-Z][a-z]+ [A-Z][a-z]+ Ltd$", merged_into=None)
        .order_by("name")
        .first()
    )
    near = known.name.removesuffix(" Ltd") + " Services Ltd"
    paid = date.today().replace(day=1) - timedelta(days=20)
    path = tmp_path / "luton-extra-payments.csv"
    path.write_text(
        "Payment Date,Supplier Name,Amount,Department\n"
        f"{paid:%d/%m/%Y},{near},2345.67,Education\n",
        encoding="utf-8",
    )
    call_command("import_spend", str(path), "--council", "luton", verbosity=0)
    new = Supplier.objects.get(name=near)
    assert MatchSuggestion.objects.filter(supplier=new).exists()
    return new


def test_officer_reviews_logs_a_contract_with_social_value_and_exports(
    demo,
    spend_file_with_a_near_name,
    live_server,
    page,
    watch,
    log_in,
    output_path,
    browser,
):
    from procure.models import Contract, Supplier, SupplierMerge
    from socialvalue.models import Commitment, DeliveryReturn, Measure, TagOverride
    from spend.models import SpendLine

    base = live_server.url
    screens = Screens(output_path)
    council = demo["council"]
    new = spend_file_with_a_near_name
    main = page.locator("main")

    # --- The review queue: a name from a spend file that may be a known supplier.
    log_in(page, base, "demo-officer")
    page.get_by_role("link", name="Luton Borough Council").click()
    menu = page.get_by_role("navigation", name="Menu")
    menu.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suppliers to review")
    suggestions = page.get_by_role("table", name="Possible duplicates")
    row = suggestions.locator("tr").filter(has=page.get_by_role("link", name=new.name))
    expect(row).to_have_count(1)
    candidate_name = row.locator("td").nth(1).inner_text().split(" (")[0]
    kept = Supplier.objects.get(name=candidate_name)
    screens.take(page, "review-queue")
    row.get_by_role("link", name=re.compile(r"^Same: merge")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are these the same organisation?"
    )
    page.get_by_label("How you know (optional)").fill(
        "Same company number on the invoice"
    )
    page.get_by_role("button", name="Merge them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(kept.name)
    expect(main).to_contain_text(f"Merged {new.name} into {kept.name}")
    new.refresh_from_db()
    assert new.merged_into_id == kept.pk
    merge = SupplierMerge.objects.get(kept=kept, merged=new)
    assert merge.merged_by.username == "demo-officer"
    assert merge.reason == "Same company number on the invoice"
    assert not SpendLine.objects.filter(supplier=new).exists()

    # --- Override a tag, with the reason: the page says it is an officer decision.
    page.get_by_role("link", name="Override size").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decide the size tag")
    current = kept.tags.get(kind="size").value
    choice = "medium" if current != "medium" else "small"
    label = {"medium": "Medium-sized business", "small": "Small business"}[choice]
    page.get_by_label(label, exact=True).check()
    page.get_by_label("Why").fill("Its 2025 accounts show 120 staff.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(kept.name)
    size_row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator("dt", has_text="Size")
    )
    expect(size_row).to_contain_text(label)
    expect(size_row).to_contain_text("Officer decision")
    override = TagOverride.objects.get(supplier=kept, kind="size")
    assert (override.value, override.reason) == (
        choice,
        "Its 2025 accounts show 120 staff.",
    )
    assert override.created_by.username == "demo-officer"
    screens.take(page, "tag-overridden")

    # --- Spend with no contract: the officer finds a supplier to deal with.
    menu.get_by_role("link", name="Contracts").click()
    page.get_by_role("navigation", name="Contracts").get_by_role(
        "link", name="Spend with no contract"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spend with no contract")
    first = main.locator("table tbody tr").first
    supplier_name = first.locator("td").first.locator("a").inner_text()
    amount_text, payments_text = first.locator("td").nth(2).inner_text().split("\n")
    off_amount = money(amount_text)
    year = re.search(r"payments in (\d{4})/\d\d", main.inner_text())
    assert year, "the off-contract page names no financial year"
    fy_start, fy_end = date(int(year[1]), 4, 1), date(int(year[1]) + 1, 3, 31)
    target = Supplier.objects.get(name=supplier_name)
    uncovered = SpendLine.objects.filter(
        council=council,
        supplier=target,
        payment_date__range=(fy_start, fy_end),
        contract__isnull=True,
    )
    assert uncovered.aggregate(t=Sum("amount"))["t"] == off_amount
    assert payments_text == f"{uncovered.count()} payments"
    screens.take(page, "off-contract")

    # --- Log the missing contract, through the form.
    page.get_by_role("navigation", name="Contracts").get_by_role(
        "link", name="All contracts"
    ).click()
    page.get_by_role("link", name="Add a contract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a contract")
    page.get_by_label("Reference").fill(REFERENCE)
    page.get_by_label("Title").fill(TITLE)
    # The supplier is searched for by part of its name (accessible-autocomplete).
    page.get_by_label("Supplier", exact=True).fill(target.name[: len(target.name) // 2])
    page.get_by_role("option", name=target.name, exact=True).click()
    page.get_by_label("Department (optional)").fill("Children's services")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Whole-life value (£) (optional)").fill("180000")
    page.get_by_label("Start date").fill(fy_start.isoformat())
    page.get_by_label("End date (optional)", exact=True).fill(
        date(fy_start.year + 3, 3, 31).isoformat()
    )
    page.get_by_role("button", name="Add contract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    contract = Contract.objects.get(council=council, reference=REFERENCE)
    assert contract.supplier == target
    assert contract.value == Decimal("180000")
    # The supplier's payments in the contract's period are linked to it.
    assert not uncovered.exists()
    spent = contract.spend_lines.aggregate(t=Sum("amount"))["t"]
    assert spent >= off_amount
    screens.take(page, "contract-added")

    # --- A social value commitment: measure, quantity, period.
    page.get_by_role("link", name="Social value: commitments and delivery").click()
    page.get_by_role("link", name="Add a commitment").click()
    measure = Measure.objects.get(code=MEASURE)
    page.get_by_label("Measure").select_option(
        label=f"{measure.code} {measure.name} ({measure.unit_label})"
    )
    page.get_by_label("Quantity committed").fill("120")
    page.get_by_label("Period starts").fill(fy_start.isoformat())
    page.get_by_label("Period ends").fill(fy_end.isoformat())
    page.get_by_role("button", name="Save commitment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Social value: {TITLE}")
    commitment = Commitment.objects.get(contract=contract, measure=measure)
    assert (commitment.quantity, commitment.period_start, commitment.period_end) == (
        Decimal("120"),
        fy_start,
        fy_end,
    )

    # --- A delivery return with its evidence file and the confirmation.
    page.get_by_role("link", name=f"Record a return for {MEASURE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record a delivery return"
    )
    # The first quarter, or as much of it as is past (a return cannot be for
    # days still to come); the year shown has spend, so last month is in it.
    last_month_end = date.today().replace(day=1) - timedelta(days=1)
    q1_end = min(date(fy_start.year, 6, 30), last_month_end)
    page.get_by_label("Quantity delivered").fill("30")
    page.get_by_label("Period starts").fill(fy_start.isoformat())
    page.get_by_label("Period ends").fill(q1_end.isoformat())
    page.get_by_label(re.compile(r"^Evidence( \(optional\))?$")).fill(
        "Register of school visits, signed by each head teacher"
    )
    page.get_by_label(re.compile(r"^Evidence file")).set_input_files(
        files=[
            {
                "name": "school-visits.pdf",
                "mimeType": "application/pdf",
                "buffer": EVIDENCE,
            }
        ]
    )
    # Without the confirmation the return is refused, and the page says why.
    page.get_by_role("button", name="Save return").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Confirm that this delivery belongs to this contract"
    )
    assert not DeliveryReturn.objects.filter(commitment=commitment).exists()
    page.get_by_label(re.compile(r"^Evidence file")).set_input_files(
        files=[
            {
                "name": "school-visits.pdf",
                "mimeType": "application/pdf",
                "buffer": EVIDENCE,
            }
        ]
    )
    page.get_by_label(
        re.compile(f"This delivery belongs to contract {REFERENCE}")
    ).check()
    page.get_by_role("button", name="Save return").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Social value: {TITLE}")
    delivery = DeliveryReturn.objects.get(commitment=commitment)
    assert delivery.quantity == Decimal("30")
    assert delivery.confirmed
    assert delivery.entered_by.username == "demo-officer"
    assert delivery.evidence_file_name == "school-visits.pdf"

    # --- Committed against delivered, on the contract's social value page.
    section = page.locator(f"#commitment-{commitment.pk}")
    expect(section).to_contain_text("Committed120 hours")
    expect(section).to_contain_text("30 hours (25.0%) in 1 return")
    totals = page.locator("table").filter(has_text="Per measure")
    measure_row = totals.locator("tr").filter(has_text=MEASURE)
    expect(measure_row.locator("td").nth(0)).to_have_text("120 hours")
    expect(measure_row.locator("td").nth(1)).to_have_text("30 hours")
    expect(measure_row.locator("td").nth(2)).to_have_text("25.0%")
    with page.expect_download() as download:
        section.get_by_role("link", name="Download school-visits.pdf").click()
    with open(download.value.path(), "rb") as f:
        assert f.read() == EVIDENCE
    screens.take(page, "committed-vs-delivered")

    # --- Back on the off-contract list, the supplier is dealt with.
    page.get_by_role("link", name="Back to the contract").click()
    page.get_by_role("navigation", name="Contracts").get_by_role(
        "link", name="Spend with no contract"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spend with no contract")
    expect(main.get_by_role("link", name=target.name, exact=True)).to_have_count(0)

    # --- The Transparency Code files and the OCDS package.
    page.get_by_role("navigation", name="Contracts").get_by_role(
        "link", name="Exports"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")

    def served_as(link) -> str:
        """The Content-Type the server gives the file behind a link or form."""
        response = page.request.get(link)
        assert response.ok, (link, response.status)
        return response.headers["content-type"]

    contracts_link = page.get_by_role(
        "link", name=re.compile("Download the contracts file")
    )
    with page.expect_download() as download:
        contracts_link.click()
    assert download.value.suggested_filename.endswith(".csv")
    rows = read_csv(download.value.path())  # waits for the download to finish
    assert served_as(download.value.url).startswith("text/csv")
    ours = [row for row in rows if REFERENCE in row]
    assert len(ours) == 1, rows[:3]
    assert TITLE in ours[0] and target.name in ours[0]

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the spend file (CSV)").click()
    assert download.value.suggested_filename.endswith(".csv")
    rows = read_csv(download.value.path())  # waits for the download to finish
    assert served_as(download.value.url).startswith("text/csv")
    assert rows[0][:3] == ["Body name", "Body (GSS code)", "Date"]
    amounts = [row[rows[0].index("Amount (£)")] for row in rows[1:]]
    assert amounts and all(Decimal(a.replace(",", "")) for a in amounts)
    assert any(row[rows[0].index("Supplier name")] == target.name for row in rows[1:])

    ocds_link = page.get_by_role(
        "link", name="Download the OCDS release package (JSON)"
    )
    with page.expect_download() as download:
        ocds_link.click()
    assert download.value.suggested_filename.endswith(".json")
    with open(download.value.path(), encoding="utf-8") as f:
        package = json.load(f)
    assert served_as(download.value.url).startswith("application/json")
    release = [
        r
        for r in package["releases"]
        if any(c.get("id") == REFERENCE for c in r.get("contracts", []))
        or REFERENCE in json.dumps(r)
    ]
    assert len(release) == 1, [r.get("ocid") for r in package["releases"]][:5]
    assert TITLE in json.dumps(release[0], ensure_ascii=False)
    screens.take(page, "exports")
    assert watch.errors == [], watch.errors
    assert watch.offsite(base) == [], watch.offsite(base)

    # --- demo-cabinet reads the social value totals; nothing there writes.
    cabinet_context = browser.new_context()
    try:
        cabinet = cabinet_context.new_page()
        cabinet.set_default_timeout(15_000)
        log_in(cabinet, base, "demo-cabinet")
        cabinet.get_by_role("link", name="Luton Borough Council").click()
        cabinet.get_by_role("navigation", name="Menu").get_by_role(
            "link", name="Social value"
        ).click()
        expect(cabinet.get_by_role("heading", level=1)).to_have_text("Social value")
        cabinet_main = cabinet.locator("main")
        commitments = Commitment.objects.filter(contract__council=council)
        tiles = cabinet_main.locator(".ls-tile")
        expect(
            tiles.filter(has_text="Contracts with commitments").locator("dd").first
        ).to_have_text(str(commitments.values("contract").distinct().count()))
        expect(
            tiles.filter(has_text="Delivery returns").locator("dd").first
        ).to_have_text(
            str(DeliveryReturn.objects.filter(commitment__in=commitments).count())
        )
        ours = commitments.filter(measure=measure)
        committed = ours.aggregate(t=Sum("quantity"))["t"]
        delivered = DeliveryReturn.objects.filter(commitment__in=ours).aggregate(
            t=Sum("quantity")
        )["t"]
        row = cabinet_main.locator("tr").filter(has_text=f"{MEASURE} {measure.name}")
        expect(row.locator("td").nth(0)).to_have_text(
            f"{committed.normalize():,f} hours"
        )
        expect(row.locator("td").nth(1)).to_have_text(
            f"{delivered.normalize():,f} hours"
        )
        screens.take(cabinet, "cabinet-social-value-totals")

        # No control that writes: no form that posts, no link to a write page.
        expect(
            cabinet_main.locator("form[method=post], form[method=POST]")
        ).to_have_count(0)
        # The figure leads to the contracts behind it.
        with_any = commitments.values("contract").distinct().count()
        cabinet_main.get_by_role(
            "link", name=re.compile(r"contracts? with commitments: see")
        ).click()
        expect(cabinet.locator("main table tbody tr")).to_have_count(with_any)
        expect(cabinet.get_by_label("Social value commitments")).to_have_value("yes")
        # The contract's social value page is read-only for a cabinet member too.
        cabinet.get_by_role("navigation", name="Menu").get_by_role(
            "link", name="Contracts"
        ).click()
        cabinet.get_by_role("link", name=re.compile(REFERENCE)).first.click()
        expect(cabinet.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(cabinet_main.get_by_role("link", name="Edit contract")).to_have_count(0)
        cabinet.get_by_role(
            "link", name="Social value: commitments and delivery"
        ).click()
        expect(cabinet.get_by_role("heading", level=1)).to_have_text(
            f"Social value: {TITLE}"
        )
        expect(cabinet_main).to_contain_text("30 hours (25.0%) in 1 return")
        expect(cabinet_main.locator("form[method=post]")).to_have_count(0)
        for name in ("Add a commitment", f"Record a return for {MEASURE}"):
            expect(cabinet_main.get_by_role("link", name=name)).to_have_count(0)
        screens.take(cabinet, "cabinet-contract-read-only")

        # The write URLs refuse a cabinet member (403), whether opened or posted to.
        slug = council.slug
        gets = [
            reverse("procure:contract-new", args=[slug]),
            reverse("procure:contract-edit", args=[slug, contract.pk]),
            reverse("socialvalue:commitment-new", args=[slug, contract.pk]),
            reverse("socialvalue:commitment-edit", args=[slug, commitment.pk]),
            reverse("socialvalue:return-new", args=[slug, commitment.pk]),
            reverse("socialvalue:tag-override", args=[slug, kept.pk, "size"]),
            reverse("procure:supplier-edit", args=[slug, kept.pk]),
            reverse("procure:merge-undo", args=[slug, merge.pk]),
        ]
        for url in gets:
            response = cabinet.goto(base + url)
            assert response.status == 403, (url, response.status)
        token = next(
            c["value"] for c in cabinet_context.cookies() if c["name"] == "csrftoken"
        )
        posts = [
            reverse("socialvalue:return-remove", args=[slug, delivery.pk]),
            reverse("socialvalue:commitment-remove", args=[slug, commitment.pk]),
            reverse("socialvalue:tag-override-remove", args=[slug, kept.pk, "size"]),
            reverse("procure:merge-undo", args=[slug, merge.pk]),
            reverse("procure:contract-edit", args=[slug, contract.pk]),
        ]
        for url in posts:
            response = cabinet.request.post(
                base + url,
                headers={"X-CSRFToken": token, "Referer": base + "/"},
                form={"value": "1"},
            )
            assert response.status == 403, (url, response.status)
            assert "CSRF" not in response.text(), url  # refused for the role
        # … and nothing changed.
        assert DeliveryReturn.objects.filter(pk=delivery.pk).exists()
        assert Commitment.objects.filter(pk=commitment.pk).exists()
        assert TagOverride.objects.filter(supplier=kept, kind="size").exists()
        assert SupplierMerge.objects.get(pk=merge.pk).undone_at is None
    finally:
        cabinet_context.close()
