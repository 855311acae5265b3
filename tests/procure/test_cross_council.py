"""Suppliers are shared by every council; each council's records of them are its
own. One council's officers cannot move or unmerge another council's payments,
names and contracts, nor see the names and reasons of another council's people."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from procure.merging import MergeRefused, merge_suppliers, undo_merge
from procure.models import Contract, ContractKPI, SupplierAlias, SupplierMerge
from socialvalue.models import SupplierTag, TagOverride
from socialvalue.tagging import classify_suppliers
from spend.models import SpendLine


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _merge_url(council, merged, kept) -> str:
    return reverse("procure:supplier-merge", args=[council.slug, merged.pk, kept.pk])


def _page(client, council, supplier) -> str:
    url = reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    return client.get(url).content.decode()


@pytest.fixture
def beacon(council, other_council, make_supplier, make_line):
    """Luton's supplier, paid by Luton and named in its files, and also paid by
    Knowsley: Knowsley's officers must not be able to merge it away."""
    beacon = make_supplier(name="Beacon Engineering Ltd", postcode="LU1 3LJ")
    make_line(council, supplier=beacon, amount=Decimal("2500"))
    make_line(other_council, supplier=beacon, amount=Decimal("40"))
    return beacon


@pytest.fixture
def knowsley_only(other_council, make_supplier, make_line):
    secret = make_supplier(name="Knowsley Secret Supplier Ltd")
    make_line(other_council, supplier=secret, amount=Decimal("10"))
    return secret


# --- Merging: only a supplier in no other council's records ------------------------


def test_another_councils_officer_cannot_merge_away_a_supplier_luton_pays(
    client, council, other_council, other_council_officer, beacon, knowsley_only
):
    client.force_login(other_council_officer)
    url = _merge_url(other_council, beacon, knowsley_only)
    page = client.get(url).content.decode()
    assert "is also in other councils&#x27; records" in page
    assert "Ask a LocalSpend administrator to merge them" in page
    assert "Merge them" not in page and "<textarea" not in page
    response = client.post(url, {"reason": "Same firm"})
    assert response.status_code == 302
    assert any("also in other councils' records" in m for m in _said(response))
    beacon.refresh_from_db()
    assert beacon.merged_into is None
    assert beacon.spend_lines.filter(council=council).count() == 1
    assert not SupplierMerge.objects.exists()


@pytest.mark.parametrize("record", ["alias", "contract", "location decision"])
def test_any_record_of_another_council_stops_the_merge(
    council,
    other_council,
    other_council_officer,
    council_officer,
    make_supplier,
    make_line,
    knowsley_only,
    record,
):
    shared = make_supplier(name="Shared Name Ltd")
    make_line(other_council, supplier=shared)
    if record == "alias":
        SupplierAlias.objects.create(supplier=shared, council=council, name="SHARED")
    elif record == "contract":
        Contract.objects.create(
            council=council,
            reference="L1",
            title="Luton's contract",
            supplier=shared,
            start_date=date(2025, 4, 1),
        )
    else:
        TagOverride.objects.create(
            supplier=shared,
            council=council,
            kind="locality",
            value="local",
            reason="Luton's depot",
            created_by=council_officer,
        )
    with pytest.raises(MergeRefused, match="also in other councils' records"):
        merge_suppliers(
            kept=knowsley_only,
            merged=shared,
            user=other_council_officer,
            council=other_council,
        )
    shared.refresh_from_db()
    assert shared.merged_into is None
    assert SpendLine.objects.filter(supplier=shared).count() == 1


def test_an_officer_merges_their_own_supplier_into_a_shared_one(
    client,
    council,
    other_council,
    council_officer,
    make_supplier,
    make_line,
    beacon,
):
    ours = make_supplier(name="Beacon Engineering")
    mine = make_line(council, supplier=ours)
    SupplierAlias.objects.create(supplier=ours, council=council, name="BEACON ENG")
    TagOverride.objects.create(
        supplier=ours,
        kind="vcse",
        value="no",
        reason="Checked the register",
        created_by=council_officer,
    )
    classify_suppliers()
    client.force_login(council_officer)
    url = _merge_url(council, ours, beacon)
    page = client.get(url).content.decode()
    # Everything that moves is counted, the officer decision too.
    assert (
        "Your council's 1 payment, 1 name from spend files and 0 contracts with "
        "Beacon Engineering, and 1 officer decision on its tags, will move" in page
    )
    # Beacon is Knowsley's supplier too: the decision will count for it.
    assert "Other councils also deal with Beacon Engineering Ltd" in page
    assert "its VCSE tag belongs to the supplier" in page
    client.post(url, {"reason": "Same company"})
    record = SupplierMerge.objects.get()
    assert record.council == council and record.merged_by == council_officer
    mine.refresh_from_db()
    assert mine.supplier == beacon
    assert beacon.spend_lines.filter(council=other_council).count() == 1
    assert TagOverride.objects.get().supplier == beacon


