"""What moves payments onto and off a contract is told on its page: the linker's
moves (a register import, a merge, another contract saved or deleted), payments
taken off by hand (listed, to link again), the supplier's other payments (a page
at a time, between two days), and who linked or unlinked each by hand."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure import register_import
from procure.linking import link_lines, link_spend, unlink_lines
from procure.merging import merge_suppliers, undo_merge
from procure.models import Contract, ContractLinkChange, HandLink
from tests.procure import test_contract_linking as linking


@pytest.fixture
def supplier(make_supplier):
    return make_supplier(name="Green Spaces Ltd", company_number="01234567")


@pytest.fixture
def contract(council, supplier):
    return linking._parks(council, supplier, date(2023, 4, 1), date(2027, 3, 31))


# A payment to this file's `supplier` (the fixture), and the contract a payment
# is linked to, as the linking tests have them.
pay = linking.pay
_contract_of = linking._contract_of


def _register(rows: list[list[str]], name: str):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Contract Reference", "Contract Title", "Supplier Name", "Company Number"]
        + ["Contract Value", "Start Date", "End Date"]
    )
    writer.writerows(rows)
    return register_import.read(out.getvalue().encode(), name)


def _history(client, contract) -> list[str]:
    """The contract's History list on its page, as text lines."""
    page = client.get(contract.get_absolute_url())
    assert page.status_code == 200
    return [
        " ".join(row.get("what", "").split()) + f" by {row['who']}"
        for row in page.context["history"]
        if row.get("what")
    ]


def _told_two_lost_to_c2(contract, officer, cause: str) -> None:
    """The contract's one link change: £1,000.50 in 2 payments moved to C2."""
    lost = contract.link_changes.get()
    assert (lost.lines_lost, lost.amount_lost, lost.lines_gained) == (
        2,
        Decimal("1000.50"),
        0,
    )
    assert lost.recorded_by == officer
    assert lost.what == f"2 payments (£1,000.50) moved to contract C2 {cause}"


# --- Moves by the linker are told on both contracts ------------------------------


def test_a_register_import_taking_payments_is_told_on_the_contract_that_lost_them(
    client, council, council_officer, contract, pay
):
    """QA: an import took 147 payments from LBC-C-0002 for a new contract; its
    spend fell by £445k and its history still said only "created"."""
    taken = [pay(date(2025, 1, 10), "700.00"), pay(date(2024, 5, 1), "300.50")]
    kept = pay(date(2024, 1, 10), "99.00")  # before the new contract starts
    link_spend(council)
    register = _register(
        [["C2", "Parks, new", "Green Spaces Ltd", "01234567", "900000", "01/04/2024"]],
        "register 2025.csv",
    )
    register_import.import_register(
        council, register, register.mapping, user=council_officer
    )
    new = Contract.objects.get(reference="C2")
    assert {_contract_of(line) for line in taken} == {new.pk}
    assert _contract_of(kept) == contract.pk
    _told_two_lost_to_c2(
        contract, council_officer, "in the register import of “register 2025.csv”"
    )
    gained = new.link_changes.get()
    assert (gained.lines_gained, gained.amount_gained) == (2, Decimal("1000.50"))
    assert gained.what == (
        "2 payments (£1,000.50) moved here from contract C1 in the register import "
        "of “register 2025.csv”"
    )
    # One entry per contract, not one per payment.
    assert ContractLinkChange.objects.count() == 2
    client.force_login(council_officer)
    assert _history(client, contract) == [
        "2 payments (£1,000.50) moved to contract C2 in the register import of "
        "“register 2025.csv” by bob-officer"
    ]
    assertContains(
        client.get(contract.get_absolute_url()),
        "2 payments (£1,000.50) moved to contract C2 in the register import of "
        "“register 2025.csv” by bob-officer</li>",
    )


def test_an_import_that_moves_nothing_records_nothing(council, contract, pay):
    pay(date(2024, 1, 10))
    link_spend(council)
    register = _register(
        [["C1", "Parks", "Green Spaces Ltd", "01234567", "50000", "01/04/2023"]],
        "same.csv",
    )
    register_import.import_register(council, register, register.mapping)
    assert not ContractLinkChange.objects.exists()


