"""Merging two suppliers that are one organisation, and undoing it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from procure.merging import MergeRefused, merge_suppliers, undo_merge
from procure.models import (
    Contract,
    MatchSuggestion,
    Supplier,
    SupplierAlias,
    SupplierMerge,
)
from socialvalue.models import SupplierTag, TagOverride
from socialvalue.tagging import classify_suppliers


@pytest.fixture
def pair(council, other_council, make_supplier, make_line, council_officer):
    kept = make_supplier(name="Wardown Plumbing Services Ltd", postcode="LU2 7AB")
    dupe = make_supplier(name="Wardown Plumbing Ltd")
    for c in (council, other_council):
        make_line(c, supplier=dupe, amount=Decimal("100"))
    make_line(council, supplier=kept, amount=Decimal("1000"))
    SupplierAlias.objects.create(
        supplier=dupe, council=council, name="WARDOWN PLUMBING"
    )
    Contract.objects.create(
        council=council,
        reference="C9",
        title="Boilers",
        supplier=dupe,
        start_date="2025-04-01",
    )
    TagOverride.objects.create(
        supplier=dupe,
        kind="vcse",
        value="no",
        reason="Checked register",
        created_by=council_officer,
    )
    MatchSuggestion.objects.create(supplier=dupe, candidate=kept, score=92)
    classify_suppliers()
    return kept, dupe


def test_a_merge_moves_everything_and_records_what_moved(
    pair, council, council_officer
):
    kept, dupe = pair
    record = merge_suppliers(
        kept=kept, merged=dupe, user=council_officer, reason="Same VAT", council=None
    )
    assert not dupe.spend_lines.exists() and kept.spend_lines.count() == 3
    assert SupplierAlias.objects.get(name="WARDOWN PLUMBING").supplier == kept
    assert Contract.objects.get(reference="C9").supplier == kept
    assert TagOverride.objects.get(kind="vcse").supplier == kept
    assert not SupplierTag.objects.filter(supplier=dupe).exists()
    assert (
        SupplierTag.objects.get(supplier=kept, kind="locality", council=council).value
        == "local"
    )
    dupe.refresh_from_db()
    assert dupe.merged_into == kept
    assert len(record.moved_lines) == 2 and record.merged_by == council_officer
    assert MatchSuggestion.objects.get().dismissed_at is not None


def test_undo_puts_everything_back(pair, council_officer):
    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    undo_merge(record, user=council_officer)
    dupe.refresh_from_db()
    assert dupe.merged_into is None
    assert dupe.spend_lines.count() == 2 and kept.spend_lines.count() == 1
    assert SupplierAlias.objects.get(name="WARDOWN PLUMBING").supplier == dupe
    assert Contract.objects.get(reference="C9").supplier == dupe
    assert TagOverride.objects.get(kind="vcse").supplier == dupe
    assert SupplierTag.objects.filter(supplier=dupe, kind="size").exists()
    with pytest.raises(MergeRefused, match="already been undone"):
        undo_merge(record, user=council_officer)


def test_the_moved_contract_and_alias_record_who_moved_them_and_why(
    pair, council_officer
):
    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    for model, key in ((Contract, {"reference": "C9"}), (SupplierAlias, {})):
        latest = model.objects.get(**key).history.first()
        assert latest.supplier_id == kept.pk
        assert latest.history_user == council_officer
        assert (
            "merged into Wardown Plumbing Services Ltd" in latest.history_change_reason
        )
    undo_merge(record, user=council_officer)
    latest = Contract.objects.get(reference="C9").history.first()
    assert (latest.supplier_id, latest.history_user) == (dupe.pk, council_officer)
    assert "undone" in latest.history_change_reason


def test_a_supplier_cannot_be_merged_into_itself_or_twice(
    pair, council_officer, make_supplier
):
    kept, dupe = pair
    with pytest.raises(MergeRefused, match="itself"):
        merge_suppliers(kept=kept, merged=kept, user=council_officer, council=None)
    merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    with pytest.raises(MergeRefused, match="already been merged"):
        merge_suppliers(
            kept=make_supplier(name="Third Ltd"),
            merged=dupe,
            user=council_officer,
            council=None,
        )


def test_an_officer_merges_from_the_review_queue_and_undoes_it(
    client, council_officer, council, other_council, pair
):
    kept, dupe = pair
    dupe.spend_lines.filter(council=other_council).delete()  # Luton's alone
    client.force_login(council_officer)
    review = client.get(reverse("procure:review", args=[council.slug]))
    merge_url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    assert merge_url in review.content.decode()
    confirm = client.get(merge_url)
    # Everything that moves: the payment, the name, the contract and the decision.
    assert (
        b"Your council's 1 payment, 1 name from spend files and 1 contract with "
        b"Wardown Plumbing Ltd, and 1 officer decision on its tags, will move"
        in confirm.content
    )
    assert b"No other council has records of Wardown Plumbing Ltd." in confirm.content
    # Whose tags are worked out again: the kept supplier's.
    assert (
        b"will move to Wardown Plumbing Services Ltd, whose tags will then be worked "
        b"out again" in confirm.content
    )
    response = client.post(merge_url, {"reason": "Same VAT number"})
    assert response.status_code == 302
    page = client.get(reverse("procure:supplier-detail", args=[council.slug, kept.pk]))
    assert b"Same VAT number" in page.content
    record = SupplierMerge.objects.get()
    assert record.council == council
    undo = reverse("procure:merge-undo", args=[council.slug, record.pk])
    client.post(undo)
    dupe.refresh_from_db()
    assert dupe.merged_into is None


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_only_officers_may_merge(client, role_users, council, pair, role):
    kept, dupe = pair
    client.force_login(role_users[role])
    url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    assert client.post(url).status_code == 403
    assert Supplier.objects.get(pk=dupe.pk).merged_into is None


def test_an_officer_cannot_merge_into_a_supplier_only_another_council_deals_with(
    client, council, other_council, council_officer, make_supplier, make_line, pair
):
    kept, dupe = pair
    theirs = make_supplier(name="Knowsley Only Ltd")
    make_line(other_council, supplier=theirs, amount=Decimal("5"))
    client.force_login(council_officer)
    url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    dupe.refresh_from_db()
    assert dupe.merged_into is None
    assert dupe.spend_lines.count() == 2


def test_the_suggested_near_match_may_be_kept_though_the_council_never_paid_it(
    client, council, other_council, council_officer, make_supplier, make_line, pair
):
    kept, dupe = pair
    dupe.spend_lines.filter(council=other_council).delete()  # Luton's alone
    theirs = make_supplier(name="Wardown Plumbing Ltd.")
    make_line(other_council, supplier=theirs, amount=Decimal("5"))
    MatchSuggestion.objects.create(supplier=dupe, candidate=theirs, score=95)
    client.force_login(council_officer)
    url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, theirs.pk])
    page = client.get(url).content.decode()
    # This council's own counts, and word that the kept supplier is shared.
    assert "Your council's 1 payment," in page
    assert "Other councils also deal with Wardown Plumbing Ltd." in page
    client.post(url)
    dupe.refresh_from_db()
    assert dupe.merged_into == theirs
    # Knowsley's payment to the supplier kept is its own still.
    assert theirs.spend_lines.filter(council=other_council).count() == 1


def test_a_supplier_other_councils_pay_is_not_merged_by_one_council(
    client, council, other_council, council_officer, pair
):
    kept, dupe = pair  # Knowsley pays the duplicate too
    client.force_login(council_officer)
    url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    page = client.get(url).content.decode()
    assert "is also in other councils&#x27; records" in page
    assert "Merge them" not in page
    client.post(url, {"reason": "Same VAT number"})
    dupe.refresh_from_db()
    assert dupe.merged_into is None
    assert dupe.spend_lines.filter(council=other_council).count() == 1


def test_undo_leaves_a_decision_made_on_the_kept_supplier_since(pair, council_officer):
    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    moved = TagOverride.objects.get(kind="vcse")
    moved.value, moved.reason = "yes", "Registered as a CIC since"
    moved.save()
    undo_merge(record, user=council_officer)
    assert TagOverride.objects.get(supplier=kept, kind="vcse").value == "yes"
    assert TagOverride.objects.get(supplier=dupe, kind="vcse").value == "no"


def test_the_suggestion_a_merge_settles_records_who_and_why(pair, council_officer):
    kept, dupe = pair
    merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    settled = MatchSuggestion.objects.get().history.first()
    assert settled.history_type == "~" and settled.history_user == council_officer
    assert settled.dismissed_at is not None
    assert settled.history_change_reason.startswith("Settled by the merge: Supplier")


def test_an_officer_finds_the_other_supplier_from_the_page_and_merges(
    client, council, other_council, council_officer, viewer, make_supplier, make_line
):
    dupe = make_supplier(name="Wardown Plumbing & Heating")
    kept = make_supplier(name="Wardown Plumbing and Heating Services Ltd")
    theirs = make_supplier(name="Wardown Plumbing Supplies")  # Knowsley's only
    make_line(council, supplier=dupe)
    make_line(council, supplier=kept)
    make_line(other_council, supplier=theirs)
    url = reverse("procure:supplier-detail", args=[council.slug, dupe.pk])
    client.force_login(council_officer)
    page = client.get(url, {"same_as": "wardown plumbing"}).content.decode()
    merge = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    assert merge in page and "Merge into Wardown Plumbing Supplies" not in page
    client.post(merge, {"reason": "Same company"})
    dupe.refresh_from_db()
    assert dupe.merged_into == kept
    url = reverse("procure:supplier-detail", args=[council.slug, kept.pk])
    nothing = client.get(url, {"same_as": "zzz"}).content.decode()
    assert "has “zzz” in its name" in nothing
    client.force_login(viewer)
    page = client.get(url, {"same_as": "wardown"}).content.decode()
    assert "Is this the same organisation" not in page and "Merge into" not in page


def test_undo_returns_payments_imported_meanwhile_under_the_returned_name(
    pair, council, council_officer, make_upload, make_line
):
    from django.utils import timezone

    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    later = make_upload(council, finished_at=timezone.now())
    meanwhile = make_line(
        council, supplier=kept, supplier_name="Wardown Plumbing", upload=later
    )
    own = make_line(council, supplier=kept, supplier_name=kept.name, upload=later)
    undo_merge(record, user=council_officer)
    meanwhile.refresh_from_db()
    own.refresh_from_db()
    assert meanwhile.supplier == dupe and own.supplier == kept


def test_a_merged_suppliers_old_address_leads_to_the_kept_one(
    client, pair, council, council_officer
):
    kept, dupe = pair
    merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    client.force_login(council_officer)
    old = reverse("procure:supplier-detail", args=[council.slug, dupe.pk])
    response = client.get(old, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "procure:supplier-detail", args=[council.slug, kept.pk]
    )
    assert "That supplier was merged into" in response.content.decode()
    missing = reverse("procure:supplier-detail", args=[council.slug, 999999])
    assert client.get(missing).status_code == 404


def test_a_merge_from_a_suggestion_is_not_called_different_and_undo_requeues_it(
    client, council_officer, council, other_council, pair
):
    """The officer said "the same": neither supplier's page lists the pair as
    different organisations, the history says merged; undone, the pair is back
    in the review queue, not left decided "different"."""
    kept, dupe = pair
    dupe.spend_lines.filter(council=other_council).delete()  # Luton's alone
    client.force_login(council_officer)
    merge_url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    client.post(merge_url, {"reason": "Same VAT number"})
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, kept.pk])
    ).content.decode()
    assert "different organisation" not in page
    assert "Decided to be the same as Wardown Plumbing Ltd: merged" in page
    record = SupplierMerge.objects.get()
    client.post(reverse("procure:merge-undo", args=[council.slug, record.pk]))
    suggestion = MatchSuggestion.objects.get()
    assert suggestion.dismissed_at is None and suggestion.dismissed_by is None
    review = client.get(reverse("procure:review", args=[council.slug]))
    assert merge_url in review.content.decode()
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, kept.pk])
    ).content.decode()
    assert "Suggested again as possibly the same as Wardown Plumbing Ltd" in page
    assert "Decided to be a different organisation" not in page


def test_a_merge_sent_again_from_another_tab_says_it_is_done(
    client, council_officer, council, other_council, pair
):
    """QA: the second tab's confirm gave "Page not found (404)"."""
    from django.contrib.messages import get_messages

    kept, dupe = pair
    dupe.spend_lines.filter(council=other_council).delete()
    client.force_login(council_officer)
    url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    assert client.post(url, {"reason": "Same VAT number"}).status_code == 302
    again = client.post(url, {"reason": "Same VAT number"})
    assert again.status_code == 302
    assert again.url == reverse("procure:supplier-detail", args=[council.slug, kept.pk])
    said = [str(m) for m in get_messages(again.wsgi_request)]
    assert f"{dupe.name} has already been merged into {kept.name}" in said[-1]
    assert SupplierMerge.objects.count() == 1