def test_a_merge_is_undone_only_by_the_council_that_made_it(
    client,
    council,
    other_council,
    council_officer,
    other_council_officer,
    make_supplier,
    make_line,
    beacon,
):
    theirs = make_supplier(name="Beacon Eng (Knowsley)")
    make_line(other_council, supplier=theirs)
    record = merge_suppliers(
        kept=beacon,
        merged=theirs,
        user=other_council_officer,
        reason="Knowsley's private reason",
        council=other_council,
    )
    assert record.council == other_council
    # Luton deals with Beacon, so it sees the merge, but not who made it or why,
    # and has no button to undo it.
    client.force_login(council_officer)
    page = _page(client, council, beacon)
    assert "Beacon Eng (Knowsley), by someone at another council" in page
    assert "Knowsley&#x27;s private reason" not in page
    assert "for a reason given at another council" in page
    assert other_council_officer.username not in page
    undo = reverse("procure:merge-undo", args=[council.slug, record.pk])
    assert undo not in page
    response = client.post(undo)
    assert any("made at another council" in m for m in _said(response))
    record.refresh_from_db()
    theirs.refresh_from_db()
    assert record.undone_at is None and theirs.merged_into == beacon
    with pytest.raises(MergeRefused, match="made at another council"):
        undo_merge(record, user=council_officer, council=council)
    # Knowsley's own officer sees the reason and may undo it.
    client.force_login(other_council_officer)
    page = _page(client, other_council, beacon)
    assert "Knowsley&#x27;s private reason" in page
    own_undo = reverse("procure:merge-undo", args=[other_council.slug, record.pk])
    assert own_undo in page
    client.post(own_undo)
    theirs.refresh_from_db()
    assert theirs.merged_into is None


def test_a_merge_with_no_council_is_undone_only_where_one_council_deals_with_both(
    client,
    council,
    other_council,
    council_officer,
    make_supplier,
    make_line,
    beacon,
):
    """Merges made before they recorded their council, or by an administrator."""
    solo_kept, solo_dupe = make_supplier(name="Solo Ltd"), make_supplier(name="Solo")
    make_line(council, supplier=solo_kept)
    make_line(council, supplier=solo_dupe)
    solo = merge_suppliers(
        kept=solo_kept, merged=solo_dupe, user=council_officer, council=None
    )
    dupe = make_supplier(name="Beacon Engineering (old)")
    make_line(council, supplier=dupe)
    shared = merge_suppliers(
        kept=beacon, merged=dupe, user=council_officer, council=None
    )
    assert solo.council is None and shared.council is None
    client.force_login(council_officer)
    response = client.post(
        reverse("procure:merge-undo", args=[council.slug, shared.pk])
    )
    assert any("Ask a LocalSpend administrator" in m for m in _said(response))
    dupe.refresh_from_db()
    assert dupe.merged_into == beacon
    client.post(reverse("procure:merge-undo", args=[council.slug, solo.pk]))
    solo_dupe.refresh_from_db()
    assert solo_dupe.merged_into is None


def test_a_localspend_administrator_may_merge_for_every_council(
    client,
    django_user_model,
    council,
    other_council,
    council_officer,
    beacon,
    knowsley_only,
):
    staff = django_user_model.objects.create_superuser("root", password="x-long-pw-1")
    client.force_login(staff)
    url = _merge_url(other_council, beacon, knowsley_only)
    page = client.get(url).content.decode()
    assert "As a LocalSpend administrator you merge it for every council" in page
    # Knowsley's own payment, and the other councils' (Luton's) that move too.
    assert "Knowsley's 1 payment" in page
    assert "other councils' 1 payment, 0 names, 0 contracts" in page
    client.post(url, {"reason": "Checked Companies House"})
    record = SupplierMerge.objects.get()
    assert record.council is None
    assert SpendLine.objects.filter(supplier=knowsley_only).count() == 3
    # Luton's officers cannot undo it: it moved Knowsley's records too.
    client.force_login(council_officer)
    page = _page(client, council, knowsley_only)
    assert "by a LocalSpend administrator" in page
    assert "only the council that made it, or a LocalSpend administrator" in page
    client.post(reverse("procure:merge-undo", args=[council.slug, record.pk]))
    record.refresh_from_db()
    assert record.undone_at is None
    client.force_login(staff)
    client.post(reverse("procure:merge-undo", args=[council.slug, record.pk]))
    record.refresh_from_db()
    assert record.undone_at is not None
    assert beacon.spend_lines.filter(council=council).count() == 1


