"""Classifying the register in bulk, and officers' overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from procure.models import SupplierAlias
from socialvalue.models import SupplierTag, TagOverride
from socialvalue.tagging import classify_suppliers


@pytest.fixture
def luton_firm(council, other_council, make_supplier):
    """A Luton plumber that both councils pay."""
    firm = make_supplier(
        name="Wardown Plumbing Ltd",
        postcode="LU2 7AB",
        organisation_type="private_company",
        employees=12,
        turnover=Decimal("900000"),
    )
    for c in (council, other_council):
        SupplierAlias.objects.create(supplier=firm, council=c, name=firm.name)
    return firm


def tag(supplier, kind, council=None):
    return SupplierTag.objects.get(supplier=supplier, kind=kind, council=council)


def test_location_is_decided_per_council(council, other_council, luton_firm):
    classify_suppliers()
    assert tag(luton_firm, "locality", council).value == "local"
    assert tag(luton_firm, "locality", other_council).value == "uk"
    assert "LU2" in tag(luton_firm, "locality", council).evidence


def test_size_vcse_and_living_wage_belong_to_the_supplier(luton_firm):
    classify_suppliers()
    assert tag(luton_firm, "size").value == "small"
    assert tag(luton_firm, "vcse").value == "no"
    assert tag(luton_firm, "living_wage").value == "unknown"
    assert SupplierTag.objects.filter(supplier=luton_firm).count() == 5


def test_a_supplier_no_council_deals_with_gets_no_location(make_supplier, council):
    stranger = make_supplier(name="Stranger Ltd", postcode="LU1 1AA")
    classify_suppliers()
    assert not SupplierTag.objects.filter(supplier=stranger, kind="locality").exists()
    assert SupplierTag.objects.filter(supplier=stranger, kind="size").exists()


def test_running_twice_changes_nothing_and_writes_no_history(luton_firm):
    classify_suppliers()
    before = SupplierTag.history.count()
    result = classify_suppliers()
    assert (result.created, result.changed) == (0, 0)
    assert SupplierTag.history.count() == before


def test_new_facts_change_the_tag_and_history_keeps_both(luton_firm, council):
    classify_suppliers()
    luton_firm.postcode = "M1 1AA"
    luton_firm.save()
    classify_suppliers()
    assert tag(luton_firm, "locality", council).value == "uk"
    values = list(
        SupplierTag.history.filter(
            supplier_id=luton_firm.pk, kind="locality", council_id=council.pk
        )
        .order_by("history_date")
        .values_list("value", flat=True)
    )
    assert values == ["local", "uk"]


def test_an_override_wins_and_survives_reclassification(
    luton_firm, council, council_officer
):
    classify_suppliers()
    TagOverride.objects.create(
        supplier=luton_firm,
        kind="size",
        value="medium",
        reason="Accounts for 2025 show 80 staff",
        created_by=council_officer,
    )
    classify_suppliers()
    size = tag(luton_firm, "size")
    assert (size.value, size.source) == ("medium", "officer_override")
    assert "80 staff" in size.evidence and "bob-officer" in size.evidence
    luton_firm.employees = 3
    luton_firm.save()
    classify_suppliers()
    assert tag(luton_firm, "size").value == "medium"


def test_an_officer_overrides_a_tag_with_a_reason_through_the_page(
    client, council_officer, council, luton_firm
):
    classify_suppliers()
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "locality"]
    )
    response = client.post(url, {"value": "wider"})
    assertContains(response, "Enter the reason for the override")
    response = client.post(
        url, {"value": "wider", "reason": "Trades from Dunstable depot"}
    )
    assert response.status_code == 302
    assert tag(luton_firm, "locality", council).value == "wider"
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, luton_firm.pk])
    )
    assertContains(page, "Trades from Dunstable depot")
    assertContains(page, "Officer decision")


def test_removing_the_override_lets_the_rules_decide_again(
    client, council_officer, council, luton_firm
):
    classify_suppliers()
    TagOverride.objects.create(
        supplier=luton_firm,
        council=council,
        kind="locality",
        value="wider",
        reason="Depot",
        created_by=council_officer,
    )
    classify_suppliers()
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override-remove",
        args=[council.slug, luton_firm.pk, "locality"],
    )
    client.post(url)
    assert not TagOverride.objects.exists()
    assert tag(luton_firm, "locality", council).value == "local"
    assert TagOverride.history.filter(history_type="-").exists()


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_only_officers_may_override(client, role_users, council, luton_firm, role):
    client.force_login(role_users[role])
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "size"]
    )
    assert (
        client.post(url, {"value": "large", "reason": "because I say so"}).status_code
        == 403
    )
    assert not TagOverride.objects.exists()


def test_an_unknown_tag_kind_is_404(client, council_officer, council, luton_firm):
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "colour"]
    )
    assert client.get(url).status_code == 404


def test_the_supplier_page_explains_every_tag(client, viewer, council, luton_firm):
    classify_suppliers()
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, luton_firm.pk])
    )
    assertContains(page, "Local")
    assertContains(page, "Small business")
    assertContains(page, "Living Wage status unknown")
    assert b"Override" not in page.content  # a viewer cannot change tags