def test_a_merge_moving_payments_between_contracts_is_told_and_so_is_its_undoing(
    client, council, council_officer, make_supplier, supplier, contract, pay
):
    dupe = make_supplier(name="Green Spaces")
    theirs = Contract.objects.create(
        council=council,
        reference="D1",
        title="Parks (as the other name)",
        supplier=dupe,
        start_date=date(2022, 4, 1),
    )
    line = pay(date(2025, 9, 1), "250.00", supplier=dupe)
    link_spend(council)
    assert _contract_of(line) == theirs.pk
    record = merge_suppliers(
        kept=supplier, merged=dupe, user=council_officer, council=None
    )
    # Both contracts are now the kept supplier's: the later-starting one wins.
    assert _contract_of(line) == contract.pk
    merge = "in the merge of supplier Green Spaces into Green Spaces Ltd"
    assert theirs.link_changes.get().what == (
        f"1 payment (£250.00) moved to contract C1 {merge}"
    )
    assert contract.link_changes.get().what == (
        f"1 payment (£250.00) moved here from contract D1 {merge}"
    )
    undo_merge(record, user=council_officer)
    assert _contract_of(line) == theirs.pk
    undone = "when the merge of supplier Green Spaces into Green Spaces Ltd was undone"
    assert contract.link_changes.first().what == (
        f"1 payment (£250.00) moved to contract D1 {undone}"
    )
    client.force_login(council_officer)
    assert _history(client, theirs)[0] == (
        f"1 payment (£250.00) moved here from contract C1 {undone} by bob-officer"
    )


def test_saving_a_contract_that_takes_payments_is_told_on_the_one_that_lost_them(
    client, council, council_officer, contract, supplier, pay
):
    june, july = pay(date(2025, 6, 1)), pay(date(2025, 7, 1), "20.00")
    link_spend(council)
    client.force_login(council_officer)
    client.post(
        reverse("procure:contract-new", args=[council.slug]),
        linking._phase_two(supplier),
    )
    new = Contract.objects.get(reference="C2")
    assert (_contract_of(june), _contract_of(july)) == (contract.pk, new.pk)
    assert _history(client, contract) == [
        "1 payment (£20.00) moved to contract C2 when contract C2 was saved "
        "by bob-officer"
    ]
    assert _history(client, new) == [
        "1 payment (£20.00) moved here from contract C1 when contract C2 was saved "
        "by bob-officer"
    ]


def _a_later_contract_paid_in_october(council, supplier, pay):
    """Contract C2, from 1 October 2025, and £80.00 paid on 5 October 2025,
    linked by the rule (to C2): the two."""
    later = linking._parks_extended(council, supplier)
    october = pay(date(2025, 10, 5), "80.00")
    link_spend(council)
    return later, october


