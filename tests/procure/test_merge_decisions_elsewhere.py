"""Review: a merge removed another council's shared decision. Supplier A carried
Knowsley's officer's VCSE decision (Knowsley no longer paid it, so Luton's
officer could merge it); Luton's officer set his own VCSE decision on B, merged A
into B, and Knowsley's decision was deleted ("gave way"), the page saying only
that A's decision would give way to B's. A decision on what every council shares
made by an officer who may have made it for another council can be changed or
removed only by that officer or a LocalSpend administrator
(`socialvalue.decisions.decided_elsewhere`): the merge that would remove one is
refused to other officers, and an administrator who makes it is told. One that
merely moves to the kept supplier is said to stay its maker's.

Also: a LocalSpend administrator is a superuser (`names_as_administrator`), staff
or not, on the merge pages as on the admin site; the history of a decision an
undoing takes off the kept supplier says so."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from procure.merging import MergeRefused, merge_suppliers, undo_merge
from procure.models import SupplierMerge
from socialvalue.decisions import decided_elsewhere
from socialvalue.models import TagOverride

REFUSED = (
    "Ashby Care Trust has a decision on its VCSE tag made by an officer who may "
    "have made it for another council. Ashby Care Trust CIC has its own, so "
    "merging would remove it."
)
MOVES = (
    "Ashby Care Trust has a decision on its VCSE tag made by an officer who may "
    "have made it for another council; it moves with it and stays theirs to change."
)


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _merge_url(council, merged, kept) -> str:
    return reverse("procure:supplier-merge", args=[council.slug, merged.pk, kept.pk])


@pytest.fixture
def pair(council, other_council_officer, make_supplier, make_line):
    """A (Ashby Care Trust) with Knowsley's officer's VCSE decision, and B: both
    paid by Luton alone now."""
    kept = make_supplier(name="Ashby Care Trust CIC")
    merged = make_supplier(name="Ashby Care Trust")
    make_line(council, supplier=kept, amount=Decimal("500"))
    make_line(council, supplier=merged, amount=Decimal("300"))
    TagOverride.objects.create(
        supplier=merged,
        kind="vcse",
        value="yes",
        reason="Knowsley checked: a community interest company",
        created_by=other_council_officer,
    )
    return kept, merged


@pytest.fixture
def own_decision(pair, council_officer):
    """Luton's officer's own VCSE decision on the supplier to keep."""
    kept, _ = pair
    return TagOverride.objects.create(
        supplier=kept,
        kind="vcse",
        value="no",
        reason="Luton: a private company",
        created_by=council_officer,
    )


def test_an_officer_cannot_merge_away_a_decision_made_elsewhere(
    client, council, council_officer, other_council_officer, pair, own_decision
):
    kept, merged = pair
    client.force_login(council_officer)
    url = _merge_url(council, merged, kept)
    page = client.get(url).content.decode()
    assert "These suppliers cannot be merged here" in page
    assert REFUSED in page
    assert "only the officer who made it or a LocalSpend administrator" in page
    assert "Ask a LocalSpend administrator to merge them." in page
    assert "Merge them" not in page and "<textarea" not in page
    # Neither the other council nor its officer is named.
    assert "Knowsley" not in page and "oscar" not in page

    response = client.post(url, {"reason": "Same trust"})
    assert response.status_code == 302
    assert any("may have made it for another council" in m for m in _said(response))
    assert not SupplierMerge.objects.exists()
    merged.refresh_from_db()
    assert merged.merged_into is None
    theirs = TagOverride.objects.get(supplier=merged)
    assert theirs.created_by == other_council_officer and theirs.value == "yes"


def test_the_merge_itself_refuses_it(council, council_officer, pair, own_decision):
    """Checked under the lock too, not only by the page."""
    kept, merged = pair
    with pytest.raises(MergeRefused, match="Ask a LocalSpend administrator"):
        merge_suppliers(kept=kept, merged=merged, user=council_officer, council=council)
    assert TagOverride.objects.filter(supplier=merged).exists()


def test_a_colleagues_decision_may_give_way(
    client, council, council_admin, council_officer, pair, own_decision
):
    """A decision made by a member of this council alone was made for it: its
    officers may change it, so a merge may drop it (as before)."""
    kept, merged = pair
    TagOverride.objects.filter(supplier=merged).update(created_by=council_admin)
    client.force_login(council_officer)
    url = _merge_url(council, merged, kept)
    page = client.get(url).content.decode()
    assert REFUSED not in page and "Merge them" in page
    client.post(url, {"reason": "Same trust"})
    merged.refresh_from_db()
    assert merged.merged_into == kept
    assert not TagOverride.objects.filter(supplier=merged).exists()


def test_a_localspend_administrator_may_merge_and_is_told(
    client, council, django_user_model, pair, own_decision
):
    kept, merged = pair
    # A superuser who is not staff: a LocalSpend administrator all the same.
    root = django_user_model.objects.create_user(
        "root", password="x-long-pw-1", is_superuser=True
    )
    client.force_login(root)
    url = _merge_url(council, merged, kept)
    page = client.get(url).content.decode()
    assert "Are these the same organisation?" in page
    assert (
        "Ashby Care Trust has a decision on its VCSE tag made by an officer who "
        "may have made it for another council. Ashby Care Trust CIC has its own, so "
        "the merge removes it: a council&#x27;s officers could not make this merge, "
        "and as a LocalSpend administrator you may."
    ) in page
    client.post(url, {"reason": "Same trust"})
    merged.refresh_from_db()
    assert merged.merged_into == kept
    assert not TagOverride.objects.filter(supplier=merged).exists()
    assert TagOverride.objects.get(supplier=kept) == own_decision


def test_a_decision_made_elsewhere_that_moves_is_said_to_stay_theirs(
    client, council, council_officer, other_council_officer, pair
):
    kept, merged = pair
    client.force_login(council_officer)
    url = _merge_url(council, merged, kept)
    page = client.get(url).content.decode()
    assert MOVES in page
    assert "Knowsley" not in page and "oscar" not in page
    client.post(url, {"reason": "Same trust"})
    moved = TagOverride.objects.get(kind="vcse")
    assert moved.supplier == kept and moved.created_by == other_council_officer
    # Still theirs: Luton's officer may not change it on the kept supplier.
    assert decided_elsewhere(moved, council, council_officer)


def test_a_colleagues_decision_that_moves_is_not_said_to_be_elsewhere(
    client, council, council_admin, council_officer, pair
):
    kept, merged = pair
    TagOverride.objects.filter(supplier=merged).update(created_by=council_admin)
    client.force_login(council_officer)
    page = client.get(_merge_url(council, merged, kept)).content.decode()
    assert "may have made it for another council" not in page


def test_a_superuser_not_staff_undoes_a_merge_for_every_council(
    client,
    council,
    other_council,
    council_officer,
    django_user_model,
    make_supplier,
    make_line,
):
    """Before, the merge pages wanted staff and superuser, the admin site and
    the names on pages a superuser alone."""
    kept = make_supplier(name="Beacon Engineering Ltd")
    merged = make_supplier(name="Beacon Engineering")
    for council_paying in (council, other_council):
        make_line(council_paying, supplier=kept)
        make_line(council_paying, supplier=merged)
    record = merge_suppliers(kept=kept, merged=merged, user=None, council=None)
    client.force_login(council_officer)
    url = reverse("procure:merge-undo", args=[council.slug, record.pk])
    page = client.get(url).content.decode()
    assert "Ask a LocalSpend administrator to undo it." in page
    assert "(staff)" not in page
    root = django_user_model.objects.create_user(
        "root", password="x-long-pw-1", is_superuser=True
    )
    client.force_login(root)
    client.post(url)
    record.refresh_from_db()
    assert record.undone_at is not None


def test_another_council_reads_the_undoing_in_the_kept_suppliers_history(
    client,
    council,
    other_council,
    council_officer,
    other_council_officer,
    pair,
    make_line,
):
    """Review: the removal an undoing made from the kept supplier read as an
    officer removing the decision, and to other councils with its reason held
    back. Now each council reads it as the undoing's."""
    kept, merged = pair
    TagOverride.objects.filter(supplier=merged).update(created_by=council_officer)
    record = merge_suppliers(
        kept=kept, merged=merged, user=council_officer, council=council
    )
    undo_merge(record, user=council_officer, council=council)
    make_line(other_council, supplier=kept)  # Knowsley pays it since
    client.force_login(other_council_officer)
    url = reverse("procure:supplier-detail", args=[other_council.slug, kept.pk])
    page = client.get(url).content.decode()
    assert page.count("went back to the merged supplier on undoing the merge") == 1
    assert "removed the officer&#x27;s decision" not in page