# --- Two registered organisations are never one ------------------------------------


@pytest.mark.parametrize(
    ("kept_numbers", "merged_numbers", "words"),
    [
        (
            {"company_number": "10126704"},
            {"company_number": "10498897"},
            "two different registered companies",
        ),
        (
            {"charity_register": "GB-CHC", "charity_number": "1100001"},
            {"charity_register": "GB-CHC", "charity_number": "1100002"},
            "two different registered charities",
        ),
        (
            {"charity_register": "GB-CHC", "charity_number": "1100001"},
            {"charity_register": "GB-NIC", "charity_number": "1100001"},  # same number
            "two different registered charities",
        ),
    ],
)
def test_suppliers_with_different_registered_numbers_are_never_merged(
    client,
    council,
    council_officer,
    make_supplier,
    make_line,
    kept_numbers,
    merged_numbers,
    words,
):
    kept = make_supplier(name="Bramingham Plumbing Ltd", **kept_numbers)
    dupe = make_supplier(name="Falcon IT Services Ltd", **merged_numbers)
    make_line(council, supplier=kept)
    make_line(council, supplier=dupe)
    client.force_login(council_officer)
    url = _merge_url(council, dupe, kept)
    page = client.get(url).content.decode()
    assert words in page and "Merge them" not in page
    response = client.post(url)
    assert any(words in m for m in _said(response))
    with pytest.raises(MergeRefused, match=words):
        merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=None)
    dupe.refresh_from_db()
    assert dupe.merged_into is None and not SupplierMerge.objects.exists()


def test_a_number_on_one_side_only_does_not_stop_the_merge(
    council, council_officer, make_supplier, make_line
):
    kept = make_supplier(name="Bramingham Plumbing Ltd", company_number="10126704")
    dupe = make_supplier(name="Bramingham Plumbing")
    make_line(council, supplier=dupe)
    merge_suppliers(kept=kept, merged=dupe, user=council_officer, council=council)
    dupe.refresh_from_db()
    assert dupe.merged_into == kept


# --- Other councils' people are not named, nor their reasons shown -----------------


def test_a_tag_decision_names_no_one_in_the_shared_evidence(
    client, council, other_council, council_officer, other_council_officer, beacon
):
    TagOverride.objects.create(
        supplier=beacon,
        kind="size",
        value="small",
        reason="Knowsley's secret: per a phone call",
        created_by=other_council_officer,
    )
    classify_suppliers(user=other_council_officer)
    tag = SupplierTag.objects.get(supplier=beacon, kind="size")
    assert tag.value == "small"
    assert other_council_officer.username not in tag.evidence
    assert tag.evidence.startswith("An officer set this on ")
    client.force_login(council_officer)
    page = _page(client, council, beacon)
    assert other_council_officer.username not in page
    assert "Knowsley&#x27;s secret" not in page
    assert "Set by someone at another council on" in page
    assert "for a reason given there" in page
    assert "by someone at another council." in page  # decided … by
    override_page = client.get(
        reverse("socialvalue:tag-override", args=[council.slug, beacon.pk, "size"])
    ).content.decode()
    assert other_council_officer.username not in override_page
    # Knowsley's own officer is told who and why.
    client.force_login(other_council_officer)
    page = _page(client, other_council, beacon)
    assert "Set by oscar-outsider on" in page and "Knowsley&#x27;s secret" in page


def test_the_contract_page_does_not_name_another_councils_people(
    client, council, other_council_officer, council_officer, beacon
):
    contract = Contract.objects.create(
        council=council,
        reference="LBC-C-0002",
        title="Maintenance",
        supplier=beacon,
        start_date=date(2025, 4, 1),
    )
    # As an earlier cross-council merge did: changed by Knowsley's officer.
    contract._history_user = other_council_officer
    contract.title = "Maintenance works"
    contract.save()
    kpi = ContractKPI(contract=contract, name="Response time", target="4 hours")
    kpi._history_user = other_council_officer
    kpi.save()
    client.force_login(council_officer)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert other_council_officer.username not in page
    # The contract is Luton's own: its history says so as Settings → History
    # does (councils.access.People, for what was done here).
    assert "changed by someone who is not a member of Luton" in page
    assert "added by someone who is not a member of Luton" in page
    assert "Knowsley" not in page