def test_a_merged_suppliers_tag_history_names_the_merge(
    client, council_officer, council, other_council, pair
):
    """QA: after a merge and its undoing, the supplier's tags read "removed",
    then set again, with no word of the merge."""
    from socialvalue.tagging import classify_suppliers

    kept, dupe = pair
    dupe.spend_lines.filter(council=other_council).delete()
    classify_suppliers(supplier_ids=[dupe.pk, kept.pk])
    client.force_login(council_officer)
    client.post(
        reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk]),
        {"reason": "Same VAT number"},
    )
    record = SupplierMerge.objects.get()
    client.post(reverse("procure:merge-undo", args=[council.slug, record.pk]))
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, dupe.pk])
    ).content.decode()
    assert (
        f"removed (bob-officer): Supplier {dupe.name} merged into {kept.name}"
    ) in page


def test_undoing_a_merge_asks_first_and_says_what_goes_back(
    client, council_officer, council, other_council, pair
):
    """QA: the supplier page's Undo undid the merge in one click. It now opens a
    page saying what goes back, whose button undoes it."""
    kept, dupe = pair
    dupe.spend_lines.filter(council=other_council).delete()  # Luton's alone
    client.force_login(council_officer)
    merge_url = reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk])
    client.post(merge_url, {"reason": "Same VAT number"})
    record = SupplierMerge.objects.get()
    undo = reverse("procure:merge-undo", args=[council.slug, record.pk])
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, kept.pk])
    ).content.decode()
    assert f'<a class="govuk-link" href="{undo}">Undo the merge' in page
    assert f'action="{undo}"' not in page  # a link to the question, not a button
    confirm = client.get(undo)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert (
        "Undo the merge of Wardown Plumbing Ltd into Wardown Plumbing Services Ltd?"
        in text
    )
    assert (
        "From Wardown Plumbing Services Ltd, Luton's 1 payment, 1 name from spend "
        "files and 1 contract, and 1 officer decision on its tags, will go back to "
        "Wardown Plumbing Ltd." in text
    )
    assert "Same VAT number" in text
    assert "The review queue will list Wardown Plumbing Ltd and" in text
    assert "Undo the merge</button>" in text
    dupe.refresh_from_db()
    assert dupe.merged_into == kept  # opening the page undid nothing
    response = client.post(undo)
    assert response.status_code == 302
    assert response.url == reverse(
        "procure:supplier-detail", args=[council.slug, kept.pk]
    )
    dupe.refresh_from_db()
    assert dupe.merged_into is None
    again = client.get(undo).content.decode()
    assert "This merge has already been undone" in again
    assert "Undo the merge</button>" not in again


