"""The record of a contract's payments outlives the contract, and every officer's
hand-link decision stays in the history.

Audit (gaps 1 and 6): deleting a contract, or undoing a register import that
added contracts, erased the record of their payments (the link changes and hand
links went with the contract), and nothing lasting said how many payments were
left with no contract or for how much; an officer linking a payment again erased
who had taken it off."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from pytest_django.asserts import assertContains

from procure import register_import
from procure.linking import link_lines, link_spend, release_lines, unlink_lines
from procure.models import Contract, ContractLinkChange, HandLink
from tests.procure.test_register_import import GOOD, _csv


@pytest.fixture
def supplier(make_supplier):
    return make_supplier(name="Green Spaces Ltd", company_number="01234567")


@pytest.fixture
def contract(council, supplier):
    return Contract.objects.create(
        council=council,
        reference="C1",
        title="Parks",
        supplier=supplier,
        start_date=date(2024, 4, 1),
        end_date=date(2027, 3, 31),
    )


def _delete(client, council, contract, reason):
    url = reverse("procure:contract-delete", args=[council.slug, contract.pk])
    return client.post(url, {"reason": reason}, follow=True)


def test_deleting_a_contract_keeps_its_link_changes_and_records_its_payments(
    client, council, council_officer, council_admin, supplier, contract, make_line
):
    for day, amount in ((date(2025, 1, 10), "1000.00"), (date(2025, 2, 10), "250.50")):
        make_line(council, supplier=supplier, payment_date=day, amount=Decimal(amount))
    link_spend(council, cause="in a test", user=council_admin)
    earlier = contract.link_changes.get()
    assert earlier.contract_reference == "C1"  # filled when written
    # A payment taken off it by hand (so not one of its payments): the decision
    # goes with the contract, and its history says who took it off, and who
    # deleted it and why.
    off = make_line(
        council, supplier=supplier, payment_date=date(2025, 3, 1), amount=Decimal(5)
    )
    link_spend(council)
    unlink_lines(contract, [off.pk], user=council_admin)

    client.force_login(council_officer)
    response = _delete(client, council, contract, "Entered twice")
    assert response.status_code == 200
    assert not Contract.objects.filter(pk=contract.pk).exists()

    kept = ContractLinkChange.objects.filter(contract_reference="C1").order_by("pk")
    assert [c.pk for c in kept][0] == earlier.pk
    assert all(c.contract_id is None for c in kept)
    gone = kept.last()
    what = (
        "2 payments (£1,250.50) went back to the linking rule when contract C1 was "
        "deleted: 2 (£1,250.50) left with no contract"
    )
    assert gone.what == what
    assert (gone.lines_lost, gone.amount_lost) == (2, Decimal("1250.50"))
    assert gone.recorded_by == council_officer
    # The same words in its deletion's reason, after the officer's own.
    record = Contract.history.get(id=contract.pk, history_type="-")
    assert record.history_change_reason == f"Entered twice\n{what}."

    assert not HandLink.objects.exists()
    taken_off, deleted = HandLink.history.filter(line_id=off.pk).order_by(
        "history_date", "history_id"
    )
    assert (taken_off.history_type, taken_off.linked) == ("+", False)
    assert taken_off.history_user == council_admin
    assert (deleted.history_type, deleted.contract_id) == ("-", contract.pk)
    assert deleted.history_user == council_officer
    assert deleted.history_change_reason == (
        "Contract C1 deleted: the payment went back to the linking rule"
    )

    # Its pages say it: the officer's words quoted, then the payments.
    page = client.get(
        reverse("procure:contract-detail", args=[council.slug, contract.pk])
    )
    assert page.status_code == 404
    assertContains(page, f"by bob-officer: “Entered twice”. {what}.", status_code=404)
    listed = client.get(reverse("procure:contracts-deleted", args=[council.slug]))
    assertContains(listed, "Entered twice<br>")
    assertContains(listed, f"{what}.")


def test_a_deleted_contracts_payments_moved_elsewhere_are_named(
    client, council, council_officer, supplier, contract, make_line
):
    later = Contract.objects.create(
        council=council,
        reference="C2",
        title="Parks, later",
        supplier=supplier,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
    )
    make_line(
        council, supplier=supplier, payment_date=date(2025, 6, 1), amount=Decimal(80)
    )
    make_line(
        council, supplier=supplier, payment_date=date(2026, 6, 1), amount=Decimal(20)
    )
    link_spend(council)
    client.force_login(council_officer)
    _delete(client, council, contract, "Mistake.")
    what = (
        "1 payment (£20.00) went back to the linking rule when contract C1 was "
        "deleted: 1 (£20.00) left with no contract"
    )
    assert ContractLinkChange.objects.get(contract__isnull=True).what == what
    _delete(client, council, later, "Also a mistake")
    gone = ContractLinkChange.objects.filter(contract_reference="C2").last()
    assert gone.what == (
        "1 payment (£80.00) went back to the linking rule when contract C2 was "
        "deleted: 1 (£80.00) left with no contract"
    )
    assert ContractLinkChange.objects.filter(contract__isnull=True).count() == 2


def test_undoing_an_import_keeps_the_record_of_the_payments_it_left_with_none(
    council, council_officer, supplier, make_line
):
    make_line(council, supplier=supplier, payment_date=date(2025, 1, 10), amount=700)
    register = register_import.read(_csv(GOOD[:1]), "register.csv")
    report = register_import.import_register(
        council, register, register.mapping, user=council_officer
    )
    added = Contract.objects.get(reference="LBC-001")
    assert added.spend_lines.count() == 1
    register_import.undo(report.record, council_officer)

    kept = list(
        ContractLinkChange.objects.filter(contract_reference="LBC-001").order_by("pk")
    )
    assert [c.contract_id for c in kept] == [None, None]
    left = (
        "1 payment (£700.00) left with no contract when the register import of "
        "“register.csv” was undone"
    )
    assert kept[-1].what == left
    assert (kept[-1].lines_lost, kept[-1].amount_lost) == (1, Decimal("700.00"))
    record = Contract.history.get(id=added.pk, history_type="-")
    assert record.history_change_reason == (
        f"Undoing the import of register.csv\n{left}."
    )


def test_each_officers_hand_link_decision_stays_in_the_history(
    council,
    council_officer,
    council_admin,
    finance_officer,
    contract,
    supplier,
    make_line,
):
    line = make_line(
        council, supplier=supplier, payment_date=date(2025, 1, 10), amount=Decimal(9)
    )
    link_spend(council)
    unlink_lines(contract, [line.pk], user=council_admin)
    link_lines(contract, [line.pk], user=council_officer)
    # Who took payment #X off? Still known though another linked it again.
    taken_off = HandLink.history.filter(line_id=line.pk, linked=False).get()
    assert taken_off.history_user == council_admin
    assert taken_off.by == council_admin
    assert HandLink.objects.get(pk=line.pk).by == council_officer
    release_lines(contract, [line.pk], user=finance_officer)
    assert not HandLink.objects.exists()
    history = [
        (h.history_type, h.linked, h.history_user)
        for h in HandLink.history.filter(line_id=line.pk).order_by(
            "history_date", "history_id"
        )
    ]
    assert history == [
        ("+", False, council_admin),
        ("~", True, council_officer),
        ("-", True, finance_officer),
    ]
    assert HandLink.history.filter(history_type="-").get().history_change_reason == (
        "Handed back to the linking rule on contract C1"
    )


def test_every_link_change_names_its_contract_however_written(council, contract):
    """Spend imports and rollbacks write link changes with bulk_create and no
    reference: it is filled from the contract."""
    ContractLinkChange.objects.bulk_create(
        [ContractLinkChange(contract=contract, lines_gained=1, what="1 payment")]
    )
    ContractLinkChange.objects.create(contract=contract, what="another")
    assert set(
        ContractLinkChange.objects.values_list("contract_reference", flat=True)
    ) == {"C1"}


def test_the_migration_fills_references_and_starts_the_hand_link_history(
    council, council_officer, contract, supplier, make_line
):
    migration = importlib.import_module(
        "procure.migrations.0014_link_history_kept_when_contracts_go"
    )
    change = ContractLinkChange.objects.create(contract=contract, what="moved")
    ContractLinkChange.objects.update(contract_reference="")  # as rows were
    line = make_line(council, supplier=supplier, payment_date=date(2025, 1, 10))
    at = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)
    HandLink.objects.bulk_create(  # no history, as before
        [
            HandLink(
                line=line, contract=contract, linked=False, by=council_officer, at=at
            )
        ]
    )
    migration.fill_references_and_start_hand_history(apps, None)
    change.refresh_from_db()
    assert change.contract_reference == "C1"
    first = HandLink.history.get(line_id=line.pk)
    assert (first.history_type, first.linked, first.history_user) == (
        "+",
        False,
        council_officer,
    )
    assert first.history_date == at


def test_link_changes_name_their_council_even_once_the_contract_is_gone(
    client, council, council_officer, contract, supplier, make_line
):
    """Review: references are unique within a council only, so a change kept
    after its contract went must say whose contract it was."""
    made = ContractLinkChange.objects.create(contract=contract, what="moved")
    bulk = ContractLinkChange.objects.bulk_create(
        [ContractLinkChange(contract=contract, what="moved in bulk")]
    )[0]
    assert made.council_id == bulk.council_id == council.pk
    # The migration's data step fills the council of rows written before.
    ContractLinkChange.objects.update(council=None)
    migration = importlib.import_module("procure.migrations.0015_link_change_council")
    migration.fill_councils(apps, None)
    assert set(ContractLinkChange.objects.values_list("council", flat=True)) == {
        council.pk
    }
    # The record of a deleted contract's payments names its council.
    make_line(council, supplier=supplier, payment_date=date(2025, 1, 10))
    link_spend(council)
    client.force_login(council_officer)
    client.post(
        reverse("procure:contract-delete", args=[council.slug, contract.pk]),
        {"reason": "Entered twice by mistake"},
    )
    gone = ContractLinkChange.objects.get(contract=None, what__contains="deleted")
    assert (gone.council_id, gone.contract_reference) == (council.pk, "C1")