def test_the_contract_page_names_the_councils_own_people(
    client, council, council_officer, beacon
):
    contract = Contract(
        council=council,
        reference="LBC-C-0003",
        title="Repairs",
        supplier=beacon,
        start_date=date(2025, 4, 1),
    )
    contract._history_user = council_officer
    contract.save()
    client.force_login(council_officer)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "created by bob-officer" in page


def test_the_migration_takes_names_out_of_evidence_already_held(
    council, council_officer, beacon
):
    from django.apps import apps

    migration = importlib.import_module(
        "procure.migrations.0010_override_evidence_names_no_one"
    )
    tag = SupplierTag.objects.create(
        supplier=beacon,
        kind="size",
        value="small",
        source="officer_override",
        evidence="oscar-outsider set this on 23 November 2026: a reason",
        confidence="high",
        decided_at=timezone.now(),
    )
    rule = SupplierTag.objects.create(
        supplier=beacon,
        kind="vcse",
        value="no",
        source="registry",
        evidence="bob set this on 01 May 2025: left alone (not an override)",
        confidence="high",
        decided_at=timezone.now(),
    )
    migration.unname(apps, None)
    tag.refresh_from_db()
    rule.refresh_from_db()
    assert tag.evidence == "An officer set this on 23 November 2026: a reason"
    assert rule.evidence.startswith("bob set this on")
    assert not SupplierTag.history.filter(evidence__startswith="oscar").exists()


# --- Linking payments by hand: say when nothing was linked, and why -----------------


@pytest.fixture
def contract(council, beacon):
    return Contract.objects.create(
        council=council,
        reference="C1",
        title="Maintenance",
        supplier=beacon,
        start_date=date(2025, 4, 1),
        end_date=date(2026, 3, 31),
    )


def test_linking_another_councils_payment_is_an_error_not_a_success(
    client, council, other_council, council_officer, beacon, contract
):
    theirs = SpendLine.objects.get(council=other_council, supplier=beacon)
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    response = client.post(url, {"action": "link", "lines": [theirs.pk]}, follow=True)
    page = response.content.decode()
    assert "Linked 0 payments" not in page
    assert "None of the chosen payments could be linked: 1 is not one of Luton" in page
    theirs.refresh_from_db()
    assert theirs.contract_id is None
    assert contract.history.count() == 1  # no change recorded


def test_linking_again_what_is_already_linked_by_hand_says_so(
    client, council, council_officer, make_supplier, make_line, beacon, contract
):
    ours = SpendLine.objects.get(council=council, supplier=beacon)
    other = make_line(council, supplier=make_supplier(name="Someone Else Ltd"))
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    first = client.post(url, {"action": "link", "lines": [ours.pk]}, follow=True)
    assert "Linked 1 payment to this contract by hand." in first.content.decode()
    again = client.post(
        url, {"action": "link", "lines": [ours.pk, other.pk]}, follow=True
    ).content.decode()
    assert "None of the chosen payments could be linked" in again
    assert "1 is already linked to this contract by hand" in again
    assert "1 is paid to a supplier other than Beacon Engineering Ltd" in again
    assert contract.history.count() == 2  # the first link only


def test_a_partly_done_action_says_what_was_left(
    client, council, other_council, council_officer, make_line, beacon, contract
):
    ours = SpendLine.objects.get(council=council, supplier=beacon)
    more = make_line(council, supplier=beacon, payment_date=date(2025, 6, 1))
    theirs = SpendLine.objects.get(council=other_council, supplier=beacon)
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    client.post(url, {"action": "link", "lines": [ours.pk]})
    page = client.post(
        url, {"action": "unlink", "lines": [ours.pk, more.pk, theirs.pk]}, follow=True
    ).content.decode()
    # No linking run: `more` is on no contract, so only `ours` is taken off.
    assert "Took 1 payment off this contract by hand." in page
    assert "The others were left as they were:" in page
    assert "1 is not one of Luton" in page
    assert "1 is not linked to this contract" in page


def test_an_undo_lands_on_a_page_the_council_can_open(
    client, council, council_officer, make_supplier, make_line, knowsley_only
):
    # Luton's own supplier merged into one only Knowsley pays: once undone,
    # Luton no longer deals with the kept supplier, so its own is shown.
    ours = make_supplier(name="Knowsley Secret Supplier")
    make_line(council, supplier=ours)
    record = merge_suppliers(
        kept=knowsley_only, merged=ours, user=council_officer, council=council
    )
    client.force_login(council_officer)
    response = client.post(
        reverse("procure:merge-undo", args=[council.slug, record.pk]), follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(
        "procure:supplier-detail", args=[council.slug, ours.pk]
    )
    assert "stands on its own again" in " ".join(_said(response))