def test_the_undo_page_says_why_a_council_may_not_undo_it(
    client, council_officer, council, pair
):
    kept, dupe = pair  # Knowsley pays the merged supplier too
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    client.force_login(council_officer)
    undo = reverse("procure:merge-undo", args=[council.slug, record.pk])
    page = client.get(undo).content.decode()
    assert "This merge cannot be undone here" in page
    assert "Ask a LocalSpend administrator" in page
    assert "Undo the merge</button>" not in page
    client.post(undo)
    dupe.refresh_from_db()
    assert dupe.merged_into == kept


def test_the_undo_page_counts_payments_imported_since_under_a_returning_name(
    pair, council, council_officer, make_upload, make_line
):
    from django.utils import timezone

    from procure.merging import undo_plan

    kept, dupe = pair
    record = merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    later = make_upload(council, finished_at=timezone.now())
    make_line(council, supplier=kept, supplier_name="Wardown Plumbing", upload=later)
    make_line(council, supplier=kept, supplier_name=kept.name, upload=later)
    plan = undo_plan(record, council)
    assert (plan.lines, plan.later, plan.aliases, plan.contracts) == (2, 1, 1, 1)
    assert plan.decisions == 1 and plan.requeued
    # Knowsley's payment (made for every council) goes back too.
    assert plan.elsewhere == {"lines": 1, "aliases": 0, "contracts": 0, "overrides": 0}
    undo_merge(record, user=council_officer)
    assert dupe.spend_lines.filter(council=council).count() == 2
