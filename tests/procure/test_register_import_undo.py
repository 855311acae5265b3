"""A contract register import can be undone while nothing it touched has changed
since (QA: an import could not be undone; 826 contracts updated and payments moved
between contracts stayed so)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from procure import register_import
from procure.models import Contract, ContractKPI, RegisterImport
from tests.procure.test_register_import import GOOD, _csv


def _import(council, rows, user, name="register.csv"):
    register = register_import.read(_csv(rows), name)
    return register_import.import_register(
        council, register, register.mapping, user=user
    )


@pytest.fixture
def held(council, make_supplier):
    """LBC-001 as the council holds it before the import updates it."""
    supplier = make_supplier(name="Green Spaces Ltd", company_number="01234567")
    return Contract.objects.create(
        council=council,
        reference="LBC-001",
        title="Grounds maintenance",
        supplier=supplier,
        value=Decimal("100000"),
        start_date=date(2024, 4, 1),
        end_date=date(2026, 3, 31),
        department="Environment",
        cpv_codes="77310000-6",
    )


def test_undoing_deletes_what_it_added_and_puts_back_what_it_updated(
    council, council_officer, held
):
    report = _import(council, GOOD, council_officer)
    assert (report.created, report.updated) == (2, 1)
    record = report.record
    assert record.imported_by == council_officer
    held.refresh_from_db()
    assert held.value == Decimal("120000")

    assert register_import.undo(record, council_officer) == (2, 1)
    assert list(Contract.objects.values_list("reference", flat=True)) == ["LBC-001"]
    held.refresh_from_db()
    assert (held.value, held.end_date, held.route) == (
        Decimal("100000.00"),
        date(2026, 3, 31),
        "",
    )
    latest = held.history.first()
    assert latest.history_user == council_officer
    assert latest.history_change_reason == "Undoing the import of register.csv"
    deleted = Contract.history.filter(history_type="-")
    assert {r.reference for r in deleted} == {"LBC-002", "LBC-003"}
    record.refresh_from_db()
    assert record.undone_by == council_officer and record.undone_at is not None
    assert register_import.undo_blockers(record) == ["It has already been undone."]
    with pytest.raises(register_import.UndoRefused):
        register_import.undo(record, council_officer)


def test_payments_go_back_to_the_contract_they_were_linked_to(
    council, council_officer, make_supplier, make_line
):
    from procure.linking import link_spend

    supplier = make_supplier(name="Green Spaces Ltd", company_number="01234567")
    older = Contract.objects.create(
        council=council,
        reference="LBC-000",
        title="Grounds maintenance (old)",
        supplier=supplier,
        start_date=date(2023, 4, 1),
        end_date=date(2027, 3, 31),
    )
    line = make_line(
        council, supplier=supplier, payment_date=date(2025, 1, 10), amount=700
    )
    link_spend(council)
    report = _import(council, GOOD[:1], council_officer)
    line.refresh_from_db()
    assert line.contract.reference == "LBC-001"
    register_import.undo(report.record, council_officer)
    line.refresh_from_db()
    assert line.contract == older
    # QA: "… that had no contract linked here when the register import … was
    # undone", though they had been on the contract the undo deleted.
    assert older.link_changes.order_by("pk").last().what == (
        "1 payment (£700.00) moved here from contract LBC-001 when the register "
        "import of “register.csv” was undone"
    )
    gone = Contract.history.get(reference="LBC-001", history_type="-")
    assert gone.supplier_id == supplier.pk  # deleted as it was


def test_a_contract_changed_since_stops_the_undo_and_is_named(
    council, council_officer, held
):
    report = _import(council, GOOD, council_officer)
    held.refresh_from_db()
    held.title = "Grounds maintenance and tree work"
    held.save()
    reasons = register_import.undo_blockers(report.record)
    # Named with what changed, so it can be put back (QA).
    assert reasons == [
        "Contract LBC-001 (title) has been changed since (edited, or imported "
        "again): undoing would lose that."
    ]
    with pytest.raises(register_import.UndoRefused, match="LBC-001"):
        register_import.undo(report.record, council_officer)
    assert Contract.objects.count() == 3  # nothing undone
    held.refresh_from_db()
    assert held.value == Decimal("120000")


def test_a_later_import_of_the_same_contracts_stops_the_earlier_ones_undo(
    council, council_officer, held
):
    first = _import(council, GOOD, council_officer)
    changed = [list(GOOD[0])]
    changed[0][4] = "£130,000.00"
    later = _import(council, changed, council_officer, "register-v2.csv")
    assert later.updated == 1
    assert "Contract LBC-001 (whole-life value) has been changed since" in " ".join(
        register_import.undo_blockers(first.record)
    )
    register_import.undo(later.record, council_officer)
    assert register_import.undo_blockers(first.record) == []


def test_an_added_contract_given_kpis_stops_the_undo(council, council_officer):
    report = _import(council, GOOD, council_officer)
    added = Contract.objects.get(reference="LBC-002")
    ContractKPI.objects.create(contract=added, name="Fill rate", target="95%")
    reasons = register_import.undo_blockers(report.record)
    assert reasons == [
        "Contract LBC-002, added by the import, now has social value commitments, "
        "KPIs or payments linked or taken off by hand, which undoing would delete "
        "with it.",
    ]


def test_an_added_contract_deleted_since_does_not_stop_the_undo(
    client, council, council_officer, held
):
    """QA: deleting one contract the import added blocked undoing it for good,
    though the undo would have deleted it anyway."""
    report = _import(council, GOOD, council_officer)
    gone = Contract.objects.get(reference="LBC-003")
    gone._history_user = council_officer
    gone._change_reason = "Entered by mistake"
    gone.delete()
    assert register_import.undo_blockers(report.record) == []
    url = reverse("procure:contract-import-undo", args=[council.slug, report.record.pk])
    client.force_login(council_officer)
    page = client.get(url).content.decode()
    assert "Undo the import</button>" in page
    assert "1 contract it added has been deleted since (LBC-003)" in page
    assert "The 1 contract it added will be deleted" in page

    done = client.post(url, follow=True).content.decode()
    assert (
        "Undid the import of “register.csv”: the 1 contract it added was deleted "
        "(1 more had been deleted already) and the 1 contract it updated was put "
        "back as it was." in done
    )
    assert list(Contract.objects.values_list("reference", flat=True)) == ["LBC-001"]
    held.refresh_from_db()
    assert held.value == Decimal("100000.00")
    undone = Contract.history.get(reference="LBC-002", history_type="-")
    assert undone.history_user == council_officer
    assert undone.history_change_reason == "Undoing the import of register.csv"
    report.record.refresh_from_db()
    assert report.record.undone_at is not None


def test_only_deleted_added_contracts_leave_nothing_to_change(council, council_officer):
    report = _import(council, GOOD[1:], council_officer)
    for contract in Contract.objects.all():
        contract.delete()
    assert register_import.undo_blockers(report.record) == []
    assert register_import.undo(report.record, council_officer) == (0, 0)


def test_an_updated_contract_deleted_since_stops_the_undo(
    council, council_officer, held
):
    report = _import(council, GOOD, council_officer)
    Contract.objects.get(reference="LBC-001").delete()
    assert register_import.undo_blockers(report.record) == [
        "Contract LBC-001, updated by the import, has been deleted since: undoing "
        "cannot put it back as before."
    ]
    with pytest.raises(register_import.UndoRefused):
        register_import.undo(report.record, council_officer)


def test_an_edited_added_contract_stops_the_undo_and_says_how_to_clear_it(
    client, council, council_officer
):
    report = _import(council, GOOD, council_officer)
    added = Contract.objects.get(reference="LBC-002")
    added.title = "Agency staff (social care)"
    added.save()
    reasons = register_import.undo_blockers(report.record)
    assert reasons == [
        "Contract LBC-002 (title), added by the import, has been changed since "
        "(edited, or "
        "imported again): undoing would delete it and lose that. To undo the "
        "import, first delete it (“Delete this contract” on the contract's page), "
        "or put back the details the import gave it."
    ]
    url = reverse("procure:contract-import-undo", args=[council.slug, report.record.pk])
    client.force_login(council_officer)
    page = client.get(url).content.decode()
    assert "To undo the import, first delete it" in page
    added.delete()  # as the page says: then the undo may go ahead
    assert register_import.undo_blockers(report.record) == []
    assert register_import.undo(report.record, council_officer) == (2, 0)


def test_checking_records_nothing_to_undo(council, council_officer):
    register = register_import.read(_csv(GOOD), "register.csv")
    report = register_import.import_register(
        council, register, register.mapping, user=council_officer, check_only=True
    )
    assert report.record is None
    assert not RegisterImport.objects.exists()


def test_the_pages_offer_the_undo_ask_first_and_say_what_was_done(
    client, council, council_officer, held
):
    report = _import(council, GOOD, council_officer)
    undo_url = reverse(
        "procure:contract-import-undo", args=[council.slug, report.record.pk]
    )
    client.force_login(council_officer)
    start = client.get(reverse("procure:contract-import", args=[council.slug]))
    assert undo_url in start.content.decode()
    ask = client.get(undo_url)
    page = ask.content.decode()
    assert "Undo the import of “register.csv”?" in page
    assert "The 2 contracts it added will be deleted, and the 1 contract" in page
    assert Contract.objects.count() == 3  # asking changes nothing

    done = client.post(undo_url, follow=True)
    text = done.content.decode()
    assert (
        "Undid the import of “register.csv”: the 2 contracts it added were deleted "
        "and the 1 contract it updated was put back as it was." in text
    )
    assert "Undone" in text
    assert Contract.objects.count() == 1
    again = client.get(undo_url)
    assert "This import has already been undone" in again.content.decode()


def test_the_undo_page_says_why_it_cannot_undo(client, council, council_officer, held):
    report = _import(council, GOOD, council_officer)
    held.refresh_from_db()
    held.title = "Changed by hand"
    held.save()
    url = reverse("procure:contract-import-undo", args=[council.slug, report.record.pk])
    client.force_login(council_officer)
    page = client.get(url).content.decode()
    assert "This import cannot be undone" in page
    assert "Contract LBC-001 (title) has been changed since" in page
    assert "Undo the import</button>" not in page
    response = client.post(url, follow=True)
    assert (
        "Contract LBC-001 (title) has been changed since" in response.content.decode()
    )
    assert Contract.objects.count() == 3


def test_a_viewer_may_not_undo(client, council, council_officer, viewer, held):
    report = _import(council, GOOD, council_officer)
    url = reverse("procure:contract-import-undo", args=[council.slug, report.record.pk])
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    assert Contract.objects.count() == 3


def test_a_supplier_merged_since_is_followed_not_a_change(
    council, council_officer, held, make_supplier
):
    """Review: the contract was put back on a supplier merged away since (no
    payments, a supplier the pages treat as gone); merging the supplier the import
    added, the tidying it asks for, refused the undo as "changed since"."""
    from procure.merging import merge_suppliers

    before = held.supplier
    moved = [list(GOOD[0])]
    moved[0][2:4] = ["Beta Grounds Ltd", ""]  # another supplier, new to the register
    report = _import(council, moved + GOOD[1:2], council_officer)
    held.refresh_from_db()
    beta = held.supplier
    assert beta.name == "Beta Grounds Ltd"
    assert report.changes[0][1][0] == (
        "Supplier",
        "Green Spaces Ltd",
        "Beta Grounds Ltd",
    )
    # The import's new supplier, and the one the contract had, merged since.
    beta_kept = make_supplier(name="Beta Grounds and Parks Ltd")
    merge_suppliers(kept=beta_kept, merged=beta, user=council_officer, council=None)
    green_kept = make_supplier(name="Green Spaces (Luton) Ltd")
    merge_suppliers(kept=green_kept, merged=before, user=council_officer, council=None)
    assert register_import.undo_blockers(report.record) == []
    register_import.undo(report.record, council_officer)
    held.refresh_from_db()
    assert held.supplier == green_kept


def test_the_supplier_before_deleted_since_stops_the_undo(
    council, council_officer, held
):
    before = held.supplier
    moved = [list(GOOD[0])]
    moved[0][2:4] = ["Beta Grounds Ltd", ""]
    report = _import(council, moved, council_officer)
    before.delete()
    assert register_import.undo_blockers(report.record) == [
        "The supplier contract LBC-001 had before the import has been deleted from "
        "the register since."
    ]


def test_a_payment_taken_off_an_added_contract_by_hand_stops_the_undo(
    council, council_officer, make_supplier, make_line
):
    """Review: the officer's decision (a payment taken off the contract the import
    added) went with the contract, and the payment moved, unsaid."""
    from procure.linking import unlink_lines

    supplier = make_supplier(name="Green Spaces Ltd", company_number="01234567")
    line = make_line(
        council, supplier=supplier, payment_date=date(2025, 1, 10), amount=700
    )
    report = _import(council, GOOD[:1], council_officer)
    added = Contract.objects.get(reference="LBC-001")
    line.refresh_from_db()
    assert line.contract == added
    unlink_lines(added, [line.pk], user=council_officer)
    assert "payments linked or taken off by hand" in " ".join(
        register_import.undo_blockers(report.record)
    )


def test_payments_linked_by_hand_after_a_supplier_change_stop_the_undo(
    council, council_officer, held, make_line
):
    """Review: put back on its supplier before, the contract kept a payment to
    the supplier the import gave it, linked by hand."""
    from procure.linking import link_lines

    moved = [list(GOOD[0])]
    moved[0][2:4] = ["Beta Grounds Ltd", ""]
    report = _import(council, moved, council_officer)
    held.refresh_from_db()
    line = make_line(
        council, supplier=held.supplier, payment_date=date(2020, 1, 10), amount=50
    )
    link_lines(held, [line.pk], user=council_officer)
    assert "Contract LBC-001 has payments linked or taken off by hand" in " ".join(
        register_import.undo_blockers(report.record)
    )


def _bulk_rows(prefix: str, count: int) -> list[list[str]]:
    return [
        [
            f"{prefix}-{n:03}",
            "Cleaning",
            f"{prefix} Cleaner {n} Ltd",
            "",
            "1000",
            "01/04/2025",
            "",
            "",
            "",
            "",
            "",
        ]
        for n in range(count)
    ]


def _undo_queries(council, user, prefix: str, count: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    report = _import(council, _bulk_rows(prefix, count), user)
    assert report.created == count
    with CaptureQueriesContext(connection) as queries:
        register_import.undo(report.record, user)
    assert not Contract.objects.filter(reference__startswith=prefix).exists()
    return len(queries)


def test_undoing_many_added_contracts_relinks_once(council, council_officer):
    """Review: each deleted contract relinked its supplier's payments on its own
    (12,000 queries for 800 contracts), then still looked up its hand-linked
    payments (2 SELECTs each), though hand links stop the undo. Deleted
    together, what goes with them in a query per kind: each contract more costs
    at most its own few writes (history), not a relink or look-ups."""
    few = _undo_queries(council, council_officer, "FEW", 10)
    many = _undo_queries(council, council_officer, "MANY", 40)
    assert (many - few) / 30 <= 2, (few, many)


def test_a_row_with_no_supplier_and_no_status_says_how_to_mark_it_pipeline(
    council, council_officer
):
    """QA: "Only a contract still in the pipeline can be without one", with no
    word of how a file says a row is in the pipeline."""
    row = list(GOOD[0])
    row[2:4] = ["", ""]
    report = _import(council, [row], council_officer)
    (rejection,) = report.rejections
    assert "put “pipeline” in a Status column for such rows" in rejection.reason


def test_a_redacted_supplier_is_not_called_empty(council, council_officer):
    row = list(GOOD[0])
    row[2:4] = ["REDACTED PERSONAL DATA", ""]
    report = _import(council, [row], council_officer)
    (rejection,) = report.rejections
    assert "is empty" not in rejection.reason


def test_an_import_giving_a_contract_another_supplier_lets_go_of_hand_links(
    council, council_officer, held, make_line
):
    """Review: the old supplier's payments linked to the contract by hand stayed
    on it, as they did when the contract form changed the supplier."""
    from procure.linking import link_lines

    early = make_line(
        council, supplier=held.supplier, payment_date=date(2020, 1, 10), amount=60
    )
    link_lines(held, [early.pk], user=council_officer)
    moved = [list(GOOD[0])]
    moved[0][2:4] = ["Beta Grounds Ltd", ""]
    report = _import(council, moved, council_officer)
    early.refresh_from_db()
    assert (early.contract, early.contract_link_manual) == (None, False)
    assert any("linked by hand" in note for note in report.notes)


# --- The undo obeys the contract form's social value rules -------------------------


def _commit(contract, start, end, *, returned=False):
    from socialvalue.models import Commitment, DeliveryReturn, Measure

    commitment = Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-03"),
        quantity=Decimal("52"),
        period_start=start,
        period_end=end,
    )
    if returned:
        DeliveryReturn.objects.create(
            commitment=commitment,
            quantity=Decimal("13"),
            period_start=start,
            period_end=date(start.year, 6, 30),
            evidence_note="Timesheets seen",
            confirmed=True,
        )
    return commitment


def test_a_contract_awarded_by_the_import_and_given_returns_stops_the_undo(
    council, council_officer
):
    """Review: undoing put a contract with delivery returns back in the pipeline,
    which the contract form refuses."""
    pipe = Contract.objects.create(
        council=council,
        reference="PIPE-1",
        title="Library refit",
        status="pipeline",
        start_date=date(2025, 4, 1),
        end_date=date(2027, 3, 31),
    )
    row = ["PIPE-1", "Library refit", "Shelf Fitters Ltd", "", "80000",
           "01/04/2025", "31/03/2027", "", "", "", "Active"]  # fmt: skip
    report = _import(council, [row], council_officer)
    assert report.updated == 1
    pipe.refresh_from_db()
    assert pipe.status == "active" and pipe.supplier is not None
    assert register_import.undo_blockers(report.record) == []
    _commit(pipe, date(2025, 4, 1), date(2026, 3, 31), returned=True)

    assert register_import.undo_blockers(report.record) == [
        "Contract PIPE-1 was in the pipeline (not yet awarded) before the import, "
        "and now has 1 social value delivery return: undoing would put it back in "
        "the pipeline, which an awarded contract cannot be. Keep the import, or, if "
        "the contract was never awarded, first remove the return on the contract's "
        "social value page."
    ]
    with pytest.raises(register_import.UndoRefused, match="PIPE-1"):
        register_import.undo(report.record, council_officer)
    pipe.refresh_from_db()
    assert pipe.status == "active"


def test_old_dates_outside_a_commitment_added_since_stop_the_undo(
    council, council_officer, held
):
    """Review: undoing put the end date back inside a commitment added since."""
    longer = [list(GOOD[0])]
    longer[0][6] = "31/03/2029"
    report = _import(council, longer, council_officer)
    held.refresh_from_db()
    assert held.end_date == date(2029, 3, 31)
    _commit(held, date(2027, 4, 1), date(2028, 3, 31))

    assert register_import.undo_blockers(report.record) == [
        "Contract LBC-001 ran from 1 April 2024 to 31 March 2026 before the import: "
        "undoing would put those dates back, and the commitment to LS-JOBS-03 "
        "(1 April 2027 to 31 March 2028) would then fall outside them. To undo the "
        "import, first change or remove it on the contract's social value page, or "
        "keep the import."
    ]
    with pytest.raises(register_import.UndoRefused, match="LBC-001"):
        register_import.undo(report.record, council_officer)
    held.refresh_from_db()
    assert held.end_date == date(2029, 3, 31)


def test_a_commitment_inside_the_old_dates_does_not_stop_the_undo(
    council, council_officer, held
):
    longer = [list(GOOD[0])]
    longer[0][6] = "31/03/2029"
    report = _import(council, longer, council_officer)
    _commit(held, date(2024, 4, 1), date(2025, 3, 31), returned=True)
    assert register_import.undo_blockers(report.record) == []
    register_import.undo(report.record, council_officer)
    held.refresh_from_db()
    assert held.end_date == date(2026, 3, 31)


def test_a_field_is_named_as_people_read_it_even_one_since_renamed():
    """Review: an import's record naming a field the contract no longer has
    would have been a 500 on the undo page."""
    assert register_import._field_words("value") == "whole-life value"
    assert register_import._field_words("old_field") == "old field"
