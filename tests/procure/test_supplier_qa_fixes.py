"""A procurement officer's QA of the supplier register: company numbers, what a
change says under an officer's decision, officer decisions in the list and its
file, the tag history of a merge, limits on a supplier's figures, wording, and
the public spend file's period."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.models import Supplier
from socialvalue.models import SupplierTag, TagOverride

DATA = {
    "name": "Wardown Plumbing Ltd",
    "organisation_type": "private_company",
    "company_number": "",
    "postcode": "LU1 2AB",
    "employees": "12",
    "part_of_large_group": "unknown",
    "living_wage_accredited": "unknown",
}


@pytest.fixture
def supplier(council, make_supplier, make_line):
    supplier = make_supplier(
        name="Wardown Plumbing Ltd",
        organisation_type="private_company",
        postcode="LU1 2AB",
        employees=12,
    )
    make_line(council, supplier=supplier)
    return supplier


def _edit(client, officer, council, supplier, **changes):
    client.force_login(officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    return client.post(url, DATA | changes)


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ------------------------------------------------------------ 1. company numbers


@pytest.mark.parametrize("typed", ["ABC", "12AB34", "XX123456", "SC01234R", "R123"])
def test_what_is_not_a_companies_house_number_is_refused(
    client, council_officer, council, supplier, typed
):
    response = _edit(client, council_officer, council, supplier, company_number=typed)
    assert response.status_code == 200
    assert response.context["form"].errors["company_number"] == [
        "Enter a Companies House number: 8 digits, like 01234567, or 2 letters "
        "and 6 digits, like SC123456 or OC301234."
    ]
    supplier.refresh_from_db()
    assert supplier.company_number == ""


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("1234567", "01234567"),
        ("sc 12345", "SC012345"),
        ("OC301234", "OC301234"),
        ("NI1", "NI000001"),
        ("R0000123", "R0000123"),
        ("IP28012R", "IP28012R"),
        ("FC031362", "FC031362"),
    ],
)
def test_a_companies_house_number_is_taken_and_padded(
    client, council_officer, council, supplier, typed, kept
):
    response = _edit(client, council_officer, council, supplier, company_number=typed)
    assert response.status_code == 302, response.context["form"].errors
    supplier.refresh_from_db()
    assert supplier.company_number == kept


def test_a_number_kept_from_before_does_not_stop_another_change(
    client, council_officer, council, supplier
):
    """As a postcode given by a spend file: checked when typed, not when kept."""
    Supplier.objects.filter(pk=supplier.pk).update(company_number="ABC")
    response = _edit(
        client, council_officer, council, supplier, company_number="ABC", employees="9"
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.company_number, supplier.employees) == ("ABC", 9)


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("01234567", True),
        ("SC012345", True),
        ("R0000123", True),
        ("IP28012R", True),
        ("ABC", False),
        ("12AB34", False),
        ("XX123456", False),
        ("SC01234R", False),
        ("123456789", False),
        ("SC1234567", False),
    ],
)
def test_is_company_number(number, ok):
    from spend.values import is_company_number

    assert is_company_number(number) is ok


def test_the_register_import_refuses_what_the_form_refuses(council):
    from tests.procure.test_register_import import _csv, _import, _row

    rows = [
        _row("QA-1", "Printing", "Ashcroft Print Ltd", "XX123456"),
        _row("QA-2", "Cleaning", "Amber Cleaning Ltd", "ABC"),
        _row("QA-3", "Joinery", "Ashcroft Joinery Ltd", "SC12345"),
    ]
    report = _import(council, _csv(rows), "register.csv")
    assert (report.created, report.rejected) == (1, 2)
    messages = [r.message("register.csv") for r in report.rejections]
    assert '"XX123456" is not a Companies House number (8 digits' in messages[0]
    assert '"ABC" is not a Companies House number' in messages[1]
    assert Supplier.objects.get(name="Ashcroft Joinery Ltd").company_number == (
        "SC012345"
    )


# ------------------------------------------------- 2. a change under a decision


def _decide(client, officer, council, supplier, kind, value, reason="Checked"):
    client.force_login(officer)
    url = reverse("socialvalue:tag-override", args=[council.slug, supplier.pk, kind])
    assert client.post(url, {"value": value, "reason": reason}).status_code == 302


def test_a_change_says_what_the_rules_now_say_under_an_officers_decision(
    client, council_officer, council, supplier
):
    from socialvalue.tagging import classify_suppliers

    classify_suppliers(supplier_ids=[supplier.pk])
    assert SupplierTag.objects.get(supplier=supplier, kind="locality").value == "local"
    _decide(client, council_officer, council, supplier, "locality", "local")
    response = _edit(client, council_officer, council, supplier, postcode="M1 1AE")
    said = _said(response)[-1]
    assert said.startswith("Saved the changes to Wardown Plumbing Ltd.")
    assert (
        "Location stays Local (an officer's decision); from the new postcode the "
        "rules would now say Elsewhere in the UK."
    ) in said
    # The decision stands.
    assert SupplierTag.objects.get(supplier=supplier, kind="locality").value == "local"
    # A change the rules' answer does not follow says nothing of it.
    again = _edit(client, council_officer, council, supplier, postcode="M2 1AE")
    assert "officer's decision" not in _said(again)[-1]


def test_a_change_of_figures_under_a_size_decision_says_so(
    client, council_officer, council, supplier
):
    _decide(client, council_officer, council, supplier, "size", "small")
    response = _edit(
        client, council_officer, council, supplier, employees="400", postcode="M1 1AE"
    )
    assert (
        "Size stays Small business (an officer's decision); from the new number "
        "of employees the rules would now say Large organisation."
    ) in _said(response)[-1]


# ------------------------------------------- 3. officer decisions in the list


def test_the_list_and_its_file_say_which_tags_an_officer_decided(
    client, council_officer, viewer, council, supplier, make_supplier, make_line
):
    from socialvalue.tagging import classify_suppliers

    other = make_supplier(name="Bute Street Cafe")
    make_line(council, supplier=other)
    classify_suppliers(supplier_ids=[supplier.pk, other.pk])
    _decide(client, council_officer, council, supplier, "vcse", "no")
    client.force_login(viewer)
    url = reverse("procure:suppliers", args=[council.slug])
    page = client.get(url)
    assertContains(page, "officer decision</span>", count=1)
    response = client.get(url, {"format": "csv", "sort": "name"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:11] == [
        "\ufeffSupplier" if rows[0][0].startswith("\ufeff") else "Supplier",
        "LocalSpend supplier number",
        "Companies House number",
        "Charity number",
        "Postcode",
        "Location",
        "Size",
        "VCSE",
        "Living Wage",
        rows[0][9],
        "Checked by an officer",
    ]
    assert rows[0][11:] == [
        "Location decided by",
        "Size decided by",
        "VCSE decided by",
        "Living Wage decided by",
    ]
    by_name = {row[0]: row[11:] for row in rows[1:]}
    assert by_name["Wardown Plumbing Ltd"] == ["rules", "rules", "officer", "rules"]
    assert by_name["Bute Street Cafe"] == ["rules"] * 4


# ------------------------------------------------- 4. the tag history of a merge


@pytest.fixture
def pair(council, make_supplier, make_line, council_officer):
    kept = make_supplier(name="Wardown Plumbing Services Ltd", postcode="LU2 7AB")
    dupe = make_supplier(name="Wardown Plumbing")
    make_line(council, supplier=dupe, amount=Decimal("100"))
    make_line(council, supplier=kept, amount=Decimal("1000"))
    override = TagOverride(
        supplier=dupe,
        kind="vcse",
        value="no",
        reason="Checked the register",
        created_by=council_officer,
    )
    override._history_user = council_officer
    override.save()
    return kept, dupe


def test_a_decision_moved_by_a_merge_and_put_back_says_so(
    client, pair, council, council_officer, council_admin, viewer
):
    from procure.merging import merge_suppliers, undo_merge
    from tests.procure.test_supplier_edit import _tag_history

    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_admin, council=None)
    client.force_login(viewer)
    assert (
        "VCSE: the officer's decision (Not a VCSE, because “Checked the register”) "
        "moved here by the merge of Wardown Plumbing into Wardown Plumbing "
        "Services Ltd (alice-admin)"
    ) in _tag_history(client, council, kept)
    undo_merge(record, user=council_admin)
    history = _tag_history(client, council, dupe)
    assert (
        "VCSE: the officer's decision (Not a VCSE, because “Checked the register”) "
        "put back here by undoing the merge of Wardown Plumbing into Wardown "
        "Plumbing Services Ltd (alice-admin)"
    ) in history
    assert not any("set to Not a VCSE by alice-admin" in h for h in history)


def test_a_decision_that_gave_way_in_a_merge_says_so(
    client, pair, council, council_officer, council_admin, viewer
):
    from procure.merging import merge_suppliers, undo_merge
    from tests.procure.test_supplier_edit import _tag_history

    kept, dupe = pair
    TagOverride.objects.create(
        supplier=kept,
        kind="vcse",
        value="yes",
        reason="Their own",
        created_by=council_admin,
    )
    record = merge_suppliers(kept=kept, merged=dupe, user=council_admin, council=None)
    undo_merge(record, user=council_admin)  # the merged supplier's page is back
    client.force_login(viewer)
    history = _tag_history(client, council, dupe)
    assert (
        "VCSE: the officer's decision (Not a VCSE, because “Checked the register”) "
        "gave way to the kept supplier's own decision in the merge of Wardown "
        "Plumbing into Wardown Plumbing Services Ltd (alice-admin)"
    ) in history
    assert not any("the rules decide again" in h for h in history)
    assert not any("because “Gave way" in h for h in history)


def test_the_merge_page_names_the_tag_whose_decision_gives_way(
    client, pair, council, council_officer
):
    kept, dupe = pair
    TagOverride.objects.create(
        supplier=kept, kind="vcse", value="yes", reason="Own", created_by=None
    )
    client.force_login(council_officer)
    url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    page = client.get(url).content.decode()
    assert (
        "Wardown Plumbing Services Ltd has its own officer decision on its VCSE "
        "tag: Wardown Plumbing’s decision on that tag will give way to Wardown "
        "Plumbing Services Ltd’s."
    ) in page


# ------------------------------------------------------ 5. limits on the figures


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (
            "employees",
            "99999999999999",
            "Enter a realistic number of employees: the largest employers have a "
            "few million.",
        ),
        (
            "employees",
            "10000001",
            "Enter a realistic number of employees: the largest employers have a "
            "few million.",
        ),
        (
            "turnover",
            "£2,000,000,000,000",
            "Enter the turnover of at most £1,000,000,000,000.",
        ),
        (
            "balance_sheet_total",
            "20000000000000",
            "Enter the balance sheet total of at most £10,000,000,000,000.",
        ),
    ],
)
def test_a_suppliers_figures_have_a_most(
    client, council_officer, council, supplier, field, typed, message
):
    response = _edit(client, council_officer, council, supplier, **{field: typed})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]


def test_the_largest_figures_allowed_are_saved(
    client, council_officer, council, supplier
):
    response = _edit(
        client,
        council_officer,
        council,
        supplier,
        employees="10000000",
        turnover="1000000000000",
        balance_sheet_total="2500000000000",
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.employees == 10_000_000
    assert supplier.turnover == Decimal("1000000000000")


# -------------------------------------------------------------------- 6. wording


def test_a_living_wage_tag_from_the_accredited_flag_is_from_recorded_details(
    client, viewer, council, supplier
):
    from socialvalue.tagging import classify_suppliers
    from tests.procure.test_supplier_edit import _tag_history

    supplier.living_wage_accredited = True
    supplier.employees = 12
    supplier.save()
    classify_suppliers(supplier_ids=[supplier.pk])
    living_wage = SupplierTag.objects.get(supplier=supplier, kind="living_wage")
    size = SupplierTag.objects.get(supplier=supplier, kind="size")
    assert living_wage.source == size.source == "declaration"
    assert living_wage.get_source_display() == "Supplier's recorded details"
    assert size.get_source_display() == "Supplier's recorded figures"
    client.force_login(viewer)
    history = _tag_history(client, council, supplier)
    assert any(
        h.startswith("Real Living Wage employer:")
        and "(supplier's recorded details" in h
        for h in history
    ), history
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert "Supplier&#x27;s recorded details; medium confidence" in page


def test_the_unknowns_filter_says_which_tags_it_means(client, viewer, council):
    client.force_login(viewer)
    page = client.get(reverse("procure:suppliers", args=[council.slug]))
    assertContains(page, "Location, size or VCSE unknown")
    assertNotContains(page, "Some tag unknown")


def test_a_list_on_one_page_is_counted(
    client, viewer, council, supplier, make_supplier, make_line
):
    make_line(council, supplier=make_supplier(name="Bute Street Cafe"))
    client.force_login(viewer)
    url = reverse("procure:suppliers", args=[council.slug])
    assertContains(client.get(url), '<p class="govuk-body-s">2 suppliers.</p>')
    page = client.get(url, {"q": "bute"})
    assertContains(page, '<p class="govuk-body-s">1 supplier.</p>')
    assertNotContains(client.get(url, {"q": "nobody"}), "0 suppliers")


def test_only_those_who_may_act_are_sent_to_review(
    client, council, council_officer, viewer, make_supplier, make_line
):
    from procure.models import MatchSuggestion

    new = make_supplier(name="Ashcroft Joinery Services")
    held = make_supplier(name="Ashcroft Joinery LLP")
    for one in (new, held):
        make_line(council, supplier=one)
    MatchSuggestion.objects.create(supplier=new, candidate=held, score=100)
    url = reverse("procure:supplier-detail", args=[council.slug, new.pk])
    client.force_login(viewer)
    page = client.get(url)
    assertNotContains(page, "Check it in Review")
    assertContains(page, "Your council's officers decide whether they are the same.")
    client.force_login(council_officer)
    assertContains(client.get(url), "Check it in Review</a>")


# ------------------------------------------------------- 7. the spend file period


def test_a_month_without_a_year_is_checked(client, council, make_line, supplier):
    council.public_pages_enabled = True
    council.save()
    url = reverse("councils:public-spend-csv", args=[council.slug])
    response = client.get(url, {"month": "13"})
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith(
        "No spend file for that period. Choose a month from the list."
    )
    assert ": Choose" not in text
    # A month alone is of the latest year.
    assert client.get(url, {"month": "5"}).status_code == 200
    assert client.get(url).status_code == 200
