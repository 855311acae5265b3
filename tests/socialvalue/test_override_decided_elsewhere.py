"""Security review: an officer at one council removed a size decision another
council's officer had made on a supplier both pay, and with it moved the first
council's SME share. Decisions on what every council shares (size, VCSE, Living
Wage) can now be changed or removed only by the officer who made them or by a
LocalSpend administrator; location decisions are each council's own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from socialvalue.models import TagOverride
from socialvalue.tagging import classify_suppliers

REFUSED = "can be changed or removed only by the officer who made it"


@pytest.fixture
def shared(council, other_council, council_officer, make_supplier, make_line):
    """A supplier both councils pay, with Luton's officer's size decision."""
    supplier = make_supplier(name="Thornbury Training Ltd", employees=400)
    make_line(council, supplier=supplier)
    make_line(other_council, supplier=supplier)
    override = TagOverride.objects.create(
        supplier=supplier,
        kind="size",
        value="small",
        reason="Checked the accounts: 40 staff, not 400",
        created_by=council_officer,
    )
    classify_suppliers(supplier_ids=[supplier.pk])
    return supplier, override


def _url(council, supplier, name="socialvalue:tag-override", kind="size"):
    return reverse(name, args=[council.slug, supplier.pk, kind])


def test_another_councils_officer_cannot_remove_or_change_the_decision(
    client, other_council, other_council_officer, shared
):
    supplier, override = shared
    client.force_login(other_council_officer)
    page = client.get(_url(other_council, supplier))
    assert page.status_code == 200
    text = page.content.decode()
    assert REFUSED in text
    assert "Save decision" not in text
    assert "Remove the override" not in text

    removed = client.post(
        _url(other_council, supplier, "socialvalue:tag-override-remove"),
        {"remove-reason": "Not small at all"},
    )
    changed = client.post(
        _url(other_council, supplier), {"value": "large", "reason": "Not small"}
    )
    for response in (removed, changed):
        assert response.status_code == 403
        assert REFUSED in response.content.decode()
    override.refresh_from_db()
    assert override.value == "small"
    assert override.reason == "Checked the accounts: 40 staff, not 400"


def test_the_officer_who_made_it_and_their_colleagues_can(
    client, council, council_admin, shared
):
    supplier, override = shared
    client.force_login(council_admin)  # Luton's: the decision was made there
    response = client.post(
        _url(council, supplier), {"value": "large", "reason": "Filed accounts: 400"}
    )
    assert response.status_code == 302
    override.refresh_from_db()
    assert override.value == "large"


def test_a_localspend_administrator_can(
    client, other_council, shared, django_user_model
):
    supplier, override = shared
    root = django_user_model.objects.create_superuser(
        "root-admin", password="a-long-password-1"
    )
    client.force_login(root)
    response = client.post(
        _url(other_council, supplier, "socialvalue:tag-override-remove"),
        {"remove-reason": "Agreed with both councils"},
    )
    assert response.status_code == 302
    assert not TagOverride.objects.filter(pk=override.pk).exists()


def test_location_decisions_are_each_councils_own(
    client, council, other_council, council_officer, other_council_officer, shared
):
    supplier, _ = shared
    TagOverride.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value="local",
        reason="Their depot is in Luton",
        created_by=council_officer,
    )
    client.force_login(other_council_officer)
    response = client.post(
        _url(other_council, supplier, kind="locality"),
        {"value": "wider", "reason": "Merseyside office"},
    )
    assert response.status_code == 302
    assert TagOverride.objects.get(council=other_council).value == "wider"
    assert TagOverride.objects.get(council=council).value == "local"


def test_a_leavers_decision_can_still_be_changed_by_their_council(
    client, council, council_admin, council_officer, shared
):
    """Review: once its maker left the council, no one could change it."""
    from councils.models import Membership

    supplier, override = shared
    Membership.objects.get(user=council_officer, council=council).delete()
    client.force_login(council_admin)
    response = client.post(
        _url(council, supplier), {"value": "large", "reason": "Filed accounts: 400"}
    )
    assert response.status_code == 302
    override.refresh_from_db()
    assert override.value == "large"


def test_a_decision_by_someone_who_was_also_at_another_council_is_held(
    client, council, other_council, council_admin, council_officer, shared
):
    from councils.models import Membership

    supplier, override = shared
    Membership.objects.create(
        user=council_officer, council=other_council, role="viewer"
    )
    Membership.objects.get(user=council_officer, council=other_council).delete()
    client.force_login(council_admin)
    response = client.post(
        _url(council, supplier), {"value": "large", "reason": "Filed accounts: 400"}
    )
    assert response.status_code == 403