def test_deleting_a_contract_is_told_on_the_one_that_takes_its_payments(
    admin_client, council, contract, supplier, pay
):
    later, october = _a_later_contract_paid_in_october(council, supplier, pay)
    assert _contract_of(october) == later.pk
    url = reverse("admin:procure_contract_delete", args=[later.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert _contract_of(october) == contract.pk
    change = contract.link_changes.get()
    assert change.what == (
        "1 payment (£80.00) that had no contract linked here when contract C2 "
        "was deleted"
    )
    assert change.recorded_by.is_superuser  # the admin who deleted it


def test_handing_payments_back_is_told_on_the_other_contract_that_takes_them(
    client, council, council_officer, contract, supplier, pay
):
    later, october = _a_later_contract_paid_in_october(council, supplier, pay)
    link_lines(contract, [october.pk])  # by hand, to the earlier contract
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(url, {"action": "release", "lines": [october.pk]})
    assert _contract_of(october) == later.pk
    assert list(later.link_changes.order_by("pk").values_list("what", flat=True)) == [
        # Taken off it by hand first, and told so.
        "1 payment (£80.00) moved to contract C1 (linked there by hand)",
        "1 payment (£80.00) moved here from contract C1 when an officer handed "
        "payments back to the linking rule on contract C1",
    ]
    # This contract's own history says what was handed back, once.
    assert not contract.link_changes.exists()
    reason = contract.history.first().history_change_reason
    assert reason == "Handed 1 payment back to the linking rule: 5 Oct 2025 (£80.00)"


# --- Saving a contract says how many payments are newly linked ----------------------


def _edit(client, council, contract, **changes):
    data = {
        "reference": contract.reference,
        "title": contract.title,
        "supplier": contract.supplier_id,
        "status": "active",
        "value": "50000",
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
    } | changes
    response = client.post(
        reverse("procure:contract-edit", args=[council.slug, contract.pk]),
        data,
        follow=True,
    )
    return [str(m) for m in response.context["messages"]]


def test_saving_says_the_payments_newly_linked_and_in_all(
    client, council, council_officer, contract, pay
):
    """QA: saving a contract said "59 payments linked to it", the total, when
    none was newly linked."""
    for day in range(3):
        pay(date(2025, 6, 1) + timedelta(days=day))
    later = pay(date(2027, 5, 1), "10.00")
    link_spend(council)
    client.force_login(council_officer)
    said = _edit(client, council, contract, title="Parks and open spaces")
    assert said[0] == "Saved contract C1. No payments newly linked to it (3 in all)."
    said = _edit(client, council, contract, end_date="2027-12-31")
    assert said[0] == "Saved contract C1. 1 payment newly linked to it (4 in all)."
    assert _contract_of(later) == contract.pk
    said = _edit(client, council, contract, end_date="2027-03-31")
    assert said[0] == (
        "Saved contract C1. No payments newly linked to it (3 in all). "
        "1 payment it held is no longer linked to it: 1 went to no contract."
    )
    assert contract.link_changes.first().what == (
        "1 payment (£10.00) left with no contract when contract C1 was saved"
    )


# --- Payments taken off by hand, and the others to link -----------------------------


def test_a_payment_taken_off_by_hand_is_listed_and_can_be_linked_again(
    client, council, council_officer, contract, pay
):
    """QA: a payment unlinked by hand then appeared nowhere on the contract's
    page, so a mistake could not be undone there."""
    line = pay(date(2025, 6, 1), "432.10")
    other = pay(date(2025, 6, 2))
    link_spend(council)
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(url, {"action": "unlink", "lines": [line.pk]})
    page = client.get(contract.get_absolute_url())
    listed = list(page.context["unlinked_lines"])
    assert [each.pk for each in listed] == [line.pk]
    assert listed[0].hand["who"] == "bob-officer"
    assertContains(page, f'id="unlinked-{line.pk}"')
    assertContains(page, "Link the chosen payments to this contract again")
    # Not offered twice: the other payments list leaves it to its own list.
    assert line.pk not in [each.pk for each in page.context["other_lines"]]
    client.post(url, {"action": "link", "lines": [line.pk]})
    assert _contract_of(line) == contract.pk
    page = client.get(contract.get_absolute_url())
    assert not page.context["unlinked_lines"]
    assert other.pk in [each.pk for each in page.context["linked_lines"]]


def test_a_payment_taken_off_and_handed_back_is_no_longer_listed(
    client, council, council_officer, contract, pay
):
    line = pay(date(2025, 6, 1))
    link_spend(council)
    unlink_lines(contract, [line.pk], user=council_officer)
    client.force_login(council_officer)
    assert len(client.get(contract.get_absolute_url()).context["unlinked_lines"]) == 1
    # Looked for among the other payments, it is pointed to (QA: "No other
    # payments ... were made between these days", and no word of where it was).
    between = client.get(
        contract.get_absolute_url(),
        {"other-date_from": "2025-06-01", "other-date_to": "2025-06-01"},
    )
    assertContains(
        between,
        "Payments taken off this contract by hand are not listed here: they are "
        "under “Payments taken off this contract by hand”, above, to link again.",
    )
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(url, {"action": "release", "lines": [line.pk]})
    assert _contract_of(line) == contract.pk
    assert not HandLink.objects.exists()
    assert not client.get(contract.get_absolute_url()).context["unlinked_lines"]


def test_other_payments_come_a_page_at_a_time_and_between_two_days(
    client, council, council_officer, contract, pay
):
    """QA: only the 25 latest other payments were listed, so an older one could
    not be linked at all."""
    old = [pay(date(2020, 1, 1) + timedelta(days=n)) for n in range(30)]
    client.force_login(council_officer)
    url = contract.get_absolute_url()
    first = client.get(url)
    assert len(first.context["other_lines"]) == 25
    assertContains(first, "30 payments: those with no contract first")
    assertContains(first, "?other=2#other-payments")
    second = client.get(url, {"other": "2"})
    assert old[0].pk in [line.pk for line in second.context["other_lines"]]
    assertContains(second, f'id="other-{old[0].pk}"')
    assertContains(second, " open>")  # the list stays open on its later pages
    between = client.get(
        url, {"other-date_from": "2020-01-02", "other-date_to": "2020-01-04"}
    )
    shown = [line.pk for line in between.context["other_lines"]]
    assert shown == [old[3].pk, old[2].pk, old[1].pk]
    assertContains(between, "3 payments paid from 2 Jan 2020 up to 4 Jan 2020")
    # The oldest, linked from its page: a hand link, whatever its date.
    lines_url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(lines_url, {"action": "link", "lines": [old[0].pk]})
    assert _contract_of(old[0]) == contract.pk


def test_days_the_wrong_way_round_are_refused_and_list_nothing(
    client, council, council_officer, contract, pay
):
    pay(date(2020, 1, 1))
    client.force_login(council_officer)
    page = client.get(
        contract.get_absolute_url(),
        {"other-date_from": "2020-02-01", "other-date_to": "2020-01-01"},
    )
    assert page.status_code == 200
    assert not page.context["other_lines"]
    assertContains(page, "The last day must be the same as or after the first day.")


# --- Who linked or unlinked by hand, and which payments -----------------------------


def test_hand_links_name_who_and_the_history_which_payments(
    client, council, council_officer, contract, pay
):
    """QA: "Linked 2 payments to this contract by hand", no dates or amounts,
    and the list said "By an officer" without who."""
    lines = [
        pay(date(2022, 1, n), amount)
        for n, amount in (
            (3, "10.00"),
            (1, "20.00"),
            (2, "30.00"),
            (4, "5.5"),
            (5, "1"),
        )
    ]
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(url, {"action": "link", "lines": [line.pk for line in lines[:2]]})
    reason = contract.history.first().history_change_reason
    assert reason == (
        "Linked 2 payments to this contract by hand: 1 Jan 2022 (£20.00) and "
        "3 Jan 2022 (£10.00)"
    )
    client.post(url, {"action": "link", "lines": [line.pk for line in lines]})
    reason = contract.history.first().history_change_reason
    # The two already linked by hand are not linked again.
    assert reason == (
        "Linked 3 payments to this contract by hand: 2 Jan 2022 (£30.00), "
        "4 Jan 2022 (£5.50) and 5 Jan 2022 (£1.00)"
    )
    page = client.get(contract.get_absolute_url())
    assertContains(page, "by bob-officer, ")
    assertNotContains(page, "by an officer")
    assert {line.hand["who"] for line in page.context["linked_lines"]} == {
        "bob-officer"
    }


def test_more_than_three_payments_are_named_then_counted(
    client, council, council_officer, contract, pay
):
    lines = [pay(date(2022, 1, n)) for n in range(1, 7)]
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(url, {"action": "link", "lines": [line.pk for line in lines]})
    assert contract.history.first().history_change_reason == (
        "Linked 6 payments to this contract by hand: 1 Jan 2022 (£1,000.00), "
        "2 Jan 2022 (£1,000.00), 3 Jan 2022 (£1,000.00) and 3 more"
    )


def test_who_linked_by_hand_is_named_by_the_councils_rules(
    client, admin_user, council, council_officer, contract, pay
):
    mine, theirs = pay(date(2022, 1, 1)), pay(date(2022, 1, 2))
    link_lines(contract, [mine.pk], user=council_officer)
    link_lines(contract, [theirs.pk], user=admin_user)  # a superuser
    client.force_login(council_officer)
    page = client.get(contract.get_absolute_url())
    who = {line.pk: line.hand["who"] for line in page.context["linked_lines"]}
    assert who == {mine.pk: "bob-officer", theirs.pk: "a LocalSpend administrator"}
    assertNotContains(page, admin_user.username + ",")


def test_a_payment_linked_by_hand_to_another_contract_says_who_there(
    client, council, council_officer, contract, supplier, pay
):
    other = Contract.objects.create(
        council=council,
        reference="C2",
        title="Parks, more",
        supplier=supplier,
        start_date=date(2030, 1, 1),
    )
    line = pay(date(2022, 1, 1))
    link_lines(other, [line.pk], user=council_officer)
    client.force_login(council_officer)
    page = client.get(contract.get_absolute_url())
    listed = next(each for each in page.context["other_lines"] if each.pk == line.pk)
    assert listed.hand["who"] == "bob-officer" and listed.hand["linked"]
    assertContains(page, "linked by bob-officer, ")


def test_payments_linked_by_hand_to_another_contract_are_told_on_the_one_they_left(
    client, council, council_officer, contract, supplier, pay
):
    """Security review: linking payments by hand to C2 took them off C1, and only
    C2's history said so: C1's spend fell with no word of why."""
    other = Contract.objects.create(
        council=council,
        reference="C2",
        title="Parks, more",
        supplier=supplier,
        start_date=date(2030, 1, 1),
    )
    moved = [pay(date(2025, 1, 10), "700.00"), pay(date(2025, 2, 1), "300.50")]
    stays = pay(date(2025, 3, 1), "99.00")
    loose = pay(date(2022, 1, 1), "5.00")  # before C1: on no contract
    link_spend(council)
    assert {_contract_of(line) for line in [*moved, stays]} == {contract.pk}

    link_lines(other, [line.pk for line in [*moved, loose]], user=council_officer)

    _told_two_lost_to_c2(contract, council_officer, "(linked there by hand)")
    assert not other.link_changes.exists()  # its own history says it, as before
    client.force_login(council_officer)
    assert (
        "2 payments (£1,000.50) moved to contract C2 (linked there by hand) by "
        "bob-officer"
    ) in _history(client, contract)


def test_a_rolled_back_spend_file_is_told_on_the_contracts_its_payments_left(
    council, council_officer, make_supplier, make_line
):
    """Security review: rolling back a file took its payments off their
    contracts (one linked by hand) with no word in the contracts' history."""
    from datetime import date
    from decimal import Decimal

    from procure.linking import link_lines, link_spend
    from procure.models import Contract, ContractLinkChange
    from spend.importer import rollback_upload

    supplier = make_supplier(name="Acme Ltd")
    contract = Contract.objects.create(
        council=council,
        reference="C-1",
        title="Repairs",
        supplier=supplier,
        start_date=date(2025, 1, 1),
    )
    ruled = make_line(council, supplier=supplier, payment_date=date(2025, 6, 1))
    by_hand = make_line(
        council,
        supplier=supplier,
        payment_date=date(2024, 6, 1),  # before the contract
        amount=Decimal("250.50"),
        upload=ruled.upload,
    )
    link_spend(council, [contract])
    link_lines(contract, [by_hand.pk], user=council_officer)
    assert contract.spend_lines.count() == 2
    before = ContractLinkChange.objects.filter(contract=contract).count()
    rollback_upload(ruled.upload, user=council_officer)
    assert contract.spend_lines.count() == 0
    change = ContractLinkChange.objects.filter(contract=contract).order_by("pk").last()
    assert ContractLinkChange.objects.filter(contract=contract).count() == before + 1
    assert (change.lines_lost, change.amount_lost, change.recorded_by) == (
        2,
        Decimal("1250.50"),
        council_officer,
    )
    assert change.what == (
        f"2 payments (£1,250.50) removed with spend file “spend.csv” (upload "
        f"#{ruled.upload_id}), rolled back"
    )


def test_an_imported_spend_file_is_told_on_the_contracts_its_payments_joined(
    client, council, contract, supplier, finance_officer, council_officer
):
    """QA: importing a file linked its payments to the contracts covering them
    (the linking rule) with no word in the contracts' history, where a rollback
    of the same file is told."""
    from spend.importer import import_spend_file
    from spend.models import SpendUpload

    upload = SpendUpload.objects.create(
        council=council,
        file_name="june.csv",
        sha256="d" * 64,
        status="pending",
        uploaded_by=finance_officer,
    )
    data = (
        b"Date,Supplier,Amount\n"
        b"01/06/2025,Green Spaces Ltd,1000.00\n"
        b"02/06/2025,Green Spaces Ltd,250.50\n"
        b"03/06/2025,Someone Else Ltd,99.00\n"
    )
    import_spend_file(upload=upload, data=data)
    change = contract.link_changes.get()
    assert (change.lines_gained, change.amount_gained, change.lines_lost) == (
        2,
        Decimal("1250.50"),
        0,
    )
    assert change.recorded_by == finance_officer
    client.force_login(council_officer)
    assert (
        f"2 payments (£1,250.50) added with spend file “june.csv” (upload "
        f"#{upload.pk}) by {finance_officer.username}"
    ) in _history(client, contract)
