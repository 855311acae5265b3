"""A merge and its undoing are recorded in history: the payments imported while
the merge stood that went back, and the officers' tag decisions it moved and put
back, with who did it and why (called outside a request: no user to fall back on).
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from procure.merging import (
    DROPPED_BY_MERGE,
    MOVED_BY_MERGE,
    PUT_BACK_BY_UNDO,
    TAKEN_BACK_BY_UNDO,
    merge_suppliers,
    undo_merge,
)
from procure.models import SupplierAlias
from socialvalue.models import TagOverride


@pytest.fixture
def pair(council, make_supplier, make_line, council_officer):
    kept = make_supplier(name="Wardown Plumbing Services Ltd", postcode="LU2 7AB")
    dupe = make_supplier(name="Wardown Plumbing Ltd")
    make_line(council, supplier=dupe, amount=Decimal("100"))
    make_line(council, supplier=kept, amount=Decimal("1000"))
    SupplierAlias.objects.create(
        supplier=dupe, council=council, name="WARDOWN PLUMBING"
    )
    TagOverride.objects.create(
        supplier=dupe,
        kind="vcse",
        value="no",
        reason="Checked register",
        created_by=council_officer,
    )
    return kept, dupe


def _latest(history):
    return history.order_by("-history_date", "-history_id").first()


def _paid_meanwhile(council, kept, make_upload, make_line, amounts):
    later = make_upload(council, finished_at=timezone.now())
    return later, [
        make_line(
            council,
            supplier=kept,
            supplier_name="Wardown Plumbing",
            upload=later,
            amount=Decimal(amount),
        )
        for amount in amounts
    ]


def test_undo_records_the_payments_imported_meanwhile_that_went_back(
    pair, council, council_officer, council_admin, make_upload, make_line
):
    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    later, lines = _paid_meanwhile(
        council, kept, make_upload, make_line, ["250.50", "1000.00"]
    )
    make_line(council, supplier=kept, supplier_name=kept.name, upload=later)
    undo_merge(record, user=council_admin)
    for line in lines:
        line.refresh_from_db()
        assert line.supplier == dupe
    undone = _latest(record.history)
    assert undone.undone_by == council_admin
    assert undone.history_user == council_admin
    first, second = sorted(line.pk for line in lines)
    assert undone.history_change_reason == (
        "Undone by alice-admin. 2 payments imported while the merge stood, "
        f"£1,250.50 in all, went back to Wardown Plumbing Ltd (#{dupe.pk}): "
        f"payments #{first} and #{second} (upload #{later.pk})."
    )
    assert _latest(record.history.filter(history_type="+")).history_user == (
        council_officer
    )


def test_many_payments_back_are_counted_with_their_uploads(
    pair, council, council_officer, make_upload, make_line
):
    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    first, _ = _paid_meanwhile(council, kept, make_upload, make_line, ["10"] * 7)
    second, _ = _paid_meanwhile(council, kept, make_upload, make_line, ["-5.25"] * 5)
    undo_merge(record, user=council_officer)
    assert _latest(record.history).history_change_reason == (
        "Undone by bob-officer. 12 payments imported while the merge stood, "
        f"£43.75 in all, went back to Wardown Plumbing Ltd (#{dupe.pk}): from "
        f"uploads #{first.pk} and #{second.pk}."
    )


def test_undo_with_nothing_imported_meanwhile_says_so(pair, council_officer):
    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    undo_merge(record, user=council_officer)
    undone = _latest(record.history)
    assert undone.history_user == council_officer
    assert undone.history_change_reason == (
        "Undone by bob-officer. No payments imported while the merge stood went "
        "back with it."
    )


def test_decisions_moved_and_put_back_say_by_whom_and_which_merge(
    client, pair, council, council_officer, council_admin
):
    kept, dupe = pair
    words = f"Wardown Plumbing Ltd (#{dupe.pk}) into Wardown Plumbing Services Ltd"
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    override = TagOverride.objects.get(kind="vcse")
    moved = _latest(override.history)
    assert moved.supplier_id == kept.pk and moved.history_user == council_officer
    assert moved.history_change_reason == f"{MOVED_BY_MERGE}{words} (#{kept.pk})"

    undo_merge(record, user=council_admin)
    removed = _latest(TagOverride.history.filter(supplier_id=kept.pk))
    assert removed.history_type == "-" and removed.history_user == council_admin
    # Review: this removal was worded "Put back on <merged> by undoing the merge
    # of ...", a reason no merge prefix matched, so the kept supplier's history
    # read as an officer removing the decision (and other councils had the
    # reason withheld). It now starts with a constant prefix of its own.
    assert removed.history_change_reason == (
        f"{TAKEN_BACK_BY_UNDO}{words} (#{kept.pk})"
    )
    restored = TagOverride.objects.get(kind="vcse")
    assert restored.supplier == dupe and restored.created_by == council_officer
    back = _latest(restored.history)
    assert back.history_user == council_admin
    assert back.history_change_reason == f"{PUT_BACK_BY_UNDO}{words} (#{kept.pk})"

    # The kept supplier's page tells the removal as the undoing's, with the
    # decision's own reason, without the record numbers.
    client.force_login(council_officer)
    url = reverse("procure:supplier-detail", args=[council.slug, kept.pk])
    page = client.get(url).content.decode()
    assert (
        "the officer&#x27;s decision (Not a VCSE, because “Checked register”) went "
        "back to the merged supplier on undoing the merge of Wardown Plumbing Ltd "
        "into Wardown Plumbing Services Ltd (alice-admin)"
    ) in page
    assert "removed the officer&#x27;s decision" not in page
    assert "(#" not in page


def test_a_decision_that_gave_way_and_came_back_says_so(
    pair, council_officer, council_admin
):
    kept, dupe = pair
    TagOverride.objects.create(
        supplier=kept,
        kind="vcse",
        value="yes",
        reason="Their own",
        created_by=council_admin,
    )
    words = (
        f"Wardown Plumbing Ltd (#{dupe.pk}) into Wardown Plumbing Services Ltd "
        f"(#{kept.pk})"
    )
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    dropped = _latest(TagOverride.history.filter(supplier_id=dupe.pk))
    assert dropped.history_type == "-" and dropped.history_user == council_officer
    assert dropped.history_change_reason == f"{DROPPED_BY_MERGE}{words}"

    undo_merge(record, user=council_admin)
    assert TagOverride.objects.get(supplier=kept).value == "yes"
    back = TagOverride.objects.get(supplier=dupe)
    assert back.value == "no" and back.created_by == council_officer
    last = _latest(back.history)
    assert last.history_type == "+" and last.history_user == council_admin
    assert last.history_change_reason == f"{PUT_BACK_BY_UNDO}{words}"
