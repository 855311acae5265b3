"""Spend lines linked to contracts, by rule and by hand; spend with no contract."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.linking import (
    link_lines,
    link_spend,
    off_contract_suppliers,
    release_lines,
    unlink_lines,
)
from procure.merging import merge_suppliers, undo_merge
from procure.models import Contract
from spend.models import SpendLine


@pytest.fixture
def supplier(make_supplier):
    return make_supplier(name="Stockwood Landscapes Ltd")


def _parks(council, supplier, start_date: date, end_date: date) -> Contract:
    """Contract C1, "Parks", £50,000 to `supplier`."""
    return Contract.objects.create(
        council=council,
        reference="C1",
        title="Parks",
        supplier=supplier,
        value=Decimal("50000"),
        start_date=start_date,
        end_date=end_date,
    )


def _parks_extended(council, supplier, **kwargs) -> Contract:
    """Contract C2, "Parks, extended", to `supplier` from 1 October 2025."""
    return Contract.objects.create(
        council=council,
        reference="C2",
        title="Parks, extended",
        supplier=supplier,
        start_date=date(2025, 10, 1),
        **kwargs,
    )


@pytest.fixture
def contract(council, supplier):
    return _parks(council, supplier, date(2025, 4, 1), date(2026, 3, 31))


@pytest.fixture
def pay(council, supplier, make_line):
    def pay(day: date, amount: str = "1000.00", **kwargs):
        kwargs.setdefault("supplier", supplier)
        return make_line(council, payment_date=day, amount=Decimal(amount), **kwargs)

    return pay


def _contract_of(line) -> int | None:
    line.refresh_from_db()
    return line.contract_id


def _phase_two(supplier, **changes) -> dict:
    """The contract form for C2, "Parks phase two", £1,500 from 15 June 2025
    to 31 March 2026, with `changes`."""
    return {
        "reference": "C2",
        "title": "Parks phase two",
        "supplier": supplier.pk,
        "status": "active",
        "value": "1500",
        "start_date": "2025-06-15",
        "end_date": "2026-03-31",
    } | changes


# --- The rule ---------------------------------------------------------------------


def test_payments_on_the_first_and_last_day_are_linked(council, contract, pay):
    first, last = pay(date(2025, 4, 1)), pay(date(2026, 3, 31))
    before, after = pay(date(2025, 3, 31)), pay(date(2026, 4, 1))
    link_spend(council)
    assert _contract_of(first) == _contract_of(last) == contract.pk
    assert _contract_of(before) is None
    assert _contract_of(after) is None


def test_a_contract_with_no_end_date_takes_every_later_payment(council, contract, pay):
    contract.end_date = None
    contract.save()
    later = pay(date(2030, 1, 1))
    link_spend(council)
    assert _contract_of(later) == contract.pk


def test_where_contracts_overlap_the_latest_start_wins(
    council, contract, supplier, pay
):
    renewal = Contract.objects.create(
        council=council,
        reference="C2",
        title="Parks (renewed)",
        supplier=supplier,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31),
    )
    old_only, overlap, new_only = (
        pay(date(2025, 12, 31)),
        pay(date(2026, 2, 1)),
        pay(date(2026, 4, 1)),
    )
    link_spend(council)
    assert _contract_of(old_only) == contract.pk
    assert _contract_of(overlap) == renewal.pk
    assert _contract_of(new_only) == renewal.pk


def test_other_suppliers_other_councils_and_redacted_payees_are_not_linked(
    council, other_council, contract, supplier, make_supplier, make_line, pay
):
    stranger = pay(date(2025, 6, 1), supplier=make_supplier())
    redacted = pay(date(2025, 6, 1), supplier=None, redacted=True)
    elsewhere = make_line(
        other_council, supplier=supplier, payment_date=date(2025, 6, 1)
    )
    link_spend(council)
    link_spend(other_council)
    assert _contract_of(stranger) is None
    assert _contract_of(redacted) is None
    assert _contract_of(elsewhere) is None


def test_a_contract_still_in_the_pipeline_takes_no_spend(council, contract, pay):
    contract.status = "pipeline"
    contract.save()
    line = pay(date(2025, 6, 1))
    link_spend(council)
    assert _contract_of(line) is None


def test_linking_is_set_based_whatever_the_number_of_lines(council, contract, pay):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            link_spend(council)
        return len(captured)

    pay(date(2025, 6, 1))
    few = queries()
    for day in range(1, 29):
        pay(date(2025, 7, day))
    assert queries() == few
    assert SpendLine.objects.filter(contract=contract).count() == 29


def test_changing_a_contracts_dates_or_supplier_relinks_its_lines(
    client, council_officer, council, contract, supplier, make_supplier, pay
):
    june, next_june = pay(date(2025, 6, 1)), pay(date(2026, 6, 1))
    link_spend(council)
    assert _contract_of(june) == contract.pk
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    data = {
        "reference": "C1",
        "title": "Parks",
        "supplier": supplier.pk,
        "status": "active",
        "value": "50000",
        "start_date": "2025-07-01",
        "end_date": "2026-06-30",
    }
    assert client.post(url, data).status_code == 302
    assert _contract_of(june) is None
    assert _contract_of(next_june) == contract.pk
    newcomer = make_supplier(name="Newcomer Ltd")
    theirs = pay(date(2025, 8, 1), supplier=newcomer)
    assert client.post(url, data | {"supplier": newcomer.pk}).status_code == 302
    assert _contract_of(next_june) is None
    assert _contract_of(theirs) == contract.pk


def test_the_command_links_every_council(council, contract, pay):
    line = pay(date(2025, 6, 1))
    out = StringIO()
    call_command("link_contracts", stdout=out)
    assert _contract_of(line) == contract.pk
    assert "Luton Borough Council: 1 lines linked to a contract, 0 with none" in (
        out.getvalue()
    )
    # What it moved is told in the contract's history, once; a second run
    # moves nothing and tells nothing.
    assert list(contract.link_changes.values_list("lines_gained", "what")) == [
        (
            1,
            "1 payment (£1,000.00) that had no contract linked here when the "
            "link_contracts command was run",
        )
    ]
    call_command("link_contracts", stdout=StringIO())
    assert contract.link_changes.count() == 1


# --- By hand ------------------------------------------------------------------------


def test_an_unlinked_line_stays_unlinked_when_the_linker_runs_again(
    council, contract, pay
):
    line = pay(date(2025, 6, 1))
    link_spend(council)
    assert unlink_lines(contract, [line.pk]) == 1
    link_spend(council)
    link_spend(council, [contract])
    line.refresh_from_db()
    assert (line.contract_id, line.contract_link_manual) == (None, True)


def test_a_line_linked_by_hand_outside_the_period_stays_linked(council, contract, pay):
    early = pay(date(2025, 1, 15))
    assert link_lines(contract, [early.pk]) == 1
    link_spend(council)
    early.refresh_from_db()
    assert (early.contract_id, early.contract_link_manual) == (contract.pk, True)


def test_releasing_a_line_hands_it_back_to_the_rule(council, contract, pay):
    early, inside = pay(date(2025, 1, 15)), pay(date(2025, 6, 1))
    link_spend(council)
    link_lines(contract, [early.pk])
    unlink_lines(contract, [inside.pk])
    assert release_lines(contract, [early.pk, inside.pk]) == 2
    assert _contract_of(early) is None
    assert _contract_of(inside) == contract.pk
    assert not SpendLine.objects.filter(contract_link_manual=True).exists()


def test_only_the_contracts_supplier_and_councils_lines_can_be_linked(
    council, other_council, contract, supplier, make_supplier, make_line, pay
):
    stranger = pay(date(2025, 6, 1), supplier=make_supplier())
    elsewhere = make_line(
        other_council, supplier=supplier, payment_date=date(2025, 6, 1)
    )
    assert link_lines(contract, [stranger.pk, elsewhere.pk]) == 0
    assert _contract_of(stranger) is None and _contract_of(elsewhere) is None


def test_an_officer_unlinks_and_links_on_the_contract_page(
    client, council_officer, council, contract, pay
):
    inside, early = pay(date(2025, 6, 1)), pay(date(2025, 1, 15))
    link_spend(council)
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    response = client.post(url, {"action": "unlink", "lines": [inside.pk]})
    assert response.status_code == 302
    response = client.post(url, {"action": "link", "lines": [early.pk]}, follow=True)
    assertContains(response, "Linked 1 payment to this contract by hand.")
    assert _contract_of(inside) is None and _contract_of(early) == contract.pk
    latest = contract.history.first()
    assert latest.history_user == council_officer
    assert latest.history_change_reason == (
        "Linked 1 payment to this contract by hand: 15 Jan 2025 (£1,000.00)"
    )
    assertContains(response, "Took 1 payment off this contract by hand")


def test_every_linked_payment_can_be_reached_a_page_at_a_time(
    client, council_officer, council, contract, pay
):
    lines = [pay(date(2025, 4, 1) + timedelta(days=n)) for n in range(30)]
    link_spend(council)
    client.force_login(council_officer)
    url = reverse("procure:contract-detail", args=[council.slug, contract.pk])
    first = client.get(url)
    assert len(first.context["linked_lines"]) == 25
    assertContains(first, "page 1 of 2")
    assertContains(first, "?linked=2#linked-payments")
    second = client.get(url, {"linked": "2"})
    shown = [line.pk for line in second.context["linked_lines"]]
    oldest = lines[0]  # the latest come first, so the oldest is on the last page
    assert len(shown) == 5 and oldest.pk in shown
    assertContains(second, f'value="{oldest.pk}"')
    lines_url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(lines_url, {"action": "unlink", "lines": [oldest.pk]})
    assert _contract_of(oldest) is None
    # A page past the end shows the last one.
    assert client.get(url, {"linked": "9"}).context["linked_lines"].number == 2


def test_viewers_cannot_link_and_nothing_changes(
    client, viewer, council, contract, pay
):
    line = pay(date(2025, 6, 1))
    link_spend(council)
    client.force_login(viewer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    assert client.post(url, {"action": "unlink", "lines": [line.pk]}).status_code == 403
    assert _contract_of(line) == contract.pk


def test_the_contract_page_shows_spend_to_date_against_the_value(
    client, viewer, council, contract, pay
):
    pay(date(2025, 6, 1), "12500.00")
    pay(date(2025, 7, 1), "-500.00")  # a credit note
    link_spend(council)
    client.force_login(viewer)
    page = client.get(contract.get_absolute_url())
    assert page.context["spend"]["total"] == Decimal("12000.00")
    assert page.context["spent_share"] == Decimal("24.0")
    assertContains(page, "24.0% of the value")
    assertContains(
        page,
        f"date_from=2025-04-01&amp;date_to=2026-03-31&amp;supplier_id={contract.supplier_id}",
    )


# --- Spend with no contract ------------------------------------------------------


def _off(council, year: int = 2025, threshold: str = "5000", **kwargs) -> dict:
    rows = off_contract_suppliers(
        council, date(year, 4, 1), date(year + 1, 3, 31), Decimal(threshold), **kwargs
    )
    return {row["supplier_name"]: row for row in rows}


def test_the_threshold_is_reached_at_exactly_5000(council, make_supplier, make_line):
    under, at = make_supplier(name="Under Ltd"), make_supplier(name="At Ltd")
    make_line(council, supplier=under, amount=Decimal("4999.99"))
    make_line(council, supplier=at, amount=Decimal("2500.00"))
    make_line(council, supplier=at, amount=Decimal("2500.00"))
    rows = _off(council)
    assert list(rows) == ["At Ltd"]
    assert (rows["At Ltd"]["off_contract"], rows["At Ltd"]["payments"]) == (
        Decimal("5000.00"),
        2,
    )
    assert list(_off(council, threshold="30000")) == []
    assert list(_off(council, threshold="4999.99")) == ["At Ltd", "Under Ltd"]


def test_pennies_that_add_up_to_the_threshold_reach_it(
    council, make_supplier, make_line
):
    """Added as floats (SQLite), these come to 4999.999999999999."""
    supplier = make_supplier(name="Pennies Ltd")
    for amount in ("2789.37", "1550.52", "660.11"):
        make_line(council, supplier=supplier, amount=Decimal(amount))
    assert _off(council)["Pennies Ltd"]["off_contract"] == Decimal("5000.00")


def test_spend_is_counted_in_its_own_financial_year(council, supplier, pay):
    pay(date(2026, 3, 31), "3000.00")
    pay(date(2026, 4, 1), "3000.00")
    pay(date(2025, 4, 1), "2500.00")
    assert _off(council, 2025)[supplier.name]["off_contract"] == Decimal("5500.00")
    assert _off(council, 2026) == {}
    pay(date(2027, 3, 31), "2000.00")
    assert _off(council, 2026)[supplier.name]["off_contract"] == Decimal("5000.00")


def test_spend_covered_by_a_contract_is_not_off_contract(
    council, contract, supplier, pay
):
    pay(date(2025, 3, 1), "4000.00")  # before the contract (2024/25)
    pay(date(2025, 6, 1), "9000.00")  # under the contract
    link_spend(council)
    assert _off(council, 2025) == {}
    pay(date(2024, 12, 1), "1000.00")
    row = _off(council, 2024)[supplier.name]
    assert (row["off_contract"], row["total"], row["contracts"]) == (
        Decimal("5000.00"),
        Decimal("5000.00"),
        1,
    )
    unlink_lines(contract, SpendLine.objects.values_list("pk", flat=True))
    assert _off(council, 2025)[supplier.name]["off_contract"] == Decimal("9000.00")


def test_the_biggest_comes_first_and_public_bodies_can_be_left_out(
    council, make_supplier, make_line
):
    from django.utils import timezone

    from socialvalue.models import SupplierTag

    small, big, nhs = (
        make_supplier(name="Small Ltd"),
        make_supplier(name="Big plc"),
        make_supplier(name="NHS Trust"),
    )
    for who, amount in ((small, "6000"), (big, "60000"), (nhs, "90000")):
        make_line(council, supplier=who, amount=Decimal(amount))
    SupplierTag.objects.create(
        supplier=nhs,
        kind="size",
        value="public_sector",
        source="registry",
        evidence="An NHS trust",
        confidence="high",
        decided_at=timezone.now(),
    )
    assert list(_off(council)) == ["NHS Trust", "Big plc", "Small Ltd"]
    assert list(_off(council, public_bodies=False)) == ["Big plc", "Small Ltd"]


def test_the_page_offers_the_thresholds_and_a_custom_amount(
    client, viewer, council, supplier, pay
):
    pay(date(2025, 6, 1), "7000.00")
    client.force_login(viewer)
    url = reverse("procure:off-contract", args=[council.slug])
    query = {"year": "2025", "threshold": "5000", "public": "exclude"}
    assertContains(client.get(url, query), supplier.name)
    assert supplier.name not in client.get(url, query | {"threshold": "30000"}).text
    custom = query | {"threshold": "custom", "amount": "6999.99"}
    assertContains(client.get(url, custom), "£6,999.99")
    assertContains(client.get(url, custom), supplier.name)
    page = client.get(url, query | {"threshold": "custom", "amount": ""})
    assertContains(page, "Enter the amount, in pounds.")
    assertContains(page, "date_from=2025-04-01&amp;date_to=2026-03-31")


def test_an_off_contract_address_with_the_year_alone_takes_the_defaults(
    client, viewer, council, supplier, pay
):
    pay(date(2025, 6, 1), "7000.00")
    client.force_login(viewer)
    url = reverse("procure:off-contract", args=[council.slug])
    page = client.get(url, {"year": "2025"})
    assert not page.context["form"].errors
    assertContains(page, supplier.name)
    assertNotContains(page, "This field is required")


def test_the_off_contract_csv_is_formula_safe(
    client, viewer, council, make_supplier, make_line
):
    evil = make_supplier(name='=HYPERLINK("http://evil.example")')
    make_line(council, supplier=evil, amount=Decimal("8000.00"))
    client.force_login(viewer)
    url = reverse("procure:off-contract", args=[council.slug])
    response = client.get(url, {"year": "2025", "threshold": "5000", "export": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Supplier" and rows[0][5] == "All spend in 2025/26 (£)"
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example")'
    assert rows[1][3] == "8000.00"
    assert response["Content-Disposition"].endswith(
        'luton-off-contract-2025-from-5000.csv"'
    )


def test_an_import_links_its_lines_to_the_contract_covering_them(
    council, make_supplier
):
    from datetime import date

    from procure.models import Contract
    from spend.importer import import_spend_file
    from spend.models import SpendLine, SpendUpload

    acme = make_supplier(name="Acme Builders Ltd")
    contract = Contract.objects.create(
        council=council,
        reference="C-1",
        title="Roads",
        supplier=acme,
        start_date=date(2025, 4, 1),
        end_date=date(2025, 4, 30),
        status="active",
    )
    upload = SpendUpload.objects.create(
        council=council, file_name="april.csv", sha256="c" * 64, status="pending"
    )
    data = (
        b"Date,Supplier,Amount\n"
        b"30/04/2025,Acme Builders Ltd,100.00\n"
        b"01/05/2025,Acme Builders Ltd,200.00\n"
    )
    import_spend_file(upload=upload, data=data)
    linked = dict(SpendLine.objects.values_list("payment_date", "contract_id"))
    # The last day of the contract is inside it; the day after is not.
    assert linked == {date(2025, 4, 30): contract.pk, date(2025, 5, 1): None}


# --- Links kept true when suppliers merge or contracts go ---------------------------


def test_a_merge_links_the_merged_suppliers_payments_and_undo_unlinks_them(
    council, contract, supplier, make_supplier, pay, council_officer
):
    dupe = make_supplier(name="Stockwood Landscapes")
    theirs = pay(date(2025, 9, 1), supplier=dupe)
    link_spend(council)
    assert _contract_of(theirs) is None
    record = merge_suppliers(
        kept=supplier, merged=dupe, user=council_officer, council=None
    )
    assert _contract_of(theirs) == contract.pk
    undo_merge(record, user=council_officer)
    theirs.refresh_from_db()
    assert (theirs.supplier_id, theirs.contract_id) == (dupe.pk, None)


def test_undoing_a_merge_releases_a_hand_link_across_the_two_suppliers(
    council, contract, supplier, make_supplier, pay, council_officer
):
    dupe = make_supplier(name="Stockwood Landscapes")
    early = pay(date(2024, 9, 1), supplier=dupe)  # before the contract
    record = merge_suppliers(
        kept=supplier, merged=dupe, user=council_officer, council=None
    )
    assert link_lines(contract, [early.pk]) == 1
    undo_merge(record, user=council_officer)
    early.refresh_from_db()
    # Back with a supplier that holds no contract: the hand link cannot stand.
    assert (early.supplier_id, early.contract_id) == (dupe.pk, None)
    assert early.contract_link_manual is False


def test_deleting_a_contract_hands_its_payments_to_the_one_still_covering_them(
    admin_client, council, contract, supplier, pay
):
    later = _parks_extended(council, supplier, end_date=date(2027, 3, 31))
    october, by_hand = pay(date(2025, 10, 5)), pay(date(2026, 6, 1))
    link_spend(council)
    link_lines(later, [by_hand.pk])
    assert _contract_of(october) == later.pk
    url = reverse("admin:procure_contract_delete", args=[later.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Contract.objects.filter(pk=later.pk).exists()
    assert _contract_of(october) == contract.pk
    by_hand.refresh_from_db()
    # Linked by hand to the deleted contract: back with the rule, which finds none.
    assert (by_hand.contract_id, by_hand.contract_link_manual) == (None, False)


# --- The line list, filtered by contract ------------------------------------------------


def _listed(client, council, query: dict):
    page = client.get(reverse("spend:lines", args=[council.slug]), query)
    assert page.status_code == 200
    return page


def test_the_contract_page_links_to_exactly_its_payments_in_the_line_list(
    client, viewer, council, contract, supplier, pay
):
    inside = [pay(date(2025, 6, 1), "700.00"), pay(date(2026, 3, 31), "300.50")]
    outside = pay(date(2026, 5, 1), "999.00")
    link_spend(council)
    client.force_login(viewer)
    detail = client.get(contract.get_absolute_url())
    link = f"?contract={contract.pk}"
    assertContains(detail, link)
    listed = _listed(client, council, {"contract": contract.pk})
    ids = {line.pk for line in listed.context["table"].data}
    assert ids == {line.pk for line in inside}
    assert outside.pk not in ids
    assert listed.context["figures"]["total"] == Decimal("1000.50")
    assertContains(listed, "under contract C1 “Parks”")


def test_another_councils_contract_selects_nothing_and_is_not_named(
    client, other_council_officer, council, contract, pay
):
    pay(date(2025, 6, 1))
    link_spend(council)
    client.force_login(other_council_officer)
    other = other_council_officer.memberships.get().council
    listed = _listed(client, other, {"contract": contract.pk})
    assert listed.context["figures"]["lines"] == 0
    assert "Parks" not in listed.content.decode()


def test_payments_not_linked_to_any_contract(
    client, viewer, council, contract, supplier, pay
):
    pay(date(2025, 6, 1), "5000.00")
    loose = pay(date(2024, 6, 1), "250.00")
    link_spend(council)
    client.force_login(viewer)
    listed = _listed(client, council, {"on_contract": "false"})
    assert [line.pk for line in listed.context["table"].data] == [loose.pk]
    assertContains(listed, "not linked to any contract")
    linked = _listed(client, council, {"on_contract": "true"})
    assert linked.context["figures"]["total"] == Decimal("5000.00")


def test_each_off_contract_amount_links_to_lines_adding_up_to_it(
    client, viewer, council, contract, supplier, pay
):
    pay(date(2025, 6, 1), "9000.00")  # under the contract
    pay(date(2026, 1, 10), "-100.00", contract=None)
    pay(date(2025, 4, 2), "3000.00", contract=None)
    pay(date(2025, 5, 2), "2600.00", contract=None)
    link_spend(council)
    unlink_lines(
        contract,
        SpendLine.objects.filter(payment_date__lt=date(2025, 6, 1)).values_list(
            "pk", flat=True
        ),
    )
    unlink_lines(
        contract,
        SpendLine.objects.filter(payment_date=date(2026, 1, 10)).values_list(
            "pk", flat=True
        ),
    )
    row = _off(council)[supplier.name]
    assert row["off_contract"] == Decimal("5500.00")
    client.force_login(viewer)
    page = client.get(reverse("procure:off-contract", args=[council.slug]))
    href = next(
        a for a in page.content.decode().split('href="')[1:] if "on_contract=false" in a
    ).split('"')[0]
    query = dict(pair.split("=") for pair in href.split("?")[1].split("&amp;"))
    listed = _listed(client, council, query)
    assert listed.context["figures"]["total"] == row["off_contract"]
    assert listed.context["figures"]["lines"] == row["payments"] == 3


def test_a_new_contract_says_which_payments_it_took_from_another(
    client, council_officer, council, contract, supplier, pay
):
    june, july = pay(date(2025, 6, 1)), pay(date(2025, 7, 1))
    link_spend(council)
    client.force_login(council_officer)
    response = client.post(
        reverse("procure:contract-new", args=[council.slug]),
        _phase_two(supplier),
        follow=True,
    )
    said = [str(m) for m in response.context["messages"]]
    assert _contract_of(june) == contract.pk and _contract_of(july) != contract.pk
    assert said[0].startswith("Added contract C2. 1 payment linked to it: 1 from C1")
    assert not any("more than its whole-life value" in m for m in said)
    pay(date(2025, 8, 1))  # now £2,000 against a value of £1,500
    new = Contract.objects.get(reference="C2")
    response = client.post(
        reverse("procure:contract-edit", args=[council.slug, new.pk]),
        _phase_two(supplier, title="Parks, phase two"),
        follow=True,
    )
    said = [str(m) for m in response.context["messages"]]
    assert any(
        "come to £2,000.00, more than its whole-life value of £1,500.00" in m
        for m in said
    )
    assertContains(response, "More than its value")
